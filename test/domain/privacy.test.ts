import { eq } from 'drizzle-orm';
import { ManualClock } from '../../src/clock';
import { contacts, outbox, posts, type PostStatus, relayMessages, users } from '../../src/db/schema';
import { createRetentionSweep, eraseExpiredTexts } from '../../src/domain/privacy';
import { runSweep } from '../../src/domain/sweeps';
import { createTestDb, resetTestDb, type TestDatabase } from '../helpers/db';

const RETENTION_DAYS = 90;
const DAY = 86_400_000;

let handle: TestDatabase;
let clock: ManualClock;
beforeAll(async () => {
  handle = await createTestDb();
});
beforeEach(async () => {
  await resetTestDb(handle);
  clock = new ManualClock('2026-06-01T10:00:00Z');
});
afterAll(async () => {
  await handle.close();
});

const daysAgo = (days: number) => new Date(clock.now().getTime() - days * DAY);

async function person(telegramId: number, firstName: string): Promise<number> {
  const [row] = await handle.db.insert(users).values({ telegramId, firstName, locale: 'de', role: 'seeker', createdAt: daysAgo(400), lastSeenAt: daysAgo(1) }).returning();
  return row!.id;
}

/** A post that ended (or not) `endedDaysAgo` days ago. */
async function postEnded(authorId: number, status: PostStatus, endedDaysAgo: number, text: string, options: { closedAt?: boolean } = {}): Promise<number> {
  const ended = daysAgo(endedDaysAgo);
  const [row] = await handle.db
    .insert(posts)
    .values({
      authorId,
      kind: 'need',
      category: 'housing',
      district: 'hamborn',
      text,
      photoFileId: `photo-${text.length}-${endedDaysAgo}`,
      textHash: `hash-${text}`,
      language: 'de',
      status,
      createdAt: daysAgo(endedDaysAgo + 10),
      publishedAt: daysAgo(endedDaysAgo + 10),
      updatedAt: ended,
      expiresAt: daysAgo(endedDaysAgo - 4),
      closedAt: options.closedAt === false ? null : ended,
    })
    .returning();
  return row!.id;
}

async function relayed(contactId: number, senderId: number, recipientId: number, createdDaysAgo: number, text: string): Promise<number> {
  const [row] = await handle.db
    .insert(relayMessages)
    .values({ contactId, senderId, recipientId, text, photoFileId: `relay-photo-${createdDaysAgo}`, sourceMessageId: 7, createdAt: daysAgo(createdDaysAgo) })
    .returning();
  return row!.id;
}

async function queued(userId: number, status: 'sent' | 'cancelled' | 'unreachable' | 'failed' | 'digested' | 'pending' | 'deferred', createdDaysAgo: number): Promise<number> {
  const [row] = await handle.db
    .insert(outbox)
    .values({ userId, chatId: 1000 + userId, priority: 1, kind: 'post.notify', status, notBefore: daysAgo(createdDaysAgo), createdAt: daysAgo(createdDaysAgo) })
    .returning();
  return row!.id;
}

