import { and, eq, sql } from 'drizzle-orm';
import { ManualClock } from '../../src/clock';
import { queryRows } from '../../src/db';
import { notifications, posts, subscriptions, type UserRow, users } from '../../src/db/schema';
import { type PostsContext, publishPost } from '../../src/domain/posts';
import { dueNeed, sendDueWaves, waveJobPeriodMs } from '../../src/domain/waves';
import { createTestDb, resetTestDb, type TestDatabase } from '../helpers/db';

let db: TestDatabase;
let clock: ManualClock;
let ctx: PostsContext;
const INTERVAL = 30 * 60_000;

beforeAll(async () => {
  db = await createTestDb();
});
beforeEach(async () => {
  await resetTestDb(db);
  clock = new ManualClock('2026-03-04T10:00:00+01:00');
  ctx = {
    clock,
    timeZone: 'Europe/Berlin',
    quietHours: null,
    config: { POST_TTL_DAYS: 14, MAX_OPEN_POSTS: 50, MAX_POSTS_PER_DAY: 50, PREMODERATE_FIRST_POST: false, INTAKE_MAX_OPEN: 30 },
    waves: { size: 1, intervalMs: INTERVAL, weeklyCap: 3, neighbours: (d) => (d === 'hamborn' ? ['walsum'] : d === 'walsum' ? ['hamborn'] : []) },
  };
});
afterAll(async () => {
  await db.close();
});

let nextTelegramId = 10_000;
async function person(role: 'seeker' | 'helper', district = 'hamborn'): Promise<UserRow> {
  const now = clock.now();
  const [row] = await db.db
    .insert(users)
    .values({ telegramId: nextTelegramId++, firstName: 'X', locale: 'de', role, district, createdAt: now, lastSeenAt: now })
    .returning();
  return row!;
}

async function helperIn(district: string): Promise<number> {
  const helper = await person('helper', district);
  await db.db.insert(subscriptions).values({ userId: helper.id, kind: 'need', category: 'housing', district });
  return helper.id;
}

/** Earlier notifications of a helper, `hoursAgo` each, with a response. */
async function history(userId: number, hoursAgo: number[], response: 'offered' | 'declined' | null = null): Promise<void> {
  for (const [i, hours] of hoursAgo.entries()) {
    await db.db.insert(notifications).values({ postId: 50_000 + userId * 100 + i, userId, createdAt: new Date(clock.now().getTime() - hours * 3_600_000), response });
  }
}

/** Publishes a need and lets every wave go out, one helper at a time (WAVE_SIZE 1); returns who was told, in order. */
async function order(district = 'hamborn'): Promise<number[]> {
  const author = await person('seeker', district);
  const { post } = await publishPost(db.db, ctx, author, { kind: 'need', category: 'housing', district, text: `Wir suchen eine Wohnung ${nextTelegramId}.`, photoFileId: null, language: 'de' });
  for (let i = 0; i < 20; i++) {
    clock.advance(INTERVAL);
    if ((await sendDueWaves(db.db, ctx)) === 0) break;
  }
  const rows = await db.db.select().from(notifications).where(eq(notifications.postId, post.id));
  return rows.sort((a, b) => a.wave! - b.wave!).map((r) => r.userId);
}

