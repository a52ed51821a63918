import { sql } from 'drizzle-orm';
import type { Clock } from '../clock';
import { type Executor, queryRows } from '../db';
import { helperStatsPending, subscriptions } from '../db/schema';
import { type Actor, authorize } from './permissions';

/** The buckets of the load distribution: post notifications per helper in the last 7 days. */
export const LOAD_BUCKETS = [
  { from: 0, to: 0 },
  { from: 1, to: 2 },
  { from: 3, to: 5 },
  { from: 6, to: 10 },
  { from: 11, to: 15 },
  { from: 16, to: 30 },
  { from: 31, to: null },
] as const;

/** How the work spreads over helpers, anonymised: a histogram and percentiles, never a person. */
export interface HelperLoad {
  helpers: number;
  buckets: { from: number; to: number | null; helpers: number }[];
  median: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  /** Helpers at or over HELPER_WEEKLY_CAP. */
  atCap: number;
  /** Offers of help per notification over 30 days, all helpers together (their response records summed). */
  offerRate: number | null;
}

/**
 * The load of every subscriber to needs over the last 7 days, as a distribution, and their offers of help
 * per notification over 30 days (one statement). Both are read from their need subscriptions, where the
 * wave's ranking keeps them (migration 0015: the same on each of a helper's rows, written by the catch-up
 * sweep; the rate is the ranking's response record summed over everyone) — one pass over the subscriptions
 * instead of counting a week and a month of notifications (on bench:web's data 0.4 s → about 0.05 s). The
 * helpers whose figures there are out of date (listed in helper_stats_pending since the last sweep, or a
 * notification left a window: stats_change_at <= now) are counted afresh with helper_stats, as the ranking
 * does, so both are exact at `now`.
 */
export async function collectHelperLoad(db: Executor, clock: Clock, viewer: Actor, weeklyCap: number): Promise<HelperLoad> {
  authorize(viewer, 'helpers.view');
  const row = await readHelperLoad(db, clock.now(), weeklyCap);
  const counts = (row?.counts ?? []).map(Number);
  const round = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);
  return {
    helpers: row?.helpers ?? 0,
    buckets: LOAD_BUCKETS.map((b) => ({ from: b.from, to: b.to, helpers: counts.filter((n) => n >= b.from && (b.to === null || n <= b.to)).length })),
    median: round(row?.median),
    p90: round(row?.p90),
    p99: round(row?.p99),
    max: row?.max ?? null,
    atCap: row?.at_cap ?? 0,
    offerRate: row?.told ? Math.round(((row.offered ?? 0) / row.told) * 1000) / 1000 : null,
  };
}

/** The figures of collectHelperLoad as the database returns them (no permission check: for the callers that made theirs). */
export interface HelperLoadRow {
  helpers: number;
  counts: number[] | null;
  median: unknown;
  p90: unknown;
  p99: unknown;
  max: number | null;
  at_cap: number;
  offered: number | null;
  told: number | null;
}

/** The statement of collectHelperLoad; also the helpers' load in /stats (collectLoopStats, without a cap: `at_cap` 0). */
export async function readHelperLoad(db: Executor, now: Date, weeklyCap = 2_147_483_647): Promise<HelperLoadRow | undefined> {
  const [row] = await queryRows<HelperLoadRow>(
    db,
    sql`with h as (select s.user_id, min(s.load) as load, min(s.told) as told, min(s.offered) as offered, bool_or(s.stats_change_at <= ${now}) as moved
              from ${subscriptions} s where s.kind = 'need' group by s.user_id),
        fresh as (select h.user_id, st.load, st.told, st.offered from h cross join lateral helper_stats(h.user_id, ${now}::timestamptz) st
                  where h.moved or h.user_id in (select p.user_id from ${helperStatsPending} p)),
        l as (select h.user_id, coalesce(f.load, h.load) as n, coalesce(f.told, h.told) as told, coalesce(f.offered, h.offered) as offered
              from h left join fresh f on f.user_id = h.user_id)
        select (select count(*)::int from l) as helpers,
               (select array_agg(n) from l) as counts,
               (select percentile_cont(0.5) within group (order by n) from l) as median,
               (select percentile_cont(0.9) within group (order by n) from l) as p90,
               (select percentile_cont(0.99) within group (order by n) from l) as p99,
               (select max(n) from l) as max,
               (select count(*)::int from l where n >= ${weeklyCap}) as at_cap,
               (select sum(offered)::int from l) as offered,
               (select sum(told)::int from l) as told`,
  );
  return row;
}
