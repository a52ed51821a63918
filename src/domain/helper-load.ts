import { sql } from 'drizzle-orm';
import type { Clock } from '../clock';
import { type Executor, queryRows } from '../db';
import { notifications, subscriptions } from '../db/schema';
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
  /** Offers of help per notification over 30 days, all helpers together. */
  offerRate: number | null;
}

/** The load of every subscriber to needs over the last 7 days, as a distribution (one statement). */
export async function collectHelperLoad(db: Executor, clock: Clock, viewer: Actor, weeklyCap: number): Promise<HelperLoad> {
  authorize(viewer, 'helpers.view');
  const now = clock.now();
  const weekAgo = new Date(now.getTime() - 7 * 86_400_000);
  const monthAgo = new Date(now.getTime() - 30 * 86_400_000);
  const [row] = await queryRows<{ helpers: number; counts: number[] | null; median: unknown; p90: unknown; p99: unknown; max: number | null; at_cap: number; offered: number; told: number }>(
    db,
    // The week's notifications grouped per person, joined to the helpers who subscribe to needs (a count per
    // helper probing the index 55,000 times took 0.9 s on bench:web's data; this 0.3 s).
    sql`with c as (select n.user_id, count(*)::int as n from ${notifications} n where n.created_at > ${weekAgo} group by n.user_id),
        h as (select distinct ${subscriptions.userId} as user_id from ${subscriptions} where ${subscriptions.kind} = 'need'),
        l as (select h.user_id, coalesce(c.n, 0) as n from h left join c on c.user_id = h.user_id),
        r as (select count(*) filter (where n.response = 'offered')::int as offered, count(*)::int as told
              from ${notifications} n where n.created_at > ${monthAgo} and n.wave is not null)
        select (select count(*)::int from l) as helpers,
               (select array_agg(n) from l) as counts,
               (select percentile_cont(0.5) within group (order by n) from l) as median,
               (select percentile_cont(0.9) within group (order by n) from l) as p90,
               (select percentile_cont(0.99) within group (order by n) from l) as p99,
               (select max(n) from l) as max,
               (select count(*)::int from l where n >= ${weeklyCap}) as at_cap,
               r.offered, r.told
        from r`,
  );
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
    offerRate: row && row.told > 0 ? Math.round((row.offered / row.told) * 1000) / 1000 : null,
  };
}
