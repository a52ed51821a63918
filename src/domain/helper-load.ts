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
 * instead of counting a week and a month of notifications (bench:web's data, alternating runs: median 0.47 s →
0.13 s), returned as helpers per load value (readHelperLoad). The
 * helpers whose figures there are out of date (listed in helper_stats_pending since the last sweep, or a
 * notification left a window: stats_change_at <= now) are counted afresh with helper_stats, as the ranking
 * does, so both are exact at `now`.
 */
export async function collectHelperLoad(db: Executor, clock: Clock, viewer: Actor, weeklyCap: number): Promise<HelperLoad> {
  authorize(viewer, 'helpers.view');
  const load = await readHelperLoad(db, clock.now());
  const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
  return {
    helpers: load.helpers,
    buckets: LOAD_BUCKETS.map((b) => ({ from: b.from, to: b.to, helpers: load.count((n) => n >= b.from && (b.to === null || n <= b.to)) })),
    median: round(load.percentile(0.5)),
    p90: round(load.percentile(0.9)),
    p99: round(load.percentile(0.99)),
    max: load.max,
    atCap: load.count((n) => n >= weeklyCap),
    offerRate: load.told > 0 ? Math.round((load.offered / load.told) * 1000) / 1000 : null,
  };
}

/** Every helper's load (post notifications in the last 7 days) as a histogram, and their 30-day records summed. */
export interface HelperLoadFigures {
  helpers: number;
  /** The largest load; null without helpers. */
  max: number | null;
  /** Offers of help and notifications over 30 days, all helpers together. */
  offered: number;
  told: number;
  /** Helpers whose load passes `test`. */
  count(test: (load: number) => boolean): number;
  /** The load at fraction `p` of the helpers, interpolated as PostgreSQL's percentile_cont; null without helpers. */
  percentile(p: number): number | null;
}

/**
 * The statement of collectHelperLoad (also the helpers' load in /stats, collectLoopStats): helpers per load
 * value, a few dozen rows, from which the distribution is read in JavaScript. Each helper's figures are on
 * all their need subscriptions; the pending ones (and those whose window moved on) are counted afresh.
 */
export async function readHelperLoad(db: Executor, now: Date): Promise<HelperLoadFigures> {
  const rows = await queryRows<{ load: number; helpers: number; told: number; offered: number }>(
    db,
    sql`with stale as (select p.user_id from ${helperStatsPending} p
                       union select s.user_id from ${subscriptions} s where s.kind = 'need' and s.stats_change_at <= ${now}),
        fresh as (select d.user_id, st.load, st.told, st.offered from stale d cross join lateral helper_stats(d.user_id, ${now}::timestamptz) st),
        h as (select s.user_id, min(s.load) as load, min(s.told) as told, min(s.offered) as offered
              from ${subscriptions} s where s.kind = 'need' group by s.user_id)
        select coalesce(f.load, h.load)::int as load, count(*)::int as helpers,
               coalesce(sum(coalesce(f.told, h.told)), 0)::int as told, coalesce(sum(coalesce(f.offered, h.offered)), 0)::int as offered
        from h left join fresh f on f.user_id = h.user_id
        group by 1 order by 1`,
  );
  const helpers = rows.reduce((sum, r) => sum + r.helpers, 0);
  /** The load of the helper at 0-based rank `k` in load order. */
  const at = (k: number): number => {
    let seen = 0;
    for (const r of rows) {
      seen += r.helpers;
      if (k < seen) return r.load;
    }
    return rows[rows.length - 1]!.load;
  };
  return {
    helpers,
    max: rows.length ? rows[rows.length - 1]!.load : null,
    told: rows.reduce((sum, r) => sum + r.told, 0),
    offered: rows.reduce((sum, r) => sum + r.offered, 0),
    count: (test) => rows.reduce((sum, r) => sum + (test(r.load) ? r.helpers : 0), 0),
    percentile(p) {
      if (helpers === 0) return null;
      const position = p * (helpers - 1);
      const below = Math.floor(position);
      const low = at(below);
      return low + (position - below) * (at(Math.ceil(position)) - low);
    },
  };
}
