import { ManualClock } from '../../src/clock';
import { notices, users } from '../../src/db/schema';
import { DomainError } from '../../src/domain/errors';
import { NOTICE_CAPTION_TEXT_MAX, NOTICE_TEXT_MAX, type NoticeDraft, sendNotice } from '../../src/domain/notices';
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
});
