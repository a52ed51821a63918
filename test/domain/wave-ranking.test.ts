import { eq, sql } from 'drizzle-orm';
import { WHOLE_CITY } from '../../src/city';
import { ManualClock } from '../../src/clock';
import { queryRows } from '../../src/db';
import { blocks, helperStatsPending, notifications, subscriptions, type UserRow, users, verifications } from '../../src/db/schema';
import { coveringDistricts, reachableHelperSql } from '../../src/domain/matching';
import { type PostsContext, publishPost } from '../../src/domain/posts';
import { deleteUserData } from '../../src/domain/privacy';
import { replaceSubscriptions } from '../../src/domain/subscriptions';
import { protectedNeedSql } from '../../src/domain/verification';
import { catchUpHelperStats, rankHelpers } from '../../src/domain/waves';
import { createTestDb, resetTestDb, type TestDatabase } from '../helpers/db';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CAP = 3;
const DISTRICTS = ['hamborn', 'walsum', 'meiderich', 'mitte', WHOLE_CITY];
const NEIGHBOURS: Record<string, string[]> = { hamborn: ['walsum', 'meiderich'], walsum: ['hamborn'], meiderich: ['hamborn', 'mitte'], mitte: ['meiderich'] };

let db: TestDatabase;
let clock: ManualClock;
let ctx: PostsContext;

beforeAll(async () => {
  db = await createTestDb();
});
beforeEach(async () => {
  await resetTestDb(db);
  clock = new ManualClock('2026-03-25T10:00:00+01:00');
  ctx = {
    clock,
    timeZone: 'Europe/Berlin',
    quietHours: null,
    config: { POST_TTL_DAYS: 14, MAX_OPEN_POSTS: 50, MAX_POSTS_PER_DAY: 50, PREMODERATE_FIRST_POST: false, INTAKE_MAX_OPEN: 30 },
    waves: { size: 4, intervalMs: 30 * 60_000, weeklyCap: CAP, neighbours: (d) => NEIGHBOURS[d] ?? [] },
    isProtected: (category) => category === 'medical',
  };
});
afterAll(async () => {
  await db.close();
});

/** A small deterministic random source (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

let nextTelegramId = 70_000;
async function person(role: 'seeker' | 'helper', values: Partial<typeof users.$inferInsert> = {}): Promise<UserRow> {
  const now = clock.now();
  const [row] = await db.db
    .insert(users)
    .values({ telegramId: nextTelegramId++, firstName: 'X', locale: 'de', role, district: 'hamborn', createdAt: now, lastSeenAt: now, onboardedAt: now, ...values })
    .returning();
  return row!;
}

let nextPostId = 500_000;
/**
 * A city of helpers with varied histories: subscriptions to one to three districts (the whole city among
 * them), up to eight notifications over the last 40 days with every kind of response, some banned, paused,
 * unreachable, blocking or blocked by the author, about half verified.
 */
async function seedCity(author: UserRow, helpers: number, seed: number): Promise<UserRow[]> {
  const rand = random(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)]!;
  const people: UserRow[] = [];
  for (let i = 0; i < helpers; i++) {
    const r = rand();
    const helper = await person('helper', {
      bannedAt: r < 0.03 ? clock.now() : null,
      blockedAt: r >= 0.03 && r < 0.06 ? clock.now() : null,
      notificationsPaused: r >= 0.06 && r < 0.09,
      pausedUntil: r >= 0.09 && r < 0.12 ? new Date(clock.now().getTime() + 3 * DAY) : r >= 0.12 && r < 0.15 ? new Date(clock.now().getTime() - DAY) : null,
    });
    people.push(helper);
    const districts = new Set<string>();
    const count = 1 + Math.floor(rand() * 3);
    while (districts.size < count) districts.add(pick(DISTRICTS));
    const categories = rand() < 0.5 ? ['housing', 'medical'] : ['housing'];
    await db.db.insert(subscriptions).values(categories.flatMap((category) => [...districts].map((district) => ({ userId: helper.id, kind: 'need' as const, category, district }))));
    if (rand() < 0.5) await db.db.insert(verifications).values({ userId: helper.id, status: 'verified', decidedAt: clock.now() });
    if (rand() < 0.05) await db.db.insert(blocks).values({ blockerId: helper.id, blockedId: author.id, createdAt: clock.now() });
    if (rand() < 0.05) await db.db.insert(blocks).values({ blockerId: author.id, blockedId: helper.id, createdAt: clock.now() });
    const told = Math.floor(rand() * 9);
    for (let k = 0; k < told; k++) {
      const hoursAgo = Math.floor(rand() * 40 * 24);
      const response = pick([null, null, 'offered', 'declined'] as const);
      await db.db.insert(notifications).values({ postId: nextPostId++, userId: helper.id, createdAt: new Date(clock.now().getTime() - hoursAgo * HOUR), response, wave: 1 });
    }
  }
  return people;
}

