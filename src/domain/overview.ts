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
 * How long an overview is served from memory while nothing it counts has changed. It bounds what changes
 * without a write (a need passing 24 h unanswered, a helper's week of pause ending, a new week) and a
 * change committed while the overview was being computed (the change number is read before the counts).
 */
export const OVERVIEW_CACHE_MS = 30_000;

/** The overview last computed on a database, with the change number it was computed at. */
interface CachedOverview {
  city: CityDirectory;
  changes: string;
  at: number;
  overview: Promise<Overview>;
}
const cached = new WeakMap<Executor, CachedOverview>();

/**
 * The change number of what the overview counts: the sequence `overview_changes`, which a statement trigger
 * on posts, subscriptions and the reachability of users advances (migration 0012). Sequences are not
 * transactional, so this is the latest number whatever transaction reads it.
 */
async function overviewChanges(db: Executor): Promise<string> {
  const [row] = await queryRows<{ changes: string }>(db, sql`select last_value || ':' || is_called as changes from overview_changes`);
  return row?.changes ?? '';
}

/**
 * The heat map, the trend and the helpers per cell in three statements (posts grouped in SQL; the
 * helpers of a district are those subscribed to it or to the whole city, counted once each). Several
 * coordinators looking at an unchanged city share one computation: the overview is kept per database for
 * OVERVIEW_CACHE_MS and computed again as soon as a post, a subscription or a person's reachability
 * changes (bench:web measures both on 100,000 people and 50,000 posts; BENCHMARKS.md).
 */
export async function collectOverview(db: Executor, clock: Clock, viewer: Actor, city: CityDirectory): Promise<Overview> {
  authorize(viewer, 'stats.view');
  const changes = await overviewChanges(db);
  const now = clock.now();
  const last = cached.get(db);
  const age = last ? now.getTime() - last.at : Number.NaN;
  if (last && last.city === city && last.changes === changes && age >= 0 && age < OVERVIEW_CACHE_MS) return last.overview;
  const overview = computeOverview(db, now, city);
  cached.set(db, { city, changes, at: now.getTime(), overview });
  // A failed computation is not kept: the next request tries again.
  overview.catch(() => {
    if (cached.get(db)?.overview === overview) cached.delete(db);
  });
  return overview;
}

async function computeOverview(db: Executor, now: Date, city: CityDirectory): Promise<Overview> {
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
 *
 * One pass over the subscriptions: the statement counts the whole-city subscribers of each category and,
 * per district, the subscribers who do not also have the category's whole-city subscription (an anti-join
 * on the primary key); a district's cell is the sum of the two. (The earlier form joined every whole-city
 * subscriber with every district and materialised both sets: ten times slower on 200,000 subscriptions.)
 */
async function countHelpers(db: Executor, now: Date, city: CityDirectory): Promise<{ district: string; category: string; helpers: number }[]> {
  const rows = await queryRows<{ district: string; category: string; helpers: number }>(
    db,
    sql`select s.district, s.category, count(*)::int as helpers
        from ${subscriptions} s
        join ${users} u on u.id = s.user_id
        left join ${subscriptions} w on s.district <> ${WHOLE_CITY} and w.user_id = s.user_id and w.kind = 'need'
          and w.category = s.category and w.district = ${WHOLE_CITY}
        where s.kind = 'need' and w.user_id is null
          and u.deleted_at is null and u.banned_at is null and u.blocked_at is null
          and not u.notifications_paused and (u.paused_until is null or u.paused_until <= ${now})
        group by s.district, s.category`,
  );
  const whole = new Map(rows.filter((r) => r.district === WHOLE_CITY).map((r) => [r.category, r.helpers]));
  const districtOnly = new Map(rows.map((r) => [`${r.district}|${r.category}`, r.helpers]));
  return [...city.districts.map((d) => d.key), WHOLE_CITY].flatMap((district) =>
    city.categories.map((c) => ({
      district,
      category: c.key,
      helpers: (whole.get(c.key) ?? 0) + (district === WHOLE_CITY ? 0 : (districtOnly.get(`${district}|${c.key}`) ?? 0)),
    })),
  );
}

/**
 * The last TREND_WEEKS weeks (Monday to Monday, city time), oldest first. Each post is read once and put
 * into its week with width_bucket over the weeks' bounds (bucket i is [bounds[i], bounds[i+1])); the
 * fulfilled ones a second time, into the week they were closed in.
 */
async function collectTrend(db: Executor, now: Date, timeZone: string): Promise<TrendWeek[]> {
  const starts: Date[] = [startOfWeek(now, timeZone)];
  // A week back from Monday 00:00 is in the previous week (DST changes by an hour only): its Monday.
  while (starts.length < TREND_WEEKS) starts.unshift(startOfWeek(new Date(starts[0]!.getTime() - 3 * DAY_MS), timeZone));
  const bounds = sql`${`{${[...starts, new Date('9999-12-31T00:00:00Z')].map((b) => b.toISOString()).join(',')}}`}::timestamptz[]`;
  const first = starts[0]!;
  const rows = await queryRows<{ i: number; needs: number; offers: number; fast: number; fulfilled: number }>(
    db,
    sql`select i, count(*) filter (where kind = 'need')::int as needs, count(*) filter (where kind = 'offer')::int as offers,
               count(*) filter (where fast)::int as fast, 0 as fulfilled
        from (select width_bucket(published_at, ${bounds}) as i, kind,
                     kind = 'need' and first_response_at <= published_at + interval '24 hours' as fast
              from ${posts} where status <> 'removed' and published_at >= ${first}) p
        group by i
        union all
        select width_bucket(closed_at, ${bounds}), 0, 0, 0, count(*)::int
        from ${posts} where status = 'fulfilled' and closed_at >= ${first}
        group by 1`,
  );
  const sum = (index: number, key: 'needs' | 'offers' | 'fast' | 'fulfilled') => rows.filter((r) => r.i === index).reduce((a, r) => a + r[key], 0);
  return starts.map((weekStart, index) => ({
    weekStart,
    needs: sum(index + 1, 'needs'),
    offers: sum(index + 1, 'offers'),
    offeredWithin24h: sum(index + 1, 'fast'),
    fulfilled: sum(index + 1, 'fulfilled'),
  }));
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
  /** Of the new needs, those a Lotse took on behalf of a person without Telegram (/intake). */
  newNeedsIntake: number;
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
  const rows = await queryRows<{ district: string; new_needs: number; new_needs_intake: number; new_offers: number; fast: number; fulfilled: number; desk: number; open_needs: number }>(
    db,
    sql`select district,
               count(*) filter (where kind = 'need' and published_at >= ${weekStart} and published_at < ${weekEnd})::int as new_needs,
               count(*) filter (where kind = 'need' and published_at >= ${weekStart} and published_at < ${weekEnd}
                                  and intake_language is not null)::int as new_needs_intake,
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
      newNeedsIntake: r?.new_needs_intake ?? 0,
      newOffers: r?.new_offers ?? 0,
      offeredWithin24h: r?.fast ?? 0,
      fulfilled: r?.fulfilled ?? 0,
      reachedDesk: r?.desk ?? 0,
      openNeedsNow: r?.open_needs ?? 0,
    };
  });
  return { weekStart, weekEnd, rows: out };
}
