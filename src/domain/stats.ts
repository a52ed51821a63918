import { and, asc, eq, gte, inArray, isNotNull, isNull, lt, ne, or, sql } from 'drizzle-orm';
import { type CityDirectory, WHOLE_CITY } from '../city';
import type { Clock } from '../clock';
import { LOCALES } from '../config';
import { type Executor, queryRows } from '../db';
import { ACTIVE_POST_STATUSES, POST_KINDS, type PostKind, posts } from '../db/schema';
import { readHelperLoad } from './helper-load';
import { type Actor, authorize } from './permissions';
import { listPosterStarts, type PosterOrigin } from './posters';
import { localParts, zonedTime } from './time';

/** A need older than this without a single "I can help" counts as unanswered. */
export const UNANSWERED_AFTER_DAYS = 3;
/** The median time to the first response looks at needs published within this many days. */
export const RESPONSE_WINDOW_DAYS = 30;
/** How many of the oldest unanswered needs the overview lists. */
export const OLDEST_UNANSWERED_LIMIT = 5;

const DAY_MS = 86_400_000;

/** The numbers of one group of posts (a kind × district × category cell, or all posts of a kind). */
export interface StatsCounts {
  /** Posts that are open or in contact now. */
  open: number;
  /** Needs published more than UNANSWERED_AFTER_DAYS ago, still active, without any response (0 for offers). */
  unanswered: number;
  /** Posts marked fulfilled since Monday 00:00 in the city's time zone. */
  fulfilledThisWeek: number;
  /** Needs published in the last RESPONSE_WINDOW_DAYS that got a response (0 for offers). */
  answered: number;
  /** Median time from publishing to the first response over those `answered` needs; null without any. */
  medianFirstResponseMs: number | null;
}

/** One kind × district × category cell; only cells with at least one post counted are returned. */
export interface StatsCell extends StatsCounts {
  kind: PostKind;
  /** A district key or WHOLE_CITY. */
  district: string;
  category: string;
}

/** An unanswered need as the overview lists it: where and since when, nothing about its author. */
export interface UnansweredNeed {
  id: number;
  category: string;
  district: string;
  publishedAt: Date;
}

/** Everything the coordinators' overview and the CSV export show. Contains no personal data. */
export interface StatsOverview {
  generatedAt: Date;
  /** Monday 00:00 of the current week in the city's time zone. */
  weekStart: Date;
  cells: StatsCell[];
  totals: Record<PostKind, StatsCounts>;
  /** The longest-waiting unanswered needs, oldest first (at most OLDEST_UNANSWERED_LIMIT). */
  oldestUnanswered: UnansweredNeed[];
  /** Whether the loop closes: offers within 24 h, time to the first offer, the desk, the helpers' load. */
  loop?: LoopStats;
  /** How many people started through each poster (district × language); only posters with starts. */
  posters?: PosterStarts[];
}

/** People who started through the posters of one district (or the whole city) in one language. */
export type PosterStarts = PosterOrigin & { started: number };

/** The outcome of the needs of the last RESPONSE_WINDOW_DAYS and the helpers' load of the last 7 days. */
export interface LoopStats {
  /** Needs published in the window (removed ones not counted). */
  needs: number;
  /** Of them, those published at least 24 h ago (whose 24 hours are over) … */
  needsOver24h: number;
  /** … and of those, the ones with an offer of help within 24 h. */
  offeredWithin24h: number;
  /** Time from publishing to the first offer of help over the needs that got one; null without any. */
  medianFirstOfferMs: number | null;
  p90FirstOfferMs: number | null;
  /** Needs of the window that reached the Lotsen desk. */
  reachedDesk: number;
  /** Needs of the window a Lotse took for a person without Telegram (/intake). */
  intakeNeeds: number;
  /** Helpers (subscribers to needs) and their post notifications in the last 7 days, median and p99. */
  helpers: number;
  loadMedian: number | null;
  loadP99: number | null;
}

