import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { WHOLE_CITY } from '../../src/city';
import { ManualClock } from '../../src/clock';
import { type Database, queryRows } from '../../src/db';
import type { UserRow } from '../../src/db/schema';
import { type PostsContext, publishPost } from '../../src/domain/posts';
import { catchUpHelperStats } from '../../src/domain/waves';
import { type Driver, openBenchDatabase } from './database';
import { analyse, seedHelpers, type SeedCity, seedSeekers } from './seed';
import { percentile } from './stats';
import { needInput, planPosts, type PlannedPost } from './workload';

/** One first-wave case: a driver, a number of helpers, how many needs to publish. */
export interface WaveCase {
  driver: Driver;
  helpers: number;
  needs: number;
  waveSize: number;
  /** The catch-up sweep after every this many needs (1: before every wave, nobody is pending). */
  catchUpEvery?: number;
}

/** p50 / p99 / max in ms over `n` needs. */
export interface Spread {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/** What a first-wave case measured; the report is written from this. */
export interface WaveResult extends WaveCase {
  command: string;
  date: string;
  load: { start: number; end: number };
  /** publishPost end to end (post insert, the ranking statement with its notification and outbox rows, commit). */
  publish: Spread;
  /**
   * The routing alone within the same publishPost calls: startWaves (the ranking statement with its
   * notification and outbox inserts, and the need's wave state), timed through PostsContext.aroundRouting.
   * Absent from results recorded before it existed.
   */
  routing?: Spread;
  /** The same, district needs only (their neighbours are candidates too) and whole-city needs only. */
  district: Spread;
  wholeCity: Spread;
  /**
   * Routing of the warm-up needs that ran their statement's shape for the first five times (a need for a
   * district or for the whole city, of a protected category or not: src/domain/waves.ts, WaveShape): on a
   * connection, PostgreSQL plans a prepared statement afresh for its first five runs, then keeps a generic plan.
   * Not part of `routing`. Absent from results recorded before it existed.
   */
  coldRouting?: Spread;
  /** Needs published before the measured ones (at least WARMUP, and until every shape ran COLD_RUNS + 1 times). */
  warmUpNeeds?: number;
  /** The baseline: one read-only statement that ranks all candidates in one sort, for the same needs. */
  baseline: Spread;
  /**
   * The catch-up sweep (catchUpHelperStats) after each need, untimed in `publish`: production runs it every
   * 5 s off the path of publishing; here it runs once per need (the clock moves 1 minute per need). Absent
   * from results recorded before it existed.
   */
  catchUp?: Spread;
  /** Mean helpers told per need, and mean candidates a need had (local and neighbours). */
  meanTold: number;
  meanCandidates: number;
  /** Notification and outbox rows written per need. */
  rowsPerNeed: number;
}

/** The city as the wave bench needs it: seeding, neighbours and protected categories. */
export interface WaveCity extends SeedCity {
  timeZone: string;
  neighbours(district: string): readonly string[];
  isProtected(category: string): boolean;
}

const SEED = 20_261_205;
const WARMUP = 20;
/** Runs of a prepared statement that PostgreSQL plans afresh on a connection before it keeps a generic plan. */
const COLD_RUNS = 5;
/** The most needs the warm-up publishes (a rare shape may need many). */
const WARMUP_MAX = 400;
const LOCALES = ['uk', 'de', 'ru'];

function spread(values: number[]): Spread {
  return { n: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: values.length ? Math.max(...values) : Number.NaN };
}

function context(clock: ManualClock, city: WaveCity, waveSize: number): PostsContext {
  return {
    clock,
    timeZone: city.timeZone,
    quietHours: { start: 22 * 60, end: 7 * 60 },
    config: { POST_TTL_DAYS: 14, MAX_OPEN_POSTS: 1_000_000, MAX_POSTS_PER_DAY: 1_000_000, PREMODERATE_FIRST_POST: false, INTAKE_MAX_OPEN: 30 },
    waves: { size: waveSize, intervalMs: 7_200_000, weeklyCap: 15, neighbours: (d) => city.neighbours(d) },
    isProtected: (c) => city.isProtected(c),
  };
}

function districtList(districts: readonly string[]) {
  return sql.join(
    districts.map((d) => sql`${d}`),
    sql`, `,
  );
}

/**
 * The baseline: the best single statement that ranks the same candidates by the same rules, written the
 * plain way — every candidate (own district, whole city and neighbours) with its last 30 days, one sort,
 * `limit`. Read-only: it writes no rows, so it is a lower bound of what a one-sort statement costs.
 */
async function rankInOneSort(db: Database, ctx: PostsContext, planned: PlannedPost, authorId: number, limit: number): Promise<number> {
  const now = ctx.clock.now();
  const weekAgo = new Date(now.getTime() - 7 * 86_400_000);
  const monthAgo = new Date(now.getTime() - 30 * 86_400_000);
  const local = planned.district === WHOLE_CITY ? null : [planned.district, WHOLE_CITY];
  const near = planned.district === WHOLE_CITY ? [] : ctx.waves.neighbours(planned.district);
  const localIds = sql`select user_id from subscriptions where kind = 'need' and category = ${planned.category}
    ${local ? sql`and district in (${districtList(local)})` : sql``}`;
  const nearIds = near.length ? sql`select user_id from subscriptions where kind = 'need' and category = ${planned.category} and district in (${districtList(near)})` : null;
  const verified = ctx.isProtected?.(planned.category)
    ? sql`and exists (select 1 from verifications v where v.user_id = u.id and v.status = 'verified')`
    : sql``;
  const rows = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from (
      select u.id
      from users u
      cross join lateral (
        select count(*) filter (where n.created_at > ${weekAgo}) as load, count(*) as told,
               count(*) filter (where n.response = 'offered') as offered, max(n.created_at) as last_at
        from notifications n where n.user_id = u.id and n.created_at > ${monthAgo}
      ) s
      where (u.id in (${localIds}) ${nearIds ? sql`or u.id in (${nearIds})` : sql``})
        and u.id <> ${authorId} and u.banned_at is null and u.deleted_at is null and u.blocked_at is null
        and not u.notifications_paused and (u.paused_until is null or u.paused_until <= ${now})
        and not exists (select 1 from blocks b where b.blocker_id = u.id and b.blocked_id = ${authorId})
        and not exists (select 1 from blocks b where b.blocker_id = ${authorId} and b.blocked_id = u.id)
        ${verified}
      order by s.load >= ${ctx.waves.weeklyCap}, ${nearIds ? sql`u.id not in (${localIds}), ` : sql``}s.load,
        (s.offered + 1)::float8 / (s.told + 2) desc, s.last_at asc nulls first, random()
      limit ${limit}) r`,
  );
  return rows[0]?.n ?? 0;
}

async function candidates(db: Database, ctx: PostsContext, planned: PlannedPost): Promise<number> {
  const districts = planned.district === WHOLE_CITY ? null : [planned.district, WHOLE_CITY, ...ctx.waves.neighbours(planned.district)];
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select count(distinct user_id)::int as n from subscriptions where kind = 'need' and category = ${planned.category}
      ${districts ? sql`and district in (${districtList(districts)})` : sql``}`,
  );
  return row?.n ?? 0;
}