type Need = { id: number; kind: 'need'; authorId: number; category: string; district: string };

/** One candidate's place in the ranking: the keys of rules 1–5 (rule 6 is a draw). */
interface Ranked {
  id: number;
  far: boolean;
  key: string;
}

/**
 * The ranking as the wave statement wrote it before the index: every candidate with their last 30 days
 * counted from `notifications` at the clock's now, one sort by rules 1–5.
 */
async function plainRanking(need: Need): Promise<Ranked[]> {
  const now = clock.now();
  const weekAgo = new Date(now.getTime() - 7 * DAY);
  const monthAgo = new Date(now.getTime() - 30 * DAY);
  const local = coveringDistricts(need.district);
  const near = need.district === WHOLE_CITY ? [] : ctx.waves.neighbours(need.district);
  const list = (ds: readonly string[]) => sql.join(ds.map((d) => sql`${d}`), sql`, `);
  const localIds = sql`select user_id from subscriptions where kind = 'need' and category = ${need.category} ${local ? sql`and district in (${list(local)})` : sql``}`;
  const nearIds = near.length ? sql`select user_id from subscriptions where kind = 'need' and category = ${need.category} and district in (${list(near)})` : sql`select null::int where false`;
  const rows = await queryRows<{ id: number; far: boolean; capped: boolean; load: number; record: number; last_at: string | Date | null }>(
    db.db,
    sql`select u.id, u.id not in (${localIds}) as far, s.load >= ${CAP} as capped, s.load::int as load,
          (s.offered + 1)::float8 / (s.told + 2) as record, s.last_at
        from users u
        cross join lateral (
          select count(*) filter (where n.created_at > ${weekAgo}) as load, count(*) as told,
                 count(*) filter (where n.response = 'offered') as offered, max(n.created_at) as last_at
          from notifications n where n.user_id = u.id and n.created_at > ${monthAgo}) s
        where (u.id in (${localIds}) or u.id in (${nearIds}))
          and ${reachableHelperSql(need.authorId, now)}${protectedNeedSql(ctx, need)}
          and not exists (select 1 from notifications t where t.post_id = ${need.id} and t.user_id = u.id)
        order by s.load >= ${CAP}, u.id not in (${localIds}), s.load, (s.offered + 1)::float8 / (s.told + 2) desc, s.last_at asc nulls first, u.id`,
  );
  return rows.map((r) => ({ id: r.id, far: r.far, key: [r.capped, r.far, r.load, r.record, r.last_at === null ? null : new Date(r.last_at).getTime()].join('|') }));
}

/** The ranking read from the index equals the plain one: the same candidates, in the same order of keys. */
async function expectSameRanking(need: Need): Promise<void> {
  const plain = await plainRanking(need);
  const byId = new Map(plain.map((r) => [r.id, r]));
  const indexed = await rankHelpers(db.db, ctx, need, 10_000);
  expect(indexed.map((r) => r.id).sort((a, b) => a - b)).toEqual(plain.map((r) => r.id).sort((a, b) => a - b));
  expect(indexed.map((r) => byId.get(r.id)!.key)).toEqual(plain.map((r) => r.key));
  expect(indexed.map((r) => r.far)).toEqual(indexed.map((r) => byId.get(r.id)!.far));
  // And cut anywhere, the first n are the first n of the whole ranking.
  for (const n of [1, 5, 17]) expect((await rankHelpers(db.db, ctx, need, n)).map((r) => r.id)).toEqual(indexed.slice(0, n).map((r) => r.id));
}