/** The loop's numbers in two statements (posts of the window; the helpers' load as the web desk's helpers page reads it). */
export async function collectLoopStats(db: Executor, clock: Clock): Promise<LoopStats> {
  const now = clock.now();
  const windowStart = new Date(now.getTime() - RESPONSE_WINDOW_DAYS * DAY_MS);
  const dayAgo = new Date(now.getTime() - DAY_MS);
  const wait = sql`extract(epoch from first_response_at - published_at)`;
  const seconds = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 1000));
  const [needs] = await queryRows<{ needs: number; over: number; offered: number; median: unknown; p90: unknown; desk: number; intake: number }>(
    db,
    sql`select count(*)::int as needs,
               count(*) filter (where published_at <= ${dayAgo})::int as over,
               count(*) filter (where published_at <= ${dayAgo} and first_response_at <= published_at + interval '24 hours')::int as offered,
               percentile_cont(0.5) within group (order by ${wait}) as median,
               percentile_cont(0.9) within group (order by ${wait}) as p90,
               count(*) filter (where desk_at is not null)::int as desk,
               count(*) filter (where intake_language is not null)::int as intake
        from ${posts}
        where kind = 'need' and status <> 'removed' and published_at >= ${windowStart}`,
  );
  const load = await readHelperLoad(db, now);
  const count = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
  return {
    needs: needs?.needs ?? 0,
    needsOver24h: needs?.over ?? 0,
    offeredWithin24h: needs?.offered ?? 0,
    medianFirstOfferMs: seconds(needs?.median),
    p90FirstOfferMs: seconds(needs?.p90),
    reachedDesk: needs?.desk ?? 0,
    intakeNeeds: needs?.intake ?? 0,
    helpers: load.helpers,
    loadMedian: count(load.percentile(0.5)),
    loadP99: count(load.percentile(0.99)),
  };
}

/** Monday 00:00 of the week that contains `now`, in `timeZone` (DST-safe). */
export function startOfWeek(now: Date, timeZone: string): Date {
  const p = localParts(now, timeZone);
  const today = Date.UTC(p.year, p.month - 1, p.day);
  const sinceMonday = (new Date(today).getUTCDay() + 6) % 7;
  const monday = new Date(today - sinceMonday * DAY_MS);
  return zonedTime(monday.getUTCFullYear(), monday.getUTCMonth() + 1, monday.getUTCDate(), 0, timeZone);
}

function emptyCounts(): StatsCounts {
  return { open: 0, unanswered: 0, fulfilledThisWeek: 0, answered: 0, medianFirstResponseMs: null };
}

/** The conditions behind each number, shared by the statements below. */
function conditions(now: Date, timeZone: string) {
  const weekStart = startOfWeek(now, timeZone);
  const active = inArray(posts.status, ACTIVE_POST_STATUSES);
  return {
    weekStart,
    active,
    // first_response_at is set by the first "I can help", even if the author later declined it.
    unanswered: and(eq(posts.kind, 'need'), active, isNull(posts.firstResponseAt), lt(posts.publishedAt, new Date(now.getTime() - UNANSWERED_AFTER_DAYS * DAY_MS))),
    fulfilled: and(eq(posts.status, 'fulfilled'), gte(posts.closedAt, weekStart)),
    // Removed posts (taken down by moderation) are no real needs; pending ones have no published_at.
    answered: and(
      eq(posts.kind, 'need'),
      ne(posts.status, 'removed'),
      isNotNull(posts.firstResponseAt),
      gte(posts.publishedAt, new Date(now.getTime() - RESPONSE_WINDOW_DAYS * DAY_MS)),
    ),
  };
}

/**
 * All counts in one statement: GROUPING SETS gives one row per kind × district × category and one
 * total row per kind (whose median is the overall median, which per-cell medians cannot give).
 * Only rows that count for something are read: active posts, this week's fulfilled ones and needs
 * answered in the response window.
 */
