import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { WHOLE_CITY } from '../../src/city';
import { ManualClock } from '../../src/clock';
import { type Database, queryRows } from '../../src/db';
import type { UserRow } from '../../src/db/schema';
import { type PostsContext, publishPost } from '../../src/domain/posts';
import { publishNaive } from './baseline';
import { type Driver, openBenchDatabase } from './database';
import { type MemoryReport, MemoryTracker } from './memory';
import { analyse, seedHelpers, type SeedCity, seedSeekers } from './seed';
import { publishTimed, type TimedPublication } from './publish-steps';
import { fitLine, percentile, type Sample, summarise, type Summary } from './stats';
import { needInput, planPosts, type PlannedPost } from './workload';

/** One benchmark case: a driver, a number of helpers, how many needs to publish each way. */
export interface MatchCase {
  driver: Driver;
  helpers: number;
  posts: number;
  baselinePosts: number;
  /** Needs published once more with their parts timed separately (before routing, routePost, commit). */
  breakdownPosts: number;
  warmup: number;
}

/** Where the time of a post goes, from the breakdown phase. */
export interface Breakdown {
  /** BEGIN, lock, checks and the post insert: p50 / p99 ms. */
  before: { p50: number; p99: number };
  /** routePost's statement alone. */
  route: Summary;
  /** routePost's statement alone, posts with at most 1,000 recipients. */
  routeUpTo1000: Summary;
  commit: { p50: number; p99: number };
}

/** Everything measured for one case; the report is written from this. */
export interface MatchResult extends MatchCase {
  command: string;
  date: string;
  seedSeconds: number;
  /** The machine's 1-minute load average when publishing started and when it ended (2 cores). */
  load: { start: number; end: number };
  ours: {
    all: Summary;
    district: Summary;
    wholeCity: Summary;
    /** Posts with at most 1,000 recipients (the 5 ms target). */
    upTo1000: Summary;
    /** Posts with 9,000–11,000 recipients (the ~10,000 recipients / 250 ms target). */
    around10k: Summary;
    fit: { fixedMs: number; marginalUs: number };
    /** The same planned posts the baseline published, for a like-for-like comparison. */
    samePosts: Summary;
    memory: MemoryReport;
  };
  breakdown: Breakdown;
  baseline: { all: Summary; memory: MemoryReport };
  /** Notification and outbox rows equal the recipients reported; the baseline found the same people. */
  checks: { rowsMatch: boolean; baselineAgrees: boolean };
}

const SEED = 20_260_302;
const WARMUP_SEED = 7;
const BASELINE_WARMUP = 2;
const LOCALES = ['uk', 'de', 'ru'];

function postsContext(clock: ManualClock, timeZone: string): PostsContext {
  return {
    clock,
    timeZone,
    // The production default (22:00–07:00) with a clock in the daytime: the per-row quiet-hours
    // expression runs, and not_before is plainly "now".
    quietHours: { start: 22 * 60, end: 7 * 60 },
    config: { POST_TTL_DAYS: 14, MAX_OPEN_POSTS: 1_000_000, MAX_POSTS_PER_DAY: 1_000_000, PREMODERATE_FIRST_POST: false, INTAKE_MAX_OPEN: 30 },
    // This benchmark measures the fan-out of a need to everyone it matches, which is what a first wave
    // larger than any recipient count does (and what the baseline does). Production sends WAVE_SIZE.
    waves: { size: 1_000_000_000, intervalMs: 7_200_000, weeklyCap: 1_000_000, neighbours: () => [] },
  };
}

type Publish = (author: UserRow, index: number, planned: PlannedPost) => Promise<number>;

/** Publishes the planned needs one after another, each by its own author, timing each to its commit. */
async function publishAll(plan: readonly PlannedPost[], authors: UserRow[], clock: ManualClock, publish: Publish, memory?: MemoryTracker): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (const [index, planned] of plan.entries()) {
    const author = authors.shift();
    if (!author) throw new Error('ran out of authors');
    clock.advance(50);
    const start = performance.now();
    const recipients = await publish(author, index, planned);
    samples.push({ ms: performance.now() - start, recipients, wholeCity: planned.district === WHOLE_CITY });
    memory?.sample();
  }
  return samples;
}

async function rowsMatch(db: Database, expected: number): Promise<boolean> {
  const [row] = await queryRows<{ n: number; o: number }>(
    db,
    sql`select (select count(*)::int from notifications) as n, (select count(*)::int from outbox) as o`,
  );
  return row?.n === expected && row.o === expected;
}

function subsets(samples: Sample[]): Omit<MatchResult['ours'], 'samePosts' | 'memory'> {
  return {
    all: summarise(samples),
    district: summarise(samples.filter((s) => !s.wholeCity)),
    wholeCity: summarise(samples.filter((s) => s.wholeCity)),
    upTo1000: summarise(samples.filter((s) => s.recipients <= 1_000)),
    around10k: summarise(samples.filter((s) => s.recipients >= 9_000 && s.recipients <= 11_000)),
    fit: fitLine(samples),
  };
}

/** What the phases of one case share. */
interface CaseRun {
  db: Database;
  ctx: PostsContext;
  clock: ManualClock;
  /** Fresh seekers, taken one per post. */
  authors: UserRow[];
  /** The measured needs; every phase publishes a prefix of it. */
  plan: PlannedPost[];
}

