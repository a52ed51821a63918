import { eq } from 'drizzle-orm';
import { ManualClock } from '../../src/clock';
import { blocks, notifications, outbox, posts, subscriptions, users } from '../../src/db/schema';
import { findRecipients, routePost } from '../../src/domain/matching';
import { createTestDb, resetTestDb, type TestDatabase } from '../helpers/db';

let db: TestDatabase;
const clock = new ManualClock('2026-03-02T10:00:00+01:00');
const ctx = { clock, timeZone: 'Europe/Berlin', quietHours: { start: 22 * 60, end: 7 * 60 } };

beforeAll(async () => {
  db = await createTestDb();
});
beforeEach(async () => {
  await resetTestDb(db);
});
afterAll(async () => {
  await db.close();
});

let nextTelegramId = 1000;
async function user(values: Partial<typeof users.$inferInsert> = {}): Promise<number> {
  const now = clock.now();
  const [row] = await db.db
    .insert(users)
    .values({ telegramId: nextTelegramId++, firstName: 'X', locale: 'de', role: 'helper', createdAt: now, lastSeenAt: now, ...values })
    .returning({ id: users.id });
  return row!.id;
}

async function subscribe(userId: number, kind: 'need' | 'offer', category: string, district: string): Promise<void> {
  await db.db.insert(subscriptions).values({ userId, kind, category, district });
}

async function newPost(authorId: number, kind: 'need' | 'offer', category: string, district: string) {
  const now = clock.now();
  const [row] = await db.db
    .insert(posts)
    .values({ authorId, kind, category, district, text: 'text of the post', language: 'uk', status: 'open', createdAt: now, updatedAt: now, publishedAt: now, expiresAt: now })
    .returning();
  return row!;
}

describe('matcher', () => {
  it('finds exactly the covering subscriptions, minus author, banned, deleted, unreachable, paused and blocked', async () => {
    const author = await user({ role: 'seeker' });
    const exact = await user();
    const wholeCity = await user();
    const overlapping = await user(); // hamborn and whole city: once
    const otherDistrict = await user();
    const otherCategory = await user();
    const banned = await user({ bannedAt: clock.now() });
    const deleted = await user({ deletedAt: clock.now() });
    const blockedBot = await user({ blockedAt: clock.now() });
    const paused = await user({ notificationsPaused: true });
    const blockedByAuthor = await user();
    const blockerOfAuthor = await user();
    for (const u of [exact, banned, deleted, blockedBot, paused, blockedByAuthor, blockerOfAuthor]) await subscribe(u, 'need', 'housing', 'hamborn');
    await subscribe(wholeCity, 'need', 'housing', '*');
    await subscribe(overlapping, 'need', 'housing', 'hamborn');
    await subscribe(overlapping, 'need', 'housing', '*');
    await subscribe(otherDistrict, 'need', 'housing', 'mitte');
    await subscribe(otherCategory, 'need', 'health', 'hamborn');
    await subscribe(author, 'need', 'housing', 'hamborn');
    await subscribe(await user(), 'offer', 'housing', 'hamborn'); // subscribed to offers, not needs
    await db.db.insert(blocks).values([
      { blockerId: author, blockedId: blockedByAuthor, createdAt: clock.now() },
      { blockerId: blockerOfAuthor, blockedId: author, createdAt: clock.now() },
    ]);

    const need = await newPost(author, 'need', 'housing', 'hamborn');
    expect(await findRecipients(db.db, need, clock.now())).toEqual([exact, wholeCity, overlapping].sort((a, b) => a - b));
    expect(await routePost(db.db, ctx, need)).toBe(3);
    // Routing again (an edit, a renewal) tells nobody twice.
    expect(await routePost(db.db, ctx, need)).toBe(0);
    expect(await db.db.select().from(notifications)).toHaveLength(3);
    expect(await db.db.select().from(outbox)).toHaveLength(3);
  });

  it('routes a whole-city post to the category’s subscribers in every district', async () => {
    const author = await user({ role: 'seeker' });
    const a = await user();
    const b = await user();
    await subscribe(a, 'need', 'pets', 'walsum');
    await subscribe(b, 'need', 'pets', '*');
    await subscribe(await user(), 'need', 'housing', 'walsum');
    const need = await newPost(author, 'need', 'pets', '*');
    expect(await findRecipients(db.db, need, clock.now())).toEqual([a, b]);
  });

  it('routes an offer to seekers with a matching open need and to offer subscribers', async () => {
    const helper = await user();
    const seekerSameDistrict = await user({ role: 'seeker' });
    const seekerWholeCityNeed = await user({ role: 'seeker' });
    const seekerOtherDistrict = await user({ role: 'seeker' });
    const seekerClosedNeed = await user({ role: 'seeker' });
    const subscriber = await user({ role: 'seeker' });
    await newPost(seekerSameDistrict, 'need', 'donations', 'mitte');
    await newPost(seekerWholeCityNeed, 'need', 'donations', '*');
    await newPost(seekerOtherDistrict, 'need', 'donations', 'walsum');
    const closed = await newPost(seekerClosedNeed, 'need', 'donations', 'mitte');
    await db.db.update(posts).set({ status: 'fulfilled' }).where(eq(posts.id, closed.id));
    await subscribe(subscriber, 'offer', 'donations', 'mitte');
    const offer = await newPost(helper, 'offer', 'donations', 'mitte');
    expect(await findRecipients(db.db, offer, clock.now())).toEqual([seekerSameDistrict, seekerWholeCityNeed, subscriber].sort((x, y) => x - y));
  });

  it('defers the outbox row to the end of quiet hours in the same statement', async () => {
    const author = await user({ role: 'seeker' });
    const sleeper = await user();
    const nightOwl = await user({ quietStart: 0, quietEnd: 0 });
    const custom = await user({ quietStart: 23 * 60, quietEnd: 6 * 60 });
    for (const u of [sleeper, nightOwl, custom]) await subscribe(u, 'need', 'housing', '*');
    clock.set('2026-03-02T22:30:00+01:00');
    await routePost(db.db, ctx, await newPost(author, 'need', 'housing', 'mitte'));
    const rows = await db.db.select().from(outbox).orderBy(outbox.userId);
    expect(rows.map((r) => [r.userId, r.notBefore.toISOString()])).toEqual([
      [sleeper, '2026-03-03T06:00:00.000Z'],
      [nightOwl, '2026-03-02T21:30:00.000Z'],
      [custom, '2026-03-02T21:30:00.000Z'],
    ]);
    clock.set('2026-03-02T10:00:00+01:00');
  });
});