export async function countPostsByCell(db: Executor, clock: Clock, timeZone: string): Promise<{ cells: StatsCell[]; totals: Record<PostKind, StatsCounts>; weekStart: Date }> {
  const c = conditions(clock.now(), timeZone);
  const responseSeconds = sql`extract(epoch from ${posts.firstResponseAt} - ${posts.publishedAt})`;
  const rows = await db
    .select({
      kind: posts.kind,
      district: sql<string | null>`${posts.district}`,
      category: sql<string | null>`${posts.category}`,
      isTotal: sql<number>`grouping(${posts.district}, ${posts.category})`.mapWith(Number),
      open: sql<number>`count(*) filter (where ${c.active})`.mapWith(Number),
      unanswered: sql<number>`count(*) filter (where ${c.unanswered})`.mapWith(Number),
      fulfilledThisWeek: sql<number>`count(*) filter (where ${c.fulfilled})`.mapWith(Number),
      answered: sql<number>`count(*) filter (where ${c.answered})`.mapWith(Number),
      medianSeconds: sql`percentile_cont(0.5) within group (order by ${responseSeconds}) filter (where ${c.answered})`.mapWith((v: unknown) => (v === null ? null : Number(v))),
    })
    .from(posts)
    .where(or(c.active, c.fulfilled, c.answered))
    .groupBy(sql`grouping sets ((${posts.kind}, ${posts.district}, ${posts.category}), (${posts.kind}))`);

  const totals = Object.fromEntries(POST_KINDS.map((k) => [k, emptyCounts()])) as Record<PostKind, StatsCounts>;
  const cells: StatsCell[] = [];
  for (const row of rows) {
    const counts: StatsCounts = {
      open: row.open,
      unanswered: row.unanswered,
      fulfilledThisWeek: row.fulfilledThisWeek,
      answered: row.answered,
      medianFirstResponseMs: row.medianSeconds === null ? null : Math.round(row.medianSeconds * 1000),
    };
    if (row.isTotal !== 0) totals[row.kind] = counts;
    else cells.push({ kind: row.kind, district: row.district!, category: row.category!, ...counts });
  }
  return { cells, totals, weekStart: c.weekStart };
}

/** The needs that have waited longest without any response, oldest first. */
export async function findUnansweredNeeds(db: Executor, clock: Clock, timeZone: string, limit = OLDEST_UNANSWERED_LIMIT): Promise<UnansweredNeed[]> {
  const c = conditions(clock.now(), timeZone);
  const rows = await db
    .select({ id: posts.id, category: posts.category, district: posts.district, publishedAt: posts.publishedAt })
    .from(posts)
    .where(c.unanswered)
    .orderBy(asc(posts.publishedAt), asc(posts.id))
    .limit(limit);
  return rows.map((r) => ({ ...r, publishedAt: r.publishedAt! }));
}

/** The whole overview for /stats and /export: four statements, no rows of posts in JavaScript. */
export async function collectStats(db: Executor, clock: Clock, viewer: Actor, timeZone: string): Promise<StatsOverview> {
  authorize(viewer, 'stats.view');
  const generatedAt = clock.now();
  const [{ cells, totals, weekStart }, oldestUnanswered, loop, posters] = await Promise.all([
    countPostsByCell(db, clock, timeZone),
    findUnansweredNeeds(db, clock, timeZone),
    collectLoopStats(db, clock),
    listPosterStarts(db),
  ]);
  return { generatedAt, weekStart, cells, totals, oldestUnanswered, loop, posters };
}

/** The areas of the city in display order (districts, then the whole city), plus any unknown keys in the data. */
export function statsAreas(city: CityDirectory, cells: Pick<StatsCell, 'district'>[]): string[] {
  const known = [...city.districts.map((d) => d.key), WHOLE_CITY];
  const extra = [...new Set(cells.map((c) => c.district))].filter((d) => !known.includes(d)).sort();
  return [...known, ...extra];
}

/** The categories of the city in display order, plus any unknown keys in the data. */
export function statsCategories(city: CityDirectory, cells: Pick<StatsCell, 'category'>[]): string[] {
  const known = city.categories.map((c) => c.key);
  const extra = [...new Set(cells.map((c) => c.category))].filter((c) => !known.includes(c)).sort();
  return [...known, ...extra];
}

