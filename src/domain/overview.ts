import { sql } from 'drizzle-orm';
import { type CityDirectory, WHOLE_CITY } from '../city';
import type { Clock } from '../clock';
import { type Executor, queryRows } from '../db';
import { posts, subscriptions, users } from '../db/schema';
import { type Actor, authorize } from './permissions';
import { startOfWeek } from './stats';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** A need without any offer of help this long after publishing counts as unanswered on the web desk. */
export const OVERVIEW_UNANSWERED_AFTER_MS = DAY_MS;
/** The median time to the first offer looks at needs published within this many days. */
export const OVERVIEW_WINDOW_DAYS = 30;
/** How many weeks the trend shows (the current one included). */
export const TREND_WEEKS = 8;

/** One district × category cell of the web desk's heat map. */
export interface OverviewCell {
  /** A district key or WHOLE_CITY. */
  district: string;
  category: string;
  openNeeds: number;
  openOffers: number;
  /** Open needs published more than 24 h ago without a single offer of help. */
  unanswered: number;
  /** Median time from publishing to the first offer of help, needs of the last 30 days; null without any. */
  medianFirstOfferMs: number | null;
  /** Helpers who would be told about a need here now: subscribed to its category and district (or the whole city), reachable, not paused. */
  helpers: number;
}

/** One week of the trend (Monday 00:00 city time). */
export interface TrendWeek {
  weekStart: Date;
  needs: number;
  offers: number;
  /** Needs of the week with an offer of help within 24 h. */
  offeredWithin24h: number;
  fulfilled: number;
}

/** What the web desk's overview shows; counts only, nothing about a person. */
export interface Overview {
  generatedAt: Date;
  districts: string[];
  categories: string[];
  /** Every district × category cell, zeros included, in display order. */
  cells: OverviewCell[];
  trend: TrendWeek[];
}

/**
 * The heat map, the trend and the helpers per cell in three statements (posts grouped in SQL; the
 * helpers of a district are those subscribed to it or to the whole city, counted once each).
 */
export async function collectOverview(db: Executor, clock: Clock, viewer: Actor, city: CityDirectory): Promise<Overview> {
  authorize(viewer, 'stats.view');
  const now = clock.now();
  const [cellRows, helperRows, trend] = await Promise.all([countCells(db, now), countHelpers(db, now, city), collectTrend(db, now, city.timezone)]);
  const districts = [...city.districts.map((d) => d.key), WHOLE_CITY];
  const categories = city.categories.map((c) => c.key);
  const byCell = new Map(cellRows.map((r) => [`${r.district}|${r.category}`, r]));
  const helpers = new Map(helperRows.map((r) => [`${r.district}|${r.category}`, r.helpers]));
  const cells: OverviewCell[] = [];
  for (const district of districts) {
    for (const category of categories) {
      const key = `${district}|${category}`;
      const row = byCell.get(key);
      cells.push({
        district,
        category,
        openNeeds: row?.open_needs ?? 0,
        openOffers: row?.open_offers ?? 0,
        unanswered: row?.unanswered ?? 0,
        medianFirstOfferMs: row?.median === null || row?.median === undefined ? null : Math.round(Number(row.median) * 1000),
        helpers: helpers.get(key) ?? 0,
      });
    }
  }
  return { generatedAt: now, districts, categories, cells, trend };
}

interface CellRow {
  district: string;
  category: string;
  open_needs: number;
  open_offers: number;
  unanswered: number;
  median: unknown;
}