async function seedCase(db: Database, c: MatchCase, city: SeedCity): Promise<{ authors: UserRow[]; seedSeconds: number }> {
  const start = performance.now();
  await seedHelpers(db, city, c.helpers);
  const authors = await seedSeekers(db, c.warmup + c.posts + c.breakdownPosts + BASELINE_WARMUP + c.baselinePosts, LOCALES);
  await analyse(db);
  return { authors, seedSeconds: (performance.now() - start) / 1000 };
}

/** Warm-up, then the measured needs through publishPost exactly as production calls it. */
async function runOurs(run: CaseRun, c: MatchCase, city: SeedCity): Promise<{ samples: Sample[]; memory: MemoryReport; rowsOk: boolean }> {
  const { db, ctx, clock, authors, plan } = run;
  const ours = (phase: string): Publish => async (author, index, planned) =>
    (await publishPost(db, ctx, author, needInput(phase, index, planned))).recipients;
  await publishAll(planPosts(city, c.warmup, WARMUP_SEED), authors, clock, ours('warm'));
  const tracker = new MemoryTracker();
  const samples = await publishAll(plan.slice(0, c.posts), authors, clock, ours('ours'), tracker);
  const memory = tracker.finish();
  const rowsOk = await rowsMatch(db, samples.reduce((n, s) => n + s.recipients, 0) + (await warmupRecipients(db, c.warmup)));
  return { samples, memory, rowsOk };
}

/** The first needs once more, with the work before routing, routePost and the commit timed apart. */
async function runBreakdown(run: CaseRun, c: MatchCase): Promise<Breakdown> {
  const parts: TimedPublication[] = [];
  const timed: Publish = async (author, index, planned) => {
    const part = await publishTimed(run.db, run.ctx, author, needInput('parts', index, planned));
    parts.push(part);
    return part.recipients;
  };
  await publishAll(run.plan.slice(0, c.breakdownPosts), run.authors, run.clock, timed);
  return breakdownOf(parts, run.plan);
}

/** The naive baseline on the first needs of the same plan, after its own short warm-up. */
async function runBaseline(run: CaseRun, c: MatchCase, city: SeedCity): Promise<{ samples: Sample[]; memory: MemoryReport }> {
  const { db, ctx, clock, authors, plan } = run;
  const naive = (phase: string): Publish => (author, index, planned) => publishNaive(db, ctx, author, needInput(phase, index, planned));
  await publishAll(planPosts(city, BASELINE_WARMUP, WARMUP_SEED + 1), authors, clock, naive('naive-warm'));
  const tracker = new MemoryTracker();
  const samples = await publishAll(plan.slice(0, c.baselinePosts), authors, clock, naive('naive'), tracker);
  return { samples, memory: tracker.finish() };
}

/** Runs one case on a fresh database: seed, then publishPost, the breakdown and the naive baseline. */
export async function runMatchCase(c: MatchCase, city: SeedCity & { timeZone: string }, command: string, log: (line: string) => void): Promise<MatchResult> {
  const handle = await openBenchDatabase(c.driver, 'hilfenetz_bench_match', { poolSize: 2 });
  try {
    const { authors, seedSeconds } = await seedCase(handle.db, c, city);
    log(`  seeded ${c.helpers} helpers in ${seedSeconds.toFixed(1)} s`);
    const loadStart = loadavg()[0] ?? Number.NaN;
    const clock = new ManualClock('2026-03-02T10:00:00+01:00');
    const plan = planPosts(city, Math.max(c.posts, c.baselinePosts, c.breakdownPosts), SEED);
    const run: CaseRun = { db: handle.db, ctx: postsContext(clock, city.timeZone), clock, authors, plan };
    const ours = await runOurs(run, c, city);
    log(`  publishPost: ${c.posts} posts done`);
    const breakdown = await runBreakdown(run, c);
    log(`  breakdown: ${c.breakdownPosts} posts done`);
    const baseline = await runBaseline(run, c, city);
    log(`  baseline: ${c.baselinePosts} posts done`);
    const agrees = baseline.samples.every((s, i) => i >= ours.samples.length || s.recipients === ours.samples[i]?.recipients);
    return {
      ...c,
      command,
      date: new Date().toISOString().slice(0, 10),
      seedSeconds,
      load: { start: loadStart, end: loadavg()[0] ?? Number.NaN },
      ours: { ...subsets(ours.samples), samePosts: summarise(ours.samples.slice(0, c.baselinePosts)), memory: ours.memory },
      breakdown,
      baseline: { all: summarise(baseline.samples), memory: baseline.memory },
      checks: { rowsMatch: ours.rowsOk, baselineAgrees: agrees },
    };
  } finally {
    await handle.close();
  }
}

/** The rows the warm-up posts wrote (the first ones), so the row check can account for them. */
async function warmupRecipients(db: Database, warmup: number): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from notifications where post_id in (select id from posts order by id limit ${warmup})`,
  );
  return row?.n ?? 0;
}

function breakdownOf(parts: TimedPublication[], plan: readonly PlannedPost[]): Breakdown {
  const route = parts.map((p, i) => ({ ms: p.routeMs, recipients: p.recipients, wholeCity: plan[i]?.district === WHOLE_CITY }));
  const spread = (values: number[]) => ({ p50: percentile(values, 50), p99: percentile(values, 99) });
  return {
    before: spread(parts.map((p) => p.beforeMs)),
    route: summarise(route),
    routeUpTo1000: summarise(route.filter((s) => s.recipients <= 1_000)),
    commit: spread(parts.map((p) => p.commitMs)),
  };
}