/** The CSV columns, in order; keys and counts only, never anything about a person. */
export const CSV_COLUMNS: readonly string[] = [
  'scope',
  'kind',
  'district_key',
  'district_de',
  'category_key',
  'category_de',
  'open',
  `unanswered_over_${UNANSWERED_AFTER_DAYS}_days`,
  'fulfilled_this_week',
  `answered_needs_${RESPONSE_WINDOW_DAYS}_days`,
  'median_first_response_minutes',
];

const CSV_SEPARATOR = ';';

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const s = String(value);
  return /[;"\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvRow(scope: 'cell' | 'total', kind: PostKind, district: string, category: string, city: CityDirectory, n: StatsCounts): string {
  const needsOnly = (v: number | null) => (kind === 'need' ? v : null);
  const minutes = n.medianFirstResponseMs === null ? null : Math.round(n.medianFirstResponseMs / 60_000);
  return [
    scope,
    kind,
    district,
    district === '' ? '' : city.districtName(district, 'de'),
    category,
    category === '' ? '' : city.categoryName(category, 'de'),
    n.open,
    needsOnly(n.unanswered),
    n.fulfilledThisWeek,
    needsOnly(n.answered),
    needsOnly(minutes),
  ]
    .map(csvField)
    .join(CSV_SEPARATOR);
}

/**
 * The overview as CSV (RFC 4180 quoting, CRLF, `;` as separator so that German Excel opens it in
 * columns). One `cell` row per kind × area × category, zero rows included, so that every export has
 * the same shape; then one `total` row per kind with empty keys. Needs-only columns are empty for
 * offers. Without the byte order mark: the caller adds it for the file.
 */
export function createStatsCsv(overview: Pick<StatsOverview, 'cells' | 'totals'>, city: CityDirectory): string {
  const byCell = new Map(overview.cells.map((c) => [`${c.kind}|${c.district}|${c.category}`, c]));
  const lines: string[] = [CSV_COLUMNS.join(CSV_SEPARATOR)];
  const areas = statsAreas(city, overview.cells);
  const categories = statsCategories(city, overview.cells);
  for (const kind of POST_KINDS) {
    for (const district of areas) {
      for (const category of categories) {
        lines.push(csvRow('cell', kind, district, category, city, byCell.get(`${kind}|${district}|${category}`) ?? emptyCounts()));
      }
    }
  }
  for (const kind of POST_KINDS) lines.push(csvRow('total', kind, '', '', city, overview.totals[kind]));
  return `${lines.join('\r\n')}\r\n`;
}

/** The columns of the posters' CSV: where the poster hangs, its language, how many started through it. */
export const POSTER_CSV_COLUMNS: readonly string[] = ['district_key', 'district_de', 'language', 'started'];

/**
 * Starts through posters as CSV (same format as the overview's): one row per area × language, zeros
 * included, the whole city as `*`, then a total row. Counts only.
 */
export function createPosterCsv(posters: readonly PosterStarts[], city: CityDirectory): string {
  const started = new Map(posters.map((p) => [`${p.district}|${p.locale}`, p.started]));
  const lines: string[] = [POSTER_CSV_COLUMNS.join(CSV_SEPARATOR)];
  for (const district of statsAreas(city, posters.map((p) => ({ district: p.district })))) {
    for (const locale of LOCALES) {
      lines.push([district, city.districtName(district, 'de'), locale, started.get(`${district}|${locale}`) ?? 0].map(csvField).join(CSV_SEPARATOR));
    }
  }
  lines.push(['', '', '', posters.reduce((sum, p) => sum + p.started, 0)].map(csvField).join(CSV_SEPARATOR));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * /export: the overview and its CSV, and — once anybody started through a poster — the posters' CSV, for
 * those who may take the numbers out of Hilfenetz.
 */
export async function exportStats(
  db: Executor,
  clock: Clock,
  exporter: Actor,
  city: CityDirectory,
): Promise<{ overview: StatsOverview; csv: string; postersCsv: string | null }> {
  authorize(exporter, 'stats.export');
  const overview = await collectStats(db, clock, exporter, city.timezone);
  return { overview, csv: createStatsCsv(overview, city), postersCsv: overview.posters?.length ? createPosterCsv(overview.posters, city) : null };
}