async function rowsWritten(db: Database): Promise<number> {
  const [row] = await queryRows<{ n: number }>(db, sql`select (select count(*) from notifications) + (select count(*) from outbox) as n`);
  return Number(row?.n ?? 0);
}

/**
 * Publishes needs one after another with the production first wave (publishPost → startWaves, WAVE_SIZE
 * `waveSize`, the city's neighbours and protected categories, every helper verified), each by a fresh
 * seeker, and times each to its commit and, within it, its routing (startWaves); before each, the
 * baseline ranks the same need's candidates in one sort, and after each the catch-up sweep runs (timed on
 * its own). Notifications accumulate over the run, so later needs rank helpers with a history.
 */
export async function runWaveCase(c: WaveCase, city: WaveCity, command: string, log: (line: string) => void): Promise<WaveResult> {
  const handle = await openBenchDatabase(c.driver, 'hilfenetz_bench_wave', { poolSize: 2 });
  try {
    const { db } = handle;
    await seedHelpers(db, city, c.helpers);
    await db.execute(sql`insert into verifications (user_id, status, decided_at) select id, 'verified', now() from users where role = 'helper'`);
    const authors: UserRow[] = await seedSeekers(db, WARMUP_MAX + c.needs, LOCALES);
    await analyse(db);
    log(`  seeded ${c.helpers} helpers`);
    const clock = new ManualClock('2026-03-02T10:00:00+01:00');
    const ctx = context(clock, city, c.waveSize);
    let routed = Number.NaN;
    ctx.aroundRouting = async (route) => {
      const r0 = performance.now();
      try {
        return await route();
      } finally {
        routed = performance.now() - r0;
      }
    };
    const plan = planPosts(city, WARMUP_MAX + c.needs, SEED);
    // The warm-up runs until every local-tier shape of the wave statement has run past its freshly planned
    // runs: the figures are those of a process that has been publishing for a while.
    const shapeRuns = new Map<string, number>([false, true].flatMap((whole) => [false, true].map((p): [string, number] => [`${whole}:${p}`, 0])));
    const shapeOf = (planned: PlannedPost) => `${planned.district === WHOLE_CITY}:${city.isProtected(planned.category)}`;
    const cold: number[] = [];
    let warmUpNeeds = 0;
    const publish: number[] = [];
    const routing: number[] = [];
    const baseline: number[] = [];
    const catchUp: number[] = [];
    const wholeCity: boolean[] = [];
    let told = 0;
    let candidateSum = 0;
    const loadStart = loadavg()[0] ?? Number.NaN;
    const rowsBefore = { n: 0 };
    for (const [i, planned] of plan.entries()) {
      const author = authors[i]!;
      clock.advance(60_000);
      const warming = i < WARMUP || ([...shapeRuns.values()].some((n) => n <= COLD_RUNS) && i < WARMUP_MAX);
      if (!warming && warmUpNeeds === 0) {
        warmUpNeeds = i;
        rowsBefore.n = await rowsWritten(db);
      }
      if (!warming && i - warmUpNeeds >= c.needs) break;
      const b0 = performance.now();
      await rankInOneSort(db, ctx, planned, author.id, c.waveSize);
      const b1 = performance.now();
      routed = Number.NaN;
      const result = await publishPost(db, ctx, author, needInput('wave', i, planned));
      const p1 = performance.now();
      const caughtUp = (i + 1) % (c.catchUpEvery ?? 1) === 0;
      if (caughtUp) await catchUpHelperStats(db, clock.now());
      const c1 = performance.now();
      if (warming) {
        const runs = (shapeRuns.get(shapeOf(planned)) ?? 0) + 1;
        shapeRuns.set(shapeOf(planned), runs);
        if (runs <= COLD_RUNS) cold.push(routed);
        continue;
      }
      if (caughtUp) catchUp.push(c1 - p1);
      baseline.push(b1 - b0);
      publish.push(p1 - b1);
      routing.push(routed);
      wholeCity.push(planned.district === WHOLE_CITY);
      told += result.recipients;
      candidateSum += await candidates(db, ctx, planned);
    }
    const rows = (await rowsWritten(db)) - rowsBefore.n;
    return {
      ...c,
      command,
      date: new Date().toISOString().slice(0, 10),
      load: { start: loadStart, end: loadavg()[0] ?? Number.NaN },
      publish: spread(publish),
      routing: spread(routing),
      coldRouting: spread(cold),
      warmUpNeeds,
      district: spread(publish.filter((_, i) => !wholeCity[i])),
      wholeCity: spread(publish.filter((_, i) => wholeCity[i])),
      baseline: spread(baseline),
      catchUp: spread(catchUp),
      meanTold: told / c.needs,
      meanCandidates: candidateSum / c.needs,
      rowsPerNeed: rows / c.needs,
    };
  } finally {
    await handle.close();
  }
}