/** After a catch-up, every need subscription holds its helper's statistics counted the plain way at the clock's now. */
async function expectStatsOfNow(): Promise<void> {
  const now = clock.now();
  await catchUpHelperStats(db.db, now);
  expect(await db.db.select().from(helperStatsPending)).toEqual([]);
  const rows = await queryRows<{ user_id: number; load: number; told: number; offered: number; last_at: unknown; p_load: number; p_told: number; p_offered: number; p_last_at: unknown }>(
    db.db,
    sql`select s.user_id, s.load, s.told, s.offered, s.last_at, p.load as p_load, p.told as p_told, p.offered as p_offered, p.last_at as p_last_at
        from subscriptions s
        cross join lateral (
          select count(*) filter (where n.created_at > ${new Date(now.getTime() - 7 * DAY)})::int as load, count(*)::int as told,
                 count(*) filter (where n.response = 'offered')::int as offered, max(n.created_at) as last_at
          from notifications n where n.user_id = s.user_id and n.created_at > ${new Date(now.getTime() - 30 * DAY)}) p
        where s.kind = 'need'`,
  );
  const time = (v: unknown) => (v === null ? null : new Date(v as string).getTime());
  const wrong = rows.filter((r) => r.load !== r.p_load || r.told !== r.p_told || r.offered !== r.p_offered || time(r.last_at) !== time(r.p_last_at));
  expect(wrong).toEqual([]);
}

