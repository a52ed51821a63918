import { eq } from 'drizzle-orm';
import { posts, sessionLeases, sessions } from '../../src/db/schema';
import { onboard } from '../helpers/flows';
import { type Harness, PEOPLE, type Reaction, type TestUser, useHarness } from '../helpers/harness';
import type { Persona } from '../helpers/updates';

// Like two webhook processes behind a load balancer: two bot instances (each with its own per-process
// `sequentialize`) on one database, with Telegram answering after a network round trip.
const harness = useHarness({ telegram: { latencyMs: 25 } });
let a: Harness;
let b: Harness;
/** Who pressed each button, to tell which chat an answerCallbackQuery belongs to. */
const pressedBy = new Map<string, number>();
beforeEach(async () => {
  a = harness.current;
  b = await a.restart();
  for (const h of [a, b]) {
    const handle = h.handle.bind(h);
    h.handle = (update) => {
      if (update.callback_query) pressedBy.set(update.callback_query.id, update.callback_query.from.id);
      return handle(update);
    };
  }
});

const HAMBORN_UK = 'Гамборн (Hamborn)';
const HOME_DISTRICT_UK = '➡️ Гамборн (Hamborn) (ваш район)';
const BUTTONS_EXPECTED_UK = 'Будь ласка, оберіть варіант кнопками нижче. Скасувати: /cancel';

/** The same person as seen by the other instance (the chat and its messages are shared). */
function on(instance: Harness, user: TestUser): TestUser {
  return instance.user(user.persona);
}

/**
 * Starts an action of `user` without awaiting it and returns once the handling instance has called
 * Telegram about their chat, i.e. it is in the middle of the handler: the moment a fast second update
 * reaches the other process.
 */