async function countCells(db: Executor, now: Date): Promise<CellRow[]> {
  const unansweredBefore = new Date(now.getTime() - OVERVIEW_UNANSWERED_AFTER_MS);
  const windowStart = new Date(now.getTime() - OVERVIEW_WINDOW_DAYS * DAY_MS);
  const active = sql`status in ('open', 'in_contact')`;
  const answered = sql`kind = 'need' and status <> 'removed' and first_response_at is not null and published_at >= ${windowStart}`;
  return queryRows<CellRow>(
    db,
    sql`select district, category,
               count(*) filter (where kind = 'need' and ${active})::int as open_needs,
               count(*) filter (where kind = 'offer' and ${active})::int as open_offers,
               count(*) filter (where kind = 'need' and ${active} and first_response_at is null and published_at < ${unansweredBefore})::int as unanswered,
               percentile_cont(0.5) within group (order by extract(epoch from first_response_at - published_at)) filter (where ${answered}) as median
        from ${posts}
        where ${active} or (${answered})
        group by district, category`,
  );
}

/**
 * Reachable helpers per district × category: subscribers to needs who are not banned, deleted, blocked or
 * paused. A whole-city subscription counts in every district (and in the whole-city row); someone subscribed
 * both to a district and to the whole city counts once there.
 */
async function countHelpers(db: Executor, now: Date, city: CityDirectory): Promise<{ district: string; category: string; helpers: number }[]> {
  const districts = sql.join(
    city.districts.map((d) => sql`(${d.key})`),
    sql`, `,
  );
  return queryRows(
    db,
    sql`with subs as materialized (
          select s.user_id, s.category, s.district
          from ${subscriptions} s join ${users} u on u.id = s.user_id
          where s.kind = 'need' and u.deleted_at is null and u.banned_at is null and u.blocked_at is null
            and not u.notifications_paused and (u.paused_until is null or u.paused_until <= ${now})
        ),
        whole as (select user_id, category from subs where district = ${WHOLE_CITY})
        select d.key as district, w.category, count(*)::int as helpers
          from whole w cross join (values ${districts}) as d(key)
          group by d.key, w.category
        union all
        select s.district, s.category, count(*)::int
          from subs s
          where s.district <> ${WHOLE_CITY}
            and not exists (select 1 from whole w where w.user_id = s.user_id and w.category = s.category)
          group by s.district, s.category
        union all
        select ${WHOLE_CITY}, category, count(*)::int from whole group by category`,
  ).then((rows) => {
    // The first two parts may both name a cell: whole-city subscribers plus district-only ones.
    const sum = new Map<string, { district: string; category: string; helpers: number }>();
    for (const r of rows as { district: string; category: string; helpers: number }[]) {
      const key = `${r.district}|${r.category}`;
      const prev = sum.get(key);
      if (prev) prev.helpers += r.helpers;
      else sum.set(key, { ...r });
    }
    return [...sum.values()];
  });
}

/** The last TREND_WEEKS weeks (Monday to Monday, city time), oldest first. */
async function collectTrend(db: Executor, now: Date, timeZone: string): Promise<TrendWeek[]> {
  const starts: Date[] = [startOfWeek(now, timeZone)];
  // A week back from Monday 00:00 is in the previous week (DST changes by an hour only): its Monday.
  while (starts.length < TREND_WEEKS) starts.unshift(startOfWeek(new Date(starts[0]!.getTime() - 3 * DAY_MS), timeZone));
  const bounds = [...starts, new Date('9999-12-31T00:00:00Z')];
  const first = starts[0]!;
  const rows = await queryRows<{ i: number; needs: number; offers: number; fast: number; fulfilled: number }>(
    db,
    sql`with weeks as (select i::int, b[i] as from_at, b[i + 1] as to_at
                       from (select ${`{${bounds.map((b) => b.toISOString()).join(',')}}`}::timestamptz[] as b) x,
                            generate_series(1, ${TREND_WEEKS}) i)
        select w.i,
               count(*) filter (where p.kind = 'need' and p.published_at >= w.from_at and p.published_at < w.to_at)::int as needs,
               count(*) filter (where p.kind = 'offer' and p.published_at >= w.from_at and p.published_at < w.to_at)::int as offers,
               count(*) filter (where p.kind = 'need' and p.published_at >= w.from_at and p.published_at < w.to_at
                                  and p.first_response_at <= p.published_at + interval '24 hours')::int as fast,
               count(*) filter (where p.status = 'fulfilled' and p.closed_at >= w.from_at and p.closed_at < w.to_at)::int as fulfilled
        from weeks w
        left join ${posts} p on p.status <> 'removed'
          and ((p.published_at >= w.from_at and p.published_at < w.to_at) or (p.status = 'fulfilled' and p.closed_at >= w.from_at and p.closed_at < w.to_at))
          and (p.published_at >= ${first} or p.closed_at >= ${first})
        group by w.i order by w.i`,
  );
  return starts.map((weekStart, index) => {
    const row = rows.find((r) => r.i === index + 1);
    return { weekStart, needs: row?.needs ?? 0, offers: row?.offers ?? 0, offeredWithin24h: row?.fast ?? 0, fulfilled: row?.fulfilled ?? 0 };
  });
}