describe('the ranking read from subscriptions_rank_idx', () => {
  it('equals the plain ranking of every candidate, as time passes and histories change', async () => {
    const author = await person('seeker');
    const helpers = await seedCity(author, 70, 20_261_206);
    const needs: Need[] = [
      { id: 900_001, kind: 'need', authorId: author.id, category: 'housing', district: 'hamborn' },
      { id: 900_002, kind: 'need', authorId: author.id, category: 'housing', district: WHOLE_CITY },
      { id: 900_003, kind: 'need', authorId: author.id, category: 'medical', district: 'hamborn' },
      { id: 900_004, kind: 'need', authorId: author.id, category: 'housing', district: 'meiderich' },
    ];
    // Some were told about the first need already.
    await db.db.insert(notifications).values(helpers.slice(0, 6).map((h) => ({ postId: needs[0]!.id, userId: h.id, createdAt: new Date(clock.now().getTime() - 2 * HOUR), wave: 1 })));
    // The ranking is exact with helpers pending (counted afresh) and after they were caught up (read from the index).
    const checkAll = async () => {
      for (const need of needs) await expectSameRanking(need);
      await expectStatsOfNow();
      for (const need of needs) await expectSameRanking(need);
    };
    await checkAll();
    // The windows slide: a day, then past 7 days (loads drop), later past 30 days (records and last_at go).
    for (const days of [1, 6, 2]) {
      clock.advance(days * DAY);
      await checkAll();
    }
    // Offers of help on earlier notifications (an update of `response`), one statement for several.
    const some = helpers.filter((_, i) => i % 5 === 0).map((h) => h.id);
    await db.db.execute(sql`update notifications set response = 'offered' where user_id in (${sql.join(some.map((id) => sql`${id}`), sql`, `)}) and response is null`);
    await checkAll();
    // Erasure of a post: its notification records go.
    const [victim] = await queryRows<{ post_id: number }>(db.db, sql`select post_id from notifications where post_id < 900000 order by created_at desc limit 1`);
    await db.db.delete(notifications).where(eq(notifications.postId, victim!.post_id));
    await checkAll();
    // A helper with a history chooses other districts (/subscribe replaces the subscriptions).
    const mover = helpers.find((h) => h.bannedAt === null && h.blockedAt === null)!;
    await replaceSubscriptions(db.db, mover.id, 'need', { categories: ['housing'], districts: ['hamborn', 'walsum'] });
    await checkAll();
    // Real waves go out (their notifications are written by the wave statement itself).
    const seeker = await person('seeker');
    await publishPost(db.db, ctx, seeker, { kind: 'need', category: 'housing', district: 'hamborn', text: 'Wir suchen eine Wohnung, bitte.', photoFileId: null, language: 'de' });
    await publishPost(db.db, ctx, await person('seeker'), { kind: 'need', category: 'housing', district: WHOLE_CITY, text: 'Wir suchen ein Zimmer, bitte.', photoFileId: null, language: 'de' });
    await checkAll();
    // A month later, and after a helper erased their account (their notifications and subscriptions go).
    clock.advance(23 * DAY);
    await deleteUserData(db.db, clock, helpers[7]!.id);
    await checkAll();
  });

  it('counts a helper subscribed to several districts of a tier once, and as local when any subscription is local', async () => {
    const author = await person('seeker');
    const both = await person('helper');
    await db.db.insert(subscriptions).values(['hamborn', WHOLE_CITY, 'walsum', 'meiderich'].map((district) => ({ userId: both.id, kind: 'need' as const, category: 'housing', district })));
    const neighbour = await person('helper');
    await db.db.insert(subscriptions).values(['walsum', 'meiderich'].map((district) => ({ userId: neighbour.id, kind: 'need' as const, category: 'housing', district })));
    const need: Need = { id: 900_010, kind: 'need', authorId: author.id, category: 'housing', district: 'hamborn' };
    expect(await rankHelpers(db.db, ctx, need, 10)).toEqual([
      { id: both.id, far: false },
      { id: neighbour.id, far: true },
    ]);
    expect(await rankHelpers(db.db, ctx, { ...need, district: WHOLE_CITY }, 10)).toHaveLength(2);
  });

  it('binds the settings at every run: the statement built once for a shape ranks by the cap it is given', async () => {
    const author = await person('seeker');
    const local = await person('helper');
    await db.db.insert(subscriptions).values({ userId: local.id, kind: 'need', category: 'housing', district: 'hamborn' });
    const neighbour = await person('helper');
    await db.db.insert(subscriptions).values({ userId: neighbour.id, kind: 'need', category: 'housing', district: 'walsum' });
    // Two notifications this week: under a cap of 3 the local helper comes first, at a cap of 2 last.
    await db.db.insert(notifications).values([1, 2].map((i) => ({ postId: 800_000 + i, userId: local.id, createdAt: new Date(clock.now().getTime() - i * DAY) })));
    await catchUpHelperStats(db.db, clock.now());
    const need: Need = { id: 900_020, kind: 'need', authorId: author.id, category: 'housing', district: 'hamborn' };
    const capped = { ...ctx, waves: { ...ctx.waves, weeklyCap: 2 } };
    expect(await rankHelpers(db.db, ctx, need, 10)).toEqual([
      { id: local.id, far: false },
      { id: neighbour.id, far: true },
    ]);
    expect(await rankHelpers(db.db, capped, need, 10)).toEqual([
      { id: neighbour.id, far: true },
      { id: local.id, far: false },
    ]);
    expect(await rankHelpers(db.db, ctx, need, 10)).toEqual([
      { id: local.id, far: false },
      { id: neighbour.id, far: true },
    ]);
  });
});