async function startedOn(h: Harness, user: TestUser, action: (user: TestUser) => Promise<Reaction>): Promise<{ done: Promise<Reaction> }> {
  const before = h.telegram.calls.length;
  const done = action(on(h, user));
  const deadline = Date.now() + 5_000;
  const aboutUser = (payload: Record<string, unknown>) =>
    Number(payload.chat_id) === user.id || pressedBy.get(String(payload.callback_query_id)) === user.id;
  while (!h.telegram.calls.slice(before).some((c) => aboutUser(c.payload))) {
    if (Date.now() > deadline) throw new Error('the first update never reached Telegram');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  // Wrapped: an async function returning the promise itself would wait for it.
  return { done };
}

async function storedDialog(user: TestUser): Promise<{ name: string; step: string } | undefined> {
  const [row] = await a.db.db.select().from(sessions).where(eq(sessions.key, String(user.id)));
  return (row?.value as { dialog?: { name: string; step: string } } | undefined)?.dialog;
}

async function needUntilDistrict(user: TestUser): Promise<void> {
  await on(a, user).send('/need');
  await on(b, user).click('🏠 Житло');
}

describe('one chat, updates alternating between two processes', () => {
  it('keeps a description typed right after the district button (button to A, text to B)', async () => {
    const olena = a.user(PEOPLE.olena);
    await onboard(olena, 'seeker', HAMBORN_UK);
    await needUntilDistrict(olena);

    const district = await startedOn(a, olena, (u) => u.click(HOME_DISTRICT_UK));
    const text = on(b, olena).send('Шукаю кімнату для мене й доньки з квітня.');
    const [, typed] = await Promise.all([district.done, text]);

    expect(typed.sent.filter((m) => m.text.startsWith(BUTTONS_EXPECTED_UK))).toEqual([]);
    expect(olena.last.text).toContain('Бажаєте додати фото?');
    expect(await storedDialog(olena)).toMatchObject({ name: 'post', step: 'photo' });
    await on(b, olena).click('➡️ Далі без фото');
    expect(olena.last.text).toContain('Шукаю кімнату для мене й доньки з квітня.');
  });

  it('starts /need sent right after the last onboarding button (button to A, /need to B)', async () => {
    const irina = a.user(PEOPLE.irina);
    await on(a, irina).send('/start');
    await on(b, irina).click('🙋 Мне нужна помощь');
    // The last onboarding step also sets her command menu: it finishes after /need has been handled.
    a.telegram.delayNext('setMyCommands', 200);
    const district = await startedOn(a, irina, (u) => u.click('Хамборн (Hamborn)'));
    const need = on(b, irina).send('/need');
    await Promise.all([district.done, need]);

    expect(await storedDialog(irina)).toMatchObject({ name: 'post', step: 'category' });
    await on(a, irina).click('🗣 Устный перевод');
    expect(irina.last.text).toContain('(2/4)');
  });

  it('publishes a double-tapped "publish" once and closes the dialog', async () => {
    const olena = a.user(PEOPLE.olena);
    await onboard(olena, 'seeker', HAMBORN_UK);
    await needUntilDistrict(olena);
    await on(a, olena).click(HOME_DISTRICT_UK);
    await on(b, olena).send('Шукаю кімнату для мене й доньки з квітня.');
    await on(a, olena).click('➡️ Далі без фото');

    // Both taps reach Telegram at once; the load balancer gives one to each process.
    const preview = olena.last;
    await Promise.all([on(a, olena).click('✅ Опублікувати', preview), on(b, olena).click('✅ Опублікувати', preview)]);

    expect(await a.db.db.select().from(posts)).toHaveLength(1);
    expect(await storedDialog(olena)).toBeUndefined();
    // The dialog no longer catches what she writes next.
    const later = await on(b, olena).send('Дякую!');
    expect(later.sent.filter((m) => m.text.startsWith(BUTTONS_EXPECTED_UK))).toEqual([]);
  });

  it('lets fast users publish their needs through two processes: everyone, once', async () => {
    const people: Persona[] = Array.from({ length: 12 }, (_, i) => ({ id: 380_700 + i, first_name: `Олена ${i}`, language_code: 'uk' }));
    const flow = async (persona: Persona) => {
      const user = a.user(persona);
      await onboard(user, 'seeker', HAMBORN_UK);
      await needUntilDistrict(user);
      const district = await startedOn(a, user, (u) => u.click(HOME_DISTRICT_UK));
      await Promise.all([district.done, on(b, user).send(`Шукаю житло для сім'ї, запит номер ${persona.id}.`)]);
      await on(a, user).click('➡️ Далі без фото');
      const preview = user.last;
      await Promise.all([on(b, user).click('✅ Опублікувати', preview), on(a, user).click('✅ Опублікувати', preview)]);
    };
    await Promise.all(people.map(flow));

    const published = await a.db.db.select({ authorId: posts.authorId, text: posts.text }).from(posts);
    expect(published).toHaveLength(people.length);
    expect(new Set(published.map((p) => p.text))).toEqual(new Set(people.map((p) => `Шукаю житло для сім'ї, запит номер ${p.id}.`)));
    for (const persona of people) expect(await storedDialog(a.user(persona))).toBeUndefined();
  });
});

describe('when the chat lease does not help', () => {
  const CONFLICT_UK = '⏳ Це надійшло надто швидко після попередньої дії й не збереглося. Будь ласка, спробуйте ще раз.';

  it('asks to try again when the chat stays taken longer than it waits, and goes on once the lease ran out', async () => {
    const olena = a.user(PEOPLE.olena);
    await onboard(olena, 'seeker', HAMBORN_UK);
    // Another process holds the chat; the test's clock stands still, so the lease does not run out.
    await a.db.db.insert(sessionLeases).values({ key: String(olena.id), owner: 'another-process', until: new Date(a.clock.now().getTime() + 5_000) });

    const started = Date.now();
    const refused = await on(b, olena).send('/need');
    expect(Date.now() - started).toBeGreaterThanOrEqual(6_000);
    expect(refused.sent.map((m) => m.text)).toEqual(['⏳ Хвилинку — я ще виконую вашу попередню дію. Будь ласка, спробуйте ще раз за мить.']);

    a.clock.advance(5_001);
    await on(b, olena).send('/need');
    expect(await storedDialog(olena)).toMatchObject({ name: 'post', step: 'category' });
  });

  it('keeps the newer session when a lease ran out under a slow update, and says so', async () => {
    const olena = a.user(PEOPLE.olena);
    await onboard(olena, 'seeker', HAMBORN_UK);
    await needUntilDistrict(olena);
    // A hangs in a call to Telegram past its lease; meanwhile B takes the chat over and she cancels.
    a.telegram.delayNext('editMessageText', 300);
    const district = await startedOn(a, olena, (u) => u.click(HOME_DISTRICT_UK));
    a.clock.advance(5_001);
    expect((await on(b, olena).send('/cancel')).sent.map((m) => m.text)).toEqual(['✖️ Скасовано. Нічого не збережено. Що бажаєте зробити? /help']);

    // The button's empty answer waited for the end of the update, so the refusal is its alert.
    expect((await district.done).answer).toEqual({ text: CONFLICT_UK, showAlert: true });
    expect(await storedDialog(olena)).toBeUndefined();
    const [row] = await a.db.db.select().from(sessions).where(eq(sessions.key, String(olena.id)));
    expect(row?.value).toEqual({});
  });
});