/** Totals of the heat map per district (row sums) for the map. */
export function districtTotals(overview: Overview): Map<string, { openNeeds: number; openOffers: number; unanswered: number; helpers: number }> {
  const totals = new Map<string, { openNeeds: number; openOffers: number; unanswered: number; helpers: number }>();
  for (const c of overview.cells) {
    const t = totals.get(c.district) ?? { openNeeds: 0, openOffers: 0, unanswered: 0, helpers: 0 };
    t.openNeeds += c.openNeeds;
    t.openOffers += c.openOffers;
    t.unanswered += c.unanswered;
    t.helpers = Math.max(t.helpers, c.helpers);
    totals.set(c.district, t);
  }
  return totals;
}

/** One row of the weekly summary for the social office: what happened in one district in one week. */
export interface WeeklyRow {
  district: string;
  newNeeds: number;
  newOffers: number;
  offeredWithin24h: number;
  fulfilled: number;
  reachedDesk: number;
  openNeedsNow: number;
}

/** The weekly summary: the last full week (Monday to Monday, city time), per district and in total. */
export async function collectWeeklySummary(db: Executor, clock: Clock, viewer: Actor, city: CityDirectory): Promise<{ weekStart: Date; weekEnd: Date; rows: WeeklyRow[] }> {
  authorize(viewer, 'stats.export');
  const weekEnd = startOfWeek(clock.now(), city.timezone);
  const weekStart = startOfWeek(new Date(weekEnd.getTime() - 3 * DAY_MS), city.timezone);
  const rows = await queryRows<{ district: string; new_needs: number; new_offers: number; fast: number; fulfilled: number; desk: number; open_needs: number }>(
    db,
    sql`select district,
               count(*) filter (where kind = 'need' and published_at >= ${weekStart} and published_at < ${weekEnd})::int as new_needs,
               count(*) filter (where kind = 'offer' and published_at >= ${weekStart} and published_at < ${weekEnd})::int as new_offers,
               count(*) filter (where kind = 'need' and published_at >= ${weekStart} and published_at < ${weekEnd}
                                  and first_response_at <= published_at + interval '24 hours')::int as fast,
               count(*) filter (where status = 'fulfilled' and closed_at >= ${weekStart} and closed_at < ${weekEnd})::int as fulfilled,
               count(*) filter (where kind = 'need' and desk_at >= ${weekStart} and desk_at < ${weekEnd})::int as desk,
               count(*) filter (where kind = 'need' and status in ('open', 'in_contact'))::int as open_needs
        from ${posts}
        where status <> 'removed'
        group by district`,
  );
  const byDistrict = new Map(rows.map((r) => [r.district, r]));
  const out: WeeklyRow[] = [...city.districts.map((d) => d.key), WHOLE_CITY].map((district) => {
    const r = byDistrict.get(district);
    return {
      district,
      newNeeds: r?.new_needs ?? 0,
      newOffers: r?.new_offers ?? 0,
      offeredWithin24h: r?.fast ?? 0,
      fulfilled: r?.fulfilled ?? 0,
      reachedDesk: r?.desk ?? 0,
      openNeedsNow: r?.open_needs ?? 0,
    };
  });
  return { weekStart, weekEnd, rows: out };
}
