import { ManualClock } from '../../src/clock';
import { notifications, posts, users, type UserRow } from '../../src/db/schema';
import { collectHelperLoad } from '../../src/domain/helper-load';
import type { Actor } from '../../src/domain/permissions';
import { replaceSubscriptions } from '../../src/domain/subscriptions';
import { catchUpHelperStats } from '../../src/domain/waves';
import { createTestDb, resetTestDb, type TestDatabase } from '../helpers/db';

const DAY = 86_400_000;
const COORDINATOR: Actor = { userId: 1, role: 'coordinator', banned: false, organisation: null, lotse: false };

let handle: TestDatabase;
let clock: ManualClock;
beforeAll(async () => {
  handle = await createTestDb();
});
beforeEach(async () => {
  await resetTestDb(handle);
  clock = new ManualClock('2026-03-04T10:00:00+01:00');
});
afterAll(async () => {
  await handle.close();
});

let nextTelegramId = 5000;
async function person(firstName: string): Promise<UserRow> {
  const now = clock.now();
  const [row] = await handle.db
    .insert(users)
    .values({ telegramId: nextTelegramId++, firstName, locale: 'de', role: 'helper', district: 'hamborn', createdAt: now, lastSeenAt: now, onboardedAt: now })
    .returning();
  return row!;
}

/** `count` needs, each told to `helper` `daysAgo` days ago (in wave 1), the first `offered` of them answered with an offer. */
async function told(helper: UserRow, count: number, daysAgo: number, offered = 0): Promise<void> {
  const at = new Date(clock.now().getTime() - daysAgo * DAY);
  for (let i = 0; i < count; i++) {
    const [post] = await handle.db
      .insert(posts)
      .values({ authorId: helper.id, kind: 'need', category: 'housing', district: 'hamborn', text: 'Eine Wohnung', language: 'de', status: 'open', createdAt: at, publishedAt: at, updatedAt: at, expiresAt: new Date(at.getTime() + 14 * DAY) })
      .returning();
    await handle.db.insert(notifications).values({ postId: post!.id, userId: helper.id, createdAt: at, wave: 1, response: i < offered ? 'offered' : null });
  }
}

describe('collectHelperLoad', () => {
  it('counts each helper’s notifications of the last 7 days, with helpers told nothing as 0, and their offer rate over 30 days', async () => {
    const subscribe = (u: UserRow) => replaceSubscriptions(handle.db, u.id, 'need', { categories: ['housing'], districts: ['hamborn'] });
    const idle = await person('Ruhig');
    const some = await person('Etwas');
    const busy = await person('Viel');
    const offersOnly = await person('NurAngebote');
    await Promise.all([idle, some, busy].map(subscribe));
    // offersOnly subscribes to offers, not needs: not a helper of the distribution, nor of the rate.
    await replaceSubscriptions(handle.db, offersOnly.id, 'offer', { categories: ['housing'], districts: ['hamborn'] });
    await told(some, 3, 2, 1); // 3 this week, one answered
    await told(some, 4, 10); // older than a week: not in the load, in the 30-day rate
    await told(busy, 16, 1, 2); // over the cap of 15
    await told(busy, 2, 40, 2); // older than 30 days: in nothing
    await told(offersOnly, 1, 3, 1);

    const load = await collectHelperLoad(handle.db, clock, COORDINATOR, 15);
    expect(load.helpers).toBe(3);
    const bucket = (from: number) => load.buckets.find((b) => b.from === from)?.helpers;
    expect(bucket(0)).toBe(1);
    expect(bucket(3)).toBe(1);
    expect(bucket(16)).toBe(1);
    expect(load.buckets.reduce((sum, b) => sum + b.helpers, 0)).toBe(3);
    expect(load.median).toBe(3);
    expect(load.max).toBe(16);
    expect(load.atCap).toBe(1);
    // 30 days: some 3 + 4, busy 16 = 23 told; 1 + 2 = 3 offers (the ranking's response records, summed).
    expect(load.offerRate).toBeCloseTo(3 / 23, 3);

    // Read from the statistics on the subscriptions once the sweep wrote them: the same distribution.
    await catchUpHelperStats(handle.db, clock.now());
    expect(await collectHelperLoad(handle.db, clock, COORDINATOR, 15)).toEqual(load);
    // Five days on, before any sweep: Etwas's three notifications have left the week, Viel's have not.
    clock.advance(5 * DAY + 1);
    const later = await collectHelperLoad(handle.db, clock, COORDINATOR, 15);
    expect(later.buckets.find((b) => b.from === 0)?.helpers).toBe(2);
    expect(later).toMatchObject({ helpers: 3, median: 0, max: 16, atCap: 1 });
    // Told once more since the last sweep: counted at once.
    await told(idle, 1, 0);
    const now = await collectHelperLoad(handle.db, clock, COORDINATOR, 15);
    expect(now.buckets.find((b) => b.from === 1)?.helpers).toBe(1);
    expect(now.buckets.find((b) => b.from === 0)?.helpers).toBe(1);
    expect(now).toMatchObject({ helpers: 3, median: 1, max: 16 });
    expect(now.offerRate).toBeCloseTo(3 / 24, 3);
  });

  it('answers for a city without helpers', async () => {
    const load = await collectHelperLoad(handle.db, clock, COORDINATOR, 15);
    expect(load).toMatchObject({ helpers: 0, median: null, max: null, atCap: 0, offerRate: null });
  });
});
