import { sql } from 'drizzle-orm';
import { notifications, outbox, posts } from '../../src/db/schema';
import { DEFAULT_USER_RATE_LIMIT } from '../../src/bot/middleware/rate-limit';
import { onboard, subscribe } from '../helpers/flows';
import { createHarness, type Harness, PEOPLE, useHarness } from '../helpers/harness';
import { verifyPeople } from '../helpers/verification';

const harness = useHarness();
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

describe('faults', () => {
  it('leaves nothing half-written when a transaction fails, and the user can simply try again', async () => {
    const olena = h.user(PEOPLE.olena);
    const jonas = h.user(PEOPLE.jonas);
    await onboard(jonas, 'helper', 'Hamborn');
    await subscribe(jonas, ['🏠 Wohnen'], ['Hamborn']);
    await verifyPeople(h, jonas); // housing is protected: verified helpers only
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await olena.send('/need');
    await olena.click('🏠 Житло');
    await olena.click('➡️ Гамборн (Hamborn) (ваш район)');
    await olena.send('Шукаю кімнату для себе й доньки.');
    await olena.click('➡️ Далі без фото');
    // The database refuses the outbox rows routing writes: the post must not exist without them.
    await h.db.db.execute(sql.raw(`create or replace function hn_fail() returns trigger language plpgsql as $$ begin raise exception 'simulated failure'; end $$`));
    await h.db.db.execute(sql.raw('create trigger hn_fail before insert on outbox for each row execute function hn_fail()'));
    try {
      const failed = await olena.click('✅ Опублікувати');
      expect(failed.answer).toEqual({ text: expect.stringContaining('Щось пішло не так'), showAlert: true });
      expect(await h.db.db.select().from(posts)).toHaveLength(0);
      expect(await h.db.db.select().from(notifications)).toHaveLength(0);
    } finally {
      await h.db.db.execute(sql.raw('drop trigger hn_fail on outbox'));
      await h.db.db.execute(sql.raw('drop function hn_fail()'));
    }
    // Nothing typed was lost: the same button publishes now.
    await olena.click('✅ Опублікувати');
    expect(olena.last.text).toContain('Опубліковано!');
    expect(await h.db.db.select().from(posts)).toHaveLength(1);
    expect(await h.db.db.select().from(outbox)).toHaveLength(1);
  });

  it('retries replies when Telegram answers 429, 5xx or times out; the user still gets an answer', async () => {
    const irina = h.user(PEOPLE.irina);
    h.telegram.failNext('sendMessage', 429, 'Too Many Requests: retry after 1', { retryAfter: 1 });
    const started = Date.now();
    expect((await irina.send('/help')).sent.map((m) => m.text)).toEqual([expect.stringContaining('Hilfenetz — как это работает')]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    h.telegram.failNext('sendMessage', 502, 'Bad Gateway');
    expect((await irina.send('/help')).sent).toHaveLength(1);
    // A call that hangs past the client timeout is tried again.
    const slow = await h.restart({ client: { fetch: h.telegram.fetch, timeoutSeconds: 1 } });
    h.telegram.delayNext('sendMessage', 1_500);
    const reaction = await slow.user(PEOPLE.irina).send('/help');
    expect(reaction.sent.length).toBeGreaterThanOrEqual(1);
  });

  it('slows a flooding user down and warns them once; others are served as before', async () => {
    const flood = await createHarness({ db: h.db, bot: { userRateLimit: DEFAULT_USER_RATE_LIMIT } });
    const spammer = flood.user(PEOPLE.alex);
    const olena = flood.user(PEOPLE.olena);
    const replies: string[] = [];
    for (let i = 0; i < 40; i++) replies.push(...(await spammer.send(`/help ${i}`)).sent.map((m) => m.text));
    const warnings = replies.filter((t) => t.startsWith('🐢'));
    expect(warnings).toHaveLength(1);
    expect(replies.length).toBeLessThanOrEqual(DEFAULT_USER_RATE_LIMIT.limit + 1);
    expect((await olena.send('/help')).sent.map((m) => m.text)).toEqual([expect.stringContaining('Hilfenetz — як це працює')]);
  });
});