describe('the ranking of a wave', () => {
  it('orders by load, then response record, then the longest since last notified, with capped helpers last', async () => {
    const newcomer = await helperIn('hamborn');
    const answers = await helperIn('hamborn');
    const longAgo = await helperIn('hamborn');
    const yesterday = await helperIn('hamborn');
    const justNow = await helperIn('hamborn');
    const capped = await helperIn('hamborn');
    const neighbour = await helperIn('walsum');
    // One notification each this week; `answers` offered help on it, the others did not.
    await history(answers, [20], 'offered');
    await history(longAgo, [100], 'declined');
    await history(yesterday, [24]);
    await history(justNow, [1]);
    // At HELPER_WEEKLY_CAP (3 here), with the best record of all.
    await history(capped, [2, 3, 4], 'offered');
    expect(await order()).toEqual([newcomer, answers, longAgo, yesterday, justNow, neighbour, capped]);
  });

  it('reads its tiers in order: own district, then neighbours, then capped helpers (own district before neighbours)', async () => {
    const local = await helperIn('hamborn');
    // Subscribed to both districts: local, whatever the other subscription says.
    const both = await helperIn('walsum');
    await db.db.insert(subscriptions).values({ userId: both, kind: 'need', category: 'housing', district: 'hamborn' });
    await history(both, [5]);
    const neighbour = await helperIn('walsum');
    // Both at the cap (3 here): the neighbour has the better record, but capped neighbours come last.
    const cappedNeighbour = await helperIn('walsum');
    await history(cappedNeighbour, [2, 3, 4], 'offered');
    const cappedLocal = await helperIn('hamborn');
    await history(cappedLocal, [2, 3, 4], 'declined');
    expect(await order()).toEqual([local, both, neighbour, cappedLocal, cappedNeighbour]);
  });

  it('tells a whole wave across the tiers in one statement, and counts who came from the neighbours', async () => {
    ctx.waves.size = 10;
    const local = await helperIn('hamborn');
    const neighbour = await helperIn('walsum');
    const capped = await helperIn('hamborn');
    await history(capped, [2, 3, 4]);
    const author = await person('seeker');
    const published = await publishPost(db.db, ctx, author, { kind: 'need', category: 'housing', district: 'hamborn', text: 'Wir suchen eine Wohnung, bitte.', photoFileId: null, language: 'de' });
    expect(published.recipients).toBe(3);
    expect(published.post.widenedAt).not.toBeNull();
    const told = await db.db.select().from(notifications).where(eq(notifications.postId, published.post.id));
    expect(told.map((r) => r.userId).sort((a, b) => a - b)).toEqual([local, neighbour, capped].sort((a, b) => a - b));
    // A whole-city need has no neighbours: the capped helper still comes after the others (who tie).
    ctx.waves.size = 1;
    const wholeCity = await order('*');
    expect(wholeCity.slice(0, 2).sort((a, b) => a - b)).toEqual([local, neighbour].sort((a, b) => a - b));
    expect(wholeCity[2]).toBe(capped);
  });

  it('counts only the last 7 days as load and the last 30 days for the record', async () => {
    const old = await helperIn('hamborn');
    const fresh = await helperIn('hamborn');
    // Eight notifications 8–15 days ago: no load this week (but a record of no offers).
    await history(old, [8 * 24, 9 * 24, 10 * 24, 11 * 24, 12 * 24, 13 * 24, 14 * 24, 15 * 24]);
    // One notification yesterday, offered: load 1.
    await history(fresh, [24], 'offered');
    expect(await order()).toEqual([old, fresh]);
    // 40 days ago no longer counts for the record either: the same as a newcomer, ahead by recency.
    const ancient = await helperIn('hamborn');
    await history(ancient, [40 * 24], 'declined');
    const newcomer = await helperIn('hamborn');
    const next = await order();
    expect(next.slice(0, 2).sort((a, b) => a - b)).toEqual([ancient, newcomer]);
  });

  it('marks the notifications of each wave and the routing state of the need', async () => {
    const a = await helperIn('hamborn');
    const b = await helperIn('walsum');
    await history(b, [1]);
    const told = await order();
    expect(told).toEqual([a, b]);
    const [need] = await db.db.select().from(posts);
    expect(need).toMatchObject({ wave: 2, nextWaveAt: null });
    expect(need!.widenedAt).not.toBeNull();
    expect(need!.deskAt).not.toBeNull();
    const rows = await db.db.select().from(notifications).where(and(eq(notifications.postId, need!.id)));
    expect(rows.map((r) => r.wave).sort()).toEqual([1, 2]);
  });

  it('plans the next wave from the first helper who can see it when the local helpers fall short and neighbours complete the wave', async () => {
    ctx.waves.size = 2;
    // 10:00 in Berlin: the local helper can see it now, the neighbour sleeps until 11:00 (quiet 09:00–11:00).
    const local = await helperIn('hamborn');
    const far = await helperIn('walsum');
    await db.db.update(users).set({ quietStart: 9 * 60, quietEnd: 11 * 60 }).where(eq(users.id, far));
    const author = await person('seeker');
    const { post, recipients } = await publishPost(db.db, ctx, author, { kind: 'need', category: 'housing', district: 'hamborn', text: 'Wir suchen eine Wohnung für drei.', photoFileId: null, language: 'de' });
    expect(recipients).toBe(2);
    const [stored] = await db.db.select().from(posts).where(eq(posts.id, post.id));
    expect(post).toEqual(stored);
    expect(post).toMatchObject({ wave: 1, waveAt: clock.now(), widenedAt: clock.now(), deskAt: null, nextWaveAt: new Date(clock.now().getTime() + INTERVAL) });
    const told = await db.db.select().from(notifications).where(eq(notifications.postId, post.id));
    expect(told.map((n) => n.userId).sort((a, b) => a - b)).toEqual([local, far]);
  });
});

describe('the wave job', () => {
  it('runs often enough for its promise: within 5 s or 10% of WAVE_INTERVAL', () => {
    for (const interval of [10_000, 30_000, 60_000, 30 * 60_000, 2 * 3_600_000, 3 * 86_400_000]) {
      const period = waveJobPeriodMs(interval);
      expect(period).toBeGreaterThanOrEqual(1_000);
      // A run takes far less than a period; the worst case is a wave that became due just after a run.
      expect(period * 2).toBeLessThanOrEqual(Math.max(5_000, interval / 10));
    }
    expect(waveJobPeriodMs(2 * 3_600_000)).toBe(30_000);
  });

  it('finds due needs through the partial index, not by scanning posts', async () => {
    const plan = await db.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      return queryRows<Record<string, string>>(tx, sql`explain ${dueNeed(tx, clock.now())}`);
    });
    expect(plan.map((row) => Object.values(row)[0]).join('\n')).toContain('posts_next_wave_idx');
  });
});
