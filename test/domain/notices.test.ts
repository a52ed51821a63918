import { sql } from 'drizzle-orm';
import { ManualClock } from '../../src/clock';
import { queryRows } from '../../src/db';
import { notices, users } from '../../src/db/schema';
import { DomainError } from '../../src/domain/errors';
import { FAN_OUT_CHUNK, NOTICE_CAPTION_TEXT_MAX, NOTICE_TEXT_MAX, type NoticeDraft, sendNotice } from '../../src/domain/notices';
import { actorOf } from '../../src/domain/permissions';
import { createTestDb, resetTestDb, type TestDatabase } from '../helpers/db';

let handle: TestDatabase;
const clock = new ManualClock('2026-03-02T10:00:00+01:00');

beforeAll(async () => {
  handle = await createTestDb();
  await resetTestDb(handle);
});
afterAll(async () => {
  await handle.close();
});

describe('sendNotice', () => {
  it.each([
    ['with a photo', NOTICE_CAPTION_TEXT_MAX, { type: 'photo', fileId: 'photo-1' } as const, 'notices.errors.tooLongForMedia'],
    ['without media', NOTICE_TEXT_MAX, null, 'notices.errors.tooLong'],
  ])('refuses a text that is too long %s, with the limit for the message', async (_case, max, media, key) => {
    const now = clock.now();
    const [author] = await handle.db
      .insert(users)
      .values({ telegramId: 9_000 + max, firstName: 'Anke', locale: 'de', role: 'staff', organisation: 'Caritas', createdAt: now, lastSeenAt: now })
      .returning();
    const draft: NoticeDraft = { audience: 'everyone', districts: [], languages: [], texts: { de: 'x'.repeat(max + 1) }, media };
    const refusal = await sendNotice(handle.db, clock, actorOf(author!), draft, { chatId: 1, messageId: 1 }).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(DomainError);
    expect(refusal).toMatchObject({ key, params: { max } });
    expect(await handle.db.select().from(notices)).toEqual([]);
  });

  it('queues everyone of an audience larger than one chunk of the fan-out exactly once, and nobody else', async () => {
    const now = clock.now();
    const [author] = await handle.db
      .insert(users)
      .values({ telegramId: 8_999, firstName: 'Amt', locale: 'de', role: 'staff', organisation: 'Stadt', createdAt: now, lastSeenAt: now })
      .returning();
    // Two chunks and a bit of seekers in Hamborn, with helpers (not in the audience) between them in id order.
    const seekers = 2 * FAN_OUT_CHUNK + 7;
    await handle.db.execute(sql`insert into users (telegram_id, first_name, locale, role, district, created_at, last_seen_at)
      select 20000000 + g, 'P', 'uk', case when g % 3 = 0 then 'helper' else 'seeker' end, 'hamborn', ${now}, ${now}
      from generate_series(1, ${Math.ceil((seekers * 3) / 2) + 3}) g`);
    const [expected] = await queryRows<{ n: number }>(handle.db, sql`select count(*)::int as n from users where role = 'seeker' and telegram_id >= 20000000`);
    expect(expected!.n).toBeGreaterThan(2 * FAN_OUT_CHUNK);
    const draft: NoticeDraft = { audience: 'seekers', districts: ['hamborn'], languages: [], texts: { uk: 'Оголошення для всіх.' } };
    const notice = await sendNotice(handle.db, clock, actorOf(author!), draft, { chatId: 1, messageId: 1 });
    expect(notice.recipientCount).toBe(expected!.n);
    const [rows] = await queryRows<{ n: number; people: number; wrong: number }>(
      handle.db,
      sql`select count(*)::int as n, count(distinct o.user_id)::int as people,
        count(*) filter (where u.role <> 'seeker' or u.telegram_id <> o.chat_id)::int as wrong
        from outbox o join users u on u.id = o.user_id where o.notice_id = ${notice.id}`,
    );
    expect(rows).toEqual({ n: expected!.n, people: expected!.n, wrong: 0 });
  });
});