describe('the statistics on subscriptions (triggers on notifications, catchUpHelperStats)', () => {
  const pending = async () => (await db.db.select().from(helperStatsPending)).map((r) => [r.userId, r.redraw]).sort((a, b) => Number(a[0]) - Number(b[0]));

  it('list the helpers whose notifications changed (one statement for a whole wave), and the catch-up writes their statistics on every need subscription', async () => {
    const a = await person('helper');
    const b = await person('helper');
    const c = await person('helper');
    const seeker = await person('seeker');
    for (const h of [a, b, c]) {
      await db.db.insert(subscriptions).values(['hamborn', WHOLE_CITY].map((district) => ({ userId: h.id, kind: 'need' as const, category: 'housing', district })));
    }
    // An offer subscription keeps the defaults: only need subscriptions are ranked.
    await db.db.insert(subscriptions).values({ userId: a.id, kind: 'offer', category: 'housing', district: 'hamborn' });
    const shuffles = async (userId: number) => (await db.db.select({ s: subscriptions.shuffle }).from(subscriptions).where(eq(subscriptions.userId, userId))).map((r) => r.s);
    const before = await shuffles(b.id);
    // One statement, three helpers and a seeker (no need subscription: not listed).
    await db.db.insert(notifications).values([a, b, c, seeker].map((h, i) => ({ postId: 1, userId: h.id, createdAt: new Date(clock.now().getTime() - i * HOUR), wave: 1 })));
    await db.db.insert(notifications).values({ postId: 2, userId: a.id, createdAt: clock.now(), wave: 1 });
    expect(await pending()).toEqual([a, b, c].map((h) => [h.id, true]));
    // In batches of two helpers: two statements write all three.
    expect(await catchUpHelperStats(db.db, clock.now(), 2)).toBe(3);
    expect(await pending()).toEqual([]);
    const rows = await db.db.select().from(subscriptions).where(eq(subscriptions.userId, a.id));
    expect(rows.filter((r) => r.kind === 'need').map((r) => [r.load, r.told, r.offered, r.lastAt?.getTime()])).toEqual([
      [2, 2, 0, clock.now().getTime()],
      [2, 2, 0, clock.now().getTime()],
    ]);
    expect(rows.find((r) => r.kind === 'offer')).toMatchObject({ load: 0, told: 0, offered: 0, lastAt: null, statsChangeAt: null });
    // Told: the tie-breaker is drawn again.
    expect(await shuffles(b.id)).not.toEqual(before);
    await expectStatsOfNow();
    // A response: listed, without a new draw.
    await db.db.update(notifications).set({ response: 'offered' }).where(eq(notifications.userId, b.id));
    expect(await pending()).toEqual([[b.id, false]]);
    const drawn = await shuffles(b.id);
    await catchUpHelperStats(db.db, clock.now());
    const [offered] = await db.db.select().from(subscriptions).where(eq(subscriptions.userId, b.id));
    expect(offered).toMatchObject({ told: 1, offered: 1, record: 2 / 3 });
    expect(await shuffles(b.id)).toEqual(drawn);
    // Erased records.
    await db.db.delete(notifications).where(eq(notifications.postId, 1));
    expect((await pending()).map((r) => r[0])).toEqual([a.id, b.id, c.id]);
    await catchUpHelperStats(db.db, clock.now());
    const [deleted] = await db.db.select().from(subscriptions).where(eq(subscriptions.userId, c.id));
    expect(deleted).toMatchObject({ load: 0, told: 0, offered: 0, lastAt: null, statsChangeAt: null, record: 0.5 });
    // New subscriptions of a helper with a history start from the defaults: listed.
    await replaceSubscriptions(db.db, a.id, 'need', { categories: ['housing', 'medical'], districts: ['walsum'] });
    expect(await pending()).toEqual([[a.id, false]]);
    await expectStatsOfNow();
  });

  it('know when a window moves on, and the catch-up rewrites only those helpers, with the application clock', async () => {
    const h = await person('helper');
    await db.db.insert(subscriptions).values({ userId: h.id, kind: 'need', category: 'housing', district: 'hamborn' });
    const t0 = clock.now().getTime();
    await db.db.insert(notifications).values({ postId: 1, userId: h.id, createdAt: new Date(t0 - 2 * DAY), wave: 1 });
    await db.db.insert(notifications).values({ postId: 2, userId: h.id, createdAt: new Date(t0), wave: 1 });
    expect(await catchUpHelperStats(db.db, clock.now())).toBe(1);
    const stats = async () => (await db.db.select().from(subscriptions).where(eq(subscriptions.userId, h.id)))[0]!;
    // The first notification leaves the 7-day window 5 days from now.
    expect((await stats()).statsChangeAt?.getTime()).toBe(t0 + 5 * DAY);
    clock.advance(5 * DAY - 1);
    expect(await catchUpHelperStats(db.db, clock.now())).toBe(0);
    expect((await stats()).load).toBe(2);
    clock.advance(1);
    expect(await catchUpHelperStats(db.db, clock.now())).toBe(1);
    expect(await stats()).toMatchObject({ load: 1, told: 2 });
    expect((await stats()).statsChangeAt?.getTime()).toBe(t0 + 7 * DAY);
    clock.advance(30 * DAY);
    await catchUpHelperStats(db.db, clock.now());
    expect(await stats()).toMatchObject({ load: 0, told: 0, lastAt: null, statsChangeAt: null });
  });
});