describe('retention: eraseExpiredTexts', () => {
  it('erases texts and photos older than RETENTION_DAYS, keeps newer ones and active posts, and is idempotent', async () => {
    const anna = await person(1001, 'Anna');
    const bernd = await person(1002, 'Bernd');

    const oldClosed = await postEnded(anna, 'closed', 91, 'Alte geschlossene Anfrage');
    const oldFulfilled = await postEnded(anna, 'fulfilled', 120, 'Alte erfüllte Anfrage');
    const oldExpired = await postEnded(anna, 'expired', 95, 'Alte abgelaufene Anfrage');
    const oldRemoved = await postEnded(anna, 'removed', 200, 'Entfernte Anfrage');
    // Without closed_at, updated_at decides.
    const oldNoClosedAt = await postEnded(anna, 'closed', 100, 'Ohne closed_at', { closedAt: false });
    const recentClosed = await postEnded(anna, 'closed', 89, 'Neue geschlossene Anfrage');
    // Active posts keep their texts however old they are (a renewed post can be old).
    const oldOpen = await postEnded(anna, 'open', 300, 'Offene alte Anfrage', { closedAt: false });
    const oldInContact = await postEnded(bernd, 'in_contact', 300, 'Anfrage im Kontakt', { closedAt: false });

    const [contact] = await handle.db
      .insert(contacts)
      .values({ postId: oldInContact, authorId: bernd, responderId: anna, status: 'accepted', createdAt: daysAgo(150), respondedAt: daysAgo(150) })
      .returning();
    const oldRelay = await relayed(contact!.id, anna, bernd, 91, 'Alte Nachricht');
    const recentRelay = await relayed(contact!.id, bernd, anna, 30, 'Neue Nachricht');

    const oldSent = await queued(bernd, 'sent', 91);
    const oldCancelled = await queued(bernd, 'cancelled', 100);
    const oldUnreachable = await queued(bernd, 'unreachable', 100);
    const oldFailed = await queued(bernd, 'failed', 100);
    const oldDigested = await queued(bernd, 'digested', 100);
    const oldPending = await queued(bernd, 'pending', 100);
    const oldDeferred = await queued(bernd, 'deferred', 100);
    const recentSent = await queued(bernd, 'sent', 10);

    const changed = await eraseExpiredTexts(handle.db, clock, RETENTION_DAYS);
    expect(changed).toBe(5 + 1 + 5);

    const byId = new Map((await handle.db.select().from(posts)).map((p) => [p.id, p]));
    for (const id of [oldClosed, oldFulfilled, oldExpired, oldRemoved, oldNoClosedAt]) {
      expect(byId.get(id)).toMatchObject({ text: null, photoFileId: null, textHash: null, erasedAt: clock.now() });
    }
    for (const id of [recentClosed, oldOpen, oldInContact]) {
      expect(byId.get(id)).toMatchObject({ text: expect.any(String), photoFileId: expect.any(String), erasedAt: null });
    }
    expect(byId.get(oldClosed)?.status).toBe('closed');

    const relays = new Map((await handle.db.select().from(relayMessages)).map((r) => [r.id, r]));
    expect(relays.get(oldRelay)).toMatchObject({ text: null, photoFileId: null, erasedAt: clock.now(), sourceMessageId: 7 });
    expect(relays.get(recentRelay)).toMatchObject({ text: 'Neue Nachricht', erasedAt: null });

    const left = new Set((await handle.db.select({ id: outbox.id }).from(outbox)).map((r) => r.id));
    for (const id of [oldSent, oldCancelled, oldUnreachable, oldFailed, oldDigested]) expect(left.has(id)).toBe(false);
    for (const id of [oldPending, oldDeferred, recentSent]) expect(left.has(id)).toBe(true);

    // Idempotent: a second run at the same time changes nothing and keeps the first erased_at.
    const erasedAt = clock.now();
    clock.advanceHours(1);
    expect(await eraseExpiredTexts(handle.db, clock, RETENTION_DAYS)).toBe(0);
    const [again] = await handle.db.select().from(posts).where(eq(posts.id, oldClosed));
    expect(again?.erasedAt).toEqual(erasedAt);

    // Time moves on: the recent ones reach the limit too, active posts still do not.
    clock.advanceDays(2);
    expect(await eraseExpiredTexts(handle.db, clock, RETENTION_DAYS)).toBe(1);
    expect((await handle.db.select().from(posts).where(eq(posts.id, recentClosed)))[0]?.text).toBeNull();
    expect((await handle.db.select().from(posts).where(eq(posts.id, oldOpen)))[0]?.text).toBe('Offene alte Anfrage');
  });

  it('follows the configured number of days and runs as a guarded sweep', async () => {
    const anna = await person(1001, 'Anna');
    const tenDays = await postEnded(anna, 'expired', 10, 'Vor zehn Tagen abgelaufen');
    const fiveDays = await postEnded(anna, 'expired', 5, 'Vor fünf Tagen abgelaufen');

    expect(await runSweep(handle.db, clock, 'erase-expired-texts', createRetentionSweep(7))).toBe(1);
    expect(await runSweep(handle.db, clock, 'erase-expired-texts', createRetentionSweep(7))).toBe(0);
    const rows = new Map((await handle.db.select().from(posts)).map((p) => [p.id, p.text]));
    expect(rows.get(tenDays)).toBeNull();
    expect(rows.get(fiveDays)).toBe('Vor fünf Tagen abgelaufen');
  });
});
