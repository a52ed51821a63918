import { and, eq, isNull, lte, type Placeholder, type SQL, sql } from 'drizzle-orm';
import { WHOLE_CITY } from '../city';
import type { Config } from '../config';
import { type Database, type Executor, queryRows, rowFromJson, shapedStatement } from '../db';
import { contacts, helperStatsPending, notifications, outbox, posts, PRIORITY, type PostRow, subscriptions, users, type UserRow } from '../db/schema';
import { coveringDistricts, reachableHelperSql, type RoutingContext } from './matching';
import { enqueue, OUTBOX_KINDS } from './outbox';
import { effectiveQuietHours, quietUntil, quietUntilSqlOf, quietUntilValues } from './time';
import { isProtectedNeed, verifiedOnlySql } from './verification';

/** How long "Pause for a week" lasts. */
export const PAUSE_FOR_A_WEEK_MS = 7 * 86_400_000;
/**
 * Writes the fairness statistics as of `now` (the application's clock) onto the need subscriptions of the
 * helpers listed in helper_stats_pending (their notifications changed: told, answered, erased) and of the
 * helpers whose 7- or 30-day window has moved on (stats_change_at <= now), and empties the list. The
 * ranking is exact without it (it counts those helpers afresh, pendingStreamSql); it keeps that set small,
 * off the path of publishing: a sweep every few seconds (src/background.ts), in batches of `batchSize`
 * helpers, one statement each. Returns the helpers written.
 */
export async function catchUpHelperStats(db: Executor, now: Date, batchSize = CATCH_UP_BATCH): Promise<number> {
  let written = 0;
  for (;;) {
    const [row] = await queryRows<{ n: number }>(db, sql`select catch_up_helper_stats(${now}, ${batchSize}) as n`);
    const n = row?.n ?? 0;
    if (n === 0) return written;
    written += n;
  }
}

/**
 * Helpers caught up per statement: a backlog (right after the migration every helper ever told is listed;
 * a long database outage) goes in short transactions, never one that locks everyone's rows.
 */
const CATCH_UP_BATCH = 1_000;

/** How needs travel: WAVE_SIZE, WAVE_INTERVAL, HELPER_WEEKLY_CAP and the city's neighbouring districts. */
export interface WaveSettings {
  size: number;
  intervalMs: number;
  weeklyCap: number;
  /** The districts next to a district (city file); the search widens to them. */
  neighbours(district: string): readonly string[];
}

/** The wave settings from the configuration and the city. */
export function waveSettings(
  config: Pick<Config, 'WAVE_SIZE' | 'WAVE_INTERVAL' | 'HELPER_WEEKLY_CAP'>,
  city: { neighbours(district: string): readonly string[] },
): WaveSettings {
  return { size: config.WAVE_SIZE, intervalMs: config.WAVE_INTERVAL, weeklyCap: config.HELPER_WEEKLY_CAP, neighbours: (d) => city.neighbours(d) };
}

/** What the wave functions need: routing (clock, time zone, quiet hours) plus the wave settings. */
export interface WaveContext extends RoutingContext {
  waves: WaveSettings;
}

/** The columns of a need that its ranking reads. */
type RankedPost = Pick<PostRow, 'id' | 'kind' | 'authorId' | 'category' | 'district'>;

/** The columns of a need that a wave reads. */
type WavePost = Pick<PostRow, 'id' | 'kind' | 'status' | 'authorId' | 'category' | 'district' | 'wave' | 'waveAt' | 'nextWaveAt' | 'widenedAt' | 'deskAt'>;

/** One run of the ranking statement. */
interface Told {
  /** People newly told. */
  told: number;
  /** Of them, people from the neighbouring districts. */
  far: number;
  /** When the first of them can see it (quiet hours defer the others); null when nobody was told. */
  firstVisibleAt: Date | null;
}

const NOBODY: Told = { told: 0, far: 0, firstVisibleAt: null };

/** A wave: who was told, and the need as its state was written with it (null: unchanged, see WaveRecord). */
interface Wave extends Told {
  post: PostRow | null;
}

/**
 * What a wave writes on its need, in tellNext's last statement (nothing unless `write`: a refill after a
 * decline): `wave` (its number), `desk` (a wave that finds nobody puts the need on the desk; without it,
 * such a wave changes nothing), the helpers told by an earlier statement of the same wave (`before`), and
 * `fills`: the statement writes only when it told at least that many (the first statement of a wave is the
 * last only when it fills the wave).
 */
interface WaveRecord {
  wave: number;
  write: boolean;
  desk: boolean;
  before: Told;
  fills: number;
}

/** Rules 3–6 of the ranking: the order of subscriptions_rank_idx and subscriptions_city_rank_idx after their prefix. */
function rankOrder(s: string, user: string): SQL {
  const c = (name: string) => sql.raw(`${s}.${name}`);
  return sql`${c('load')}, ${c('record')} desc nulls last, ${c('last_at')} asc nulls first, ${c('shuffle')}, ${sql.raw(`${s}.${user}`)}`;
}

function districtList(districts: readonly Placeholder[]): SQL {
  return sql.join(
    districts.map((d) => sql`${d}`),
    sql`, `,
  );
}

/**
 * How a wave's statement looks apart from its values: the districts of the local tier (own district and
 * whole city: how many; null for a whole-city need), how many neighbouring districts the search may widen
 * to, whether only verified helpers may be told, and which tiers it reads (see tellNext). Its text is built
 * once per shape (shapedStatement): every value is a placeholder (`bound`, localDistrict, nearDistrict)
 * bound at each run (ranking). Building the text again at every wave cost ~0.7 ms of JavaScript.
 */
interface WaveShape {
  local: number | null;
  near: number;
  verifiedOnly: boolean;
  tiers: 'local' | 'rest' | 'all';
}

function shapeKey(shape: WaveShape): string {
  return `${shape.tiers}:${shape.local ?? 'city'}:${shape.near}:${shape.verifiedOnly ? 'verified' : 'all'}`;
}

/** The placeholders of the values every wave statement binds (ranking). */
const bound = {
  postId: sql.placeholder('postId'),
  authorId: sql.placeholder('authorId'),
  category: sql.placeholder('category'),
  now: sql.placeholder('now'),
  limit: sql.placeholder('limit'),
  weeklyCap: sql.placeholder('weeklyCap'),
};
const localDistrict = (i: number) => sql.placeholder(`local${i}`);
const nearDistrict = (i: number) => sql.placeholder(`near${i}`);

/**
 * A need's ranking at `now`, cut at `limit`, reading `tiers`: the shape of its statement and the values of
 * the shape's placeholders (its local districts, the neighbouring ones it may widen to, and the rest).
 */
function ranking(ctx: WaveContext, post: RankedPost, tiers: WaveShape['tiers'], now: Date, limit: number): { shape: WaveShape; values: Record<string, unknown> } {
  const local = coveringDistricts(post.district);
  const near = post.district === WHOLE_CITY ? [] : ctx.waves.neighbours(post.district).filter((d) => d !== WHOLE_CITY && !local?.includes(d));
  const values: Record<string, unknown> = { postId: post.id, authorId: post.authorId, category: post.category, now, limit, weeklyCap: ctx.waves.weeklyCap };
  for (const [i, district] of (local ?? []).entries()) values[`local${i}`] = district;
  for (const [i, district] of near.entries()) values[`near${i}`] = district;
  return { shape: { local: local?.length ?? null, near: near.length, verifiedOnly: isProtectedNeed(ctx, post), tiers }, values };
}

/** A tier's streams: which districts, whether from the neighbours, whether capped, and which rows of a helper count first. */
interface StreamSpec {
  far: boolean;
  capped: boolean;
  /** A condition on another need subscription `o` of the helper (same category) that stands for them instead of `s`. */
  other: SQL;
}

/**
 * The conditions every stream applies to a candidate row `s` (with its user `u`): the helper may be told
 * (reachableHelperSql; verifiedHelperSql for a protected category), was not told about this need yet, and `s` is the helper's one row
 * in this tier (no other subscription of theirs that the tier counts first).
 */
function candidateSql(shape: WaveShape, spec: StreamSpec): SQL {
  return sql`not exists (select 1 from ${subscriptions} o
          where o.user_id = s.user_id and o.kind = 'need' and o.category = ${bound.category} and o.district <> s.district and (${spec.other}))
        and ${reachableHelperSql(bound.authorId, bound.now)}${verifiedOnlySql(shape.verifiedOnly)}
        and not exists (select 1 from ${notifications} t where t.post_id = ${bound.postId} and t.user_id = s.user_id)`;
}

/**
 * One stream of a wave's ranking: the need subscriptions of one district (or of every district: `district`
 * null, through subscriptions_city_rank_idx) read in rank order from the index, cut at `limit`. It reads the
 * statistics written on the rows, so it leaves out the helpers whose statistics are out of date (listed in
 * helper_stats_pending, or a window moved on: stats_change_at <= now): pendingStreamSql ranks those. A
 * helper's statistics are the same on all their need subscriptions, so whichever row stands for them ranks
 * them the same; the tie-breaker is that row's.
 */
function streamSql(shape: WaveShape, district: Placeholder | null, spec: StreamSpec): SQL {
  return sql`(select s.user_id as id, u.telegram_id, u.quiet_start, u.quiet_end, ${spec.far ? sql`true` : sql`false`} as far,
        s.load, s.record, s.last_at, s.shuffle
      from ${subscriptions} s
      join ${users} u on u.id = s.user_id
      where s.kind = 'need' and s.category = ${bound.category}${district === null ? sql`` : sql` and s.district = ${district}`}
        and s.load ${spec.capped ? sql`>=` : sql`<`} ${bound.weeklyCap}
        and (s.stats_change_at is null or s.stats_change_at > ${bound.now})
        and not exists (select 1 from ${helperStatsPending} p where p.user_id = s.user_id)
        and ${candidateSql(shape, spec)}
      order by ${rankOrder('s', 'user_id')}
      limit ${bound.limit})`;
}

/**
 * The helpers of a tier whose statistics on their subscriptions are out of date (pending, or a window moved
 * on), with their statistics counted afresh from `notifications` (the SQL function pending_helper_stats,
 * which returns at once when nobody is pending: migration 0018), in rank order, cut at `limit`. A few
 * helpers: the ones told, answering or erased since the last catch-up (catchUpHelperStats).
 */
function pendingStreamSql(shape: WaveShape, districts: readonly Placeholder[] | null, spec: StreamSpec): SQL {
  const inDistricts = districts === null ? sql`null::text[]` : sql`array[${districtList(districts)}]::text[]`;
  return sql`(select s.user_id as id, u.telegram_id, u.quiet_start, u.quiet_end, ${spec.far ? sql`true` : sql`false`} as far,
        s.load, s.record, s.last_at, s.shuffle
      from pending_helper_stats(${bound.category}, ${inDistricts}, ${bound.now}::timestamptz) s
      join ${users} u on u.id = s.user_id
      where s.load ${spec.capped ? sql`>=` : sql`<`} ${bound.weeklyCap}
        and ${candidateSql(shape, spec)}
      order by ${rankOrder('s', 'user_id')}
      limit ${bound.limit})`;
}

/** Several streams merged in rank order (PostgreSQL: a Merge Append of the index scans), cut at `limit`. */
function mergedSql(streams: SQL[]): SQL {
  if (streams.length === 1) return streams[0]!;
  return sql`(select * from (${sql.join(streams, sql` union all `)}) m order by ${rankOrder('m', 'id')} limit ${bound.limit})`;
}

/**
 * Tells the next `limit` helpers of a need, ranked for fairness: the ranking, the `notifications` rows (whose
 * primary key keeps "at most once per post") and one outbox row each, deferred to the end of the helper's
 * quiet hours, and the need's routing state (`state`: wave, next wave due, widened, desk; see tellTiers), in
 * one statement like routePost — two when the local tier falls short (below). On
 * PostgreSQL the statement is prepared once per connection (shapedStatement): planning its dozen small
 * joins cost more than running them. Its text is built once per shape (WaveShape).
 *
 * Candidates: subscribers to needs of the category whose districts cover the need (its district or the
 * whole city), and — once the search may widen — those of the neighbouring districts; minus everyone
 * already told about it and everyone routing excludes (reachableHelperSql); for a protected category,
 * verified helpers only (verifiedHelperSql). Ranked by:
 *   1. whether the helper is at HELPER_WEEKLY_CAP (notifications in 7 days): capped helpers come last of all,
 *      so they are woken only when nobody else is left, neighbours included;
 *   2. own district and whole city before neighbouring districts (the search widens only after those);
 *   3. fewest notifications in the last 7 days;
 *   4. better response record: offers of help per notification over 30 days, smoothed as
 *      (offers + 1) / (notifications + 2), so that a newcomer starts in the middle (½), not at 0 or 1;
 *   5. longest since last notified (never within 30 days first);
 *   6. random: a number drawn for each need subscription (`shuffle`), drawn again after its helper was told
 *      (at the catch-up); among helpers equal in 1–5, the one whose row (below) has the smaller number.
 *
 * How it stays fast: every need subscription carries its helper's statistics for rules 1 and 3–5 (load,
 * told, offered and the generated `record`, last_at; the same on all of the helper's need subscriptions) and
 * the tie-breaker `shuffle`, and subscriptions_rank_idx holds them in rank order per (kind, category,
 * district). So the ranking never looks at all candidates: each district is a *stream*, an index scan in
 * rank order whose rows are checked one by one (reachable, verified, not told yet) and cut at `limit`; the
 * streams of a tier are merged in rank order (Merge Append) and cut at `limit`. A whole-city need reads one
 * stream over all districts of the category (subscriptions_city_rank_idx). Someone subscribed to several
 * districts of a tier (say their own and the whole city) would appear in several streams: only one of their
 * rows counts (the one whose district sorts first: `o.district < s.district`), and since all their rows
 * carry the same statistics, the merged order is exactly that of sorting the candidates by rules 3–6 — the
 * union of every stream's first `limit` holds the first `limit` of the whole ranking. A wave reads about
 * `limit` rows (plus the ones it skips), whatever the number of candidates (bench:match -- --first-wave).
 *
 * The statistics written on the rows are those of the last catch-up. Writing them is the expensive part (a
 * helper's five subscriptions, four indexes each), so the wave does not: triggers on `notifications` list
 * the helpers concerned in helper_stats_pending (a wave's 50 inserts are one small INSERT there), and the
 * sweep catchUpHelperStats writes them back every few seconds, together with the helpers whose 7- or
 * 30-day window has moved on (stats_change_at <= now, by the application's clock). Until then the streams
 * leave those helpers out, and one more stream per tier (pendingStreamSql) ranks them with their statistics
 * counted afresh from `notifications` — so the ranking is exact whether or not the catch-up has run.
 *
 * Rules 1 and 2 split the candidates into tiers that never mix — local helpers under the cap, neighbours
 * under the cap (minus everyone with a local subscription), local capped helpers, capped neighbours. The
 * first is a statement of its own, which most waves fill; only when it falls short does a second statement
 * rank the others, as a `union all` under one `limit` that PostgreSQL's Append reads a tier at a time, only
 * while the tiers before fall short. Both statements are in the caller's transaction.
 */
async function tellNext(db: Executor, ctx: WaveContext, post: WavePost, wave: number, limit: number, state: { desk: boolean } | null): Promise<Wave> {
  const now = ctx.clock.now();
  // Most waves are filled by local helpers under the cap: that tier is a statement of its own, so that the
  // others are not even planned (planning a dozen streams cost more than reading one). The need's state is
  // written (unless `state` is null) by whichever statement is the last: this one if it fills the wave.
  const write = state !== null;
  const desk = state?.desk ?? false;
  const first = await tellTiers(db, ctx, post, now, limit, 'local', { wave, write, desk, before: NOBODY, fills: limit });
  const left = limit - first.told;
  if (left <= 0) return first;
  const second = await tellTiers(db, ctx, post, now, left, 'rest', { wave, write, desk, before: first, fills: 0 });
  return { ...second, told: first.told + second.told, far: first.far + second.far };
}

/**
 * The tiers of a shape's ranking (see tellNext) in order, each as SQL cut at `limit` rows: `local` (own
 * district and whole city, under the cap), or the `rest` (neighbours under the cap, local capped, capped
 * neighbours), or `all` of them.
 */
function rankingTiers(shape: WaveShape): SQL[] {
  const local = shape.local === null ? null : Array.from({ length: shape.local }, (_, i) => localDistrict(i));
  const near = Array.from({ length: shape.near }, (_, i) => nearDistrict(i));
  // A helper's row that another row of the same tier stands for: one of an earlier district in the tier,
  // and for neighbours any local one (they belong to the local tiers).
  const earlierIn = (districts: readonly Placeholder[]) => sql`o.district in (${districtList(districts)}) and o.district < s.district`;
  const localTier = (capped: boolean): SQL => {
    const spec = { far: false, capped, other: local === null ? sql`o.district < s.district` : earlierIn(local) };
    const streams = local === null ? [streamSql(shape, null, spec)] : local.map((district) => streamSql(shape, district, spec));
    return mergedSql([...streams, pendingStreamSql(shape, local, spec)]);
  };
  const farTier = (capped: boolean): SQL[] => {
    if (near.length === 0 || local === null) return [];
    const spec = { far: true, capped, other: sql`o.district in (${districtList(local)}) or (${earlierIn(near)})` };
    return [mergedSql([...near.map((district) => streamSql(shape, district, spec)), pendingStreamSql(shape, near, spec)])];
  };
  const rest = () => [...farTier(false), localTier(true), ...farTier(true)];
  if (shape.tiers === 'local') return [localTier(false)];
  if (shape.tiers === 'rest') return rest();
  return [localTier(false), ...rest()];
}

/**
 * The next `limit` helpers of a need in rank order, without telling them (the same tiers and streams as
 * tellNext): the tests compare it with the ranking written the plain way.
 */
export async function rankHelpers(db: Executor, ctx: WaveContext, post: RankedPost, limit: number): Promise<{ id: number; far: boolean }[]> {
  const { shape, values } = ranking(ctx, post, 'all', ctx.clock.now(), limit);
  return rankStatement(db, shape, values);
}

const rankStatement = shapedStatement<WaveShape, { id: number; far: boolean }>(
  shapeKey,
  (shape) => sql`select id, far from (${sql.join(rankingTiers(shape), sql` union all `)}) t limit ${bound.limit}`,
);

/**
 * One statement of tellNext: the first `limit` helpers of `tiers` (read in order, each only while the ones
 * before it fall short), their `notifications` rows and their outbox rows, and the need's state (`record`).
 *
 * The state, when somebody was told (in this statement or `record.before`): the wave number, when it was
 * tried, and the next wave due WAVE_INTERVAL after the first of them can see it (quiet hours defer that);
 * the moment the search first reached the neighbouring districts. When nobody was told and `record.desk`:
 * no next wave, and the need on the coordinators' desk from now (if it was not already).
 */
async function tellTiers(db: Executor, ctx: WaveContext, post: WavePost, now: Date, limit: number, tiers: 'local' | 'rest', record: WaveRecord): Promise<Wave> {
  const { shape, values } = ranking(ctx, post, tiers, now, limit);
  const [row] = await tellStatement(db, shape, {
    ...values,
    ...quietUntilValues(now, ctx.timeZone, ctx.quietHours),
    wave: record.wave,
    write: record.write,
    desk: record.desk,
    fills: record.fills,
    beforeTold: record.before.told,
    beforeFar: record.before.far,
    beforeFirstVisibleAt: record.before.firstVisibleAt,
    interval: ctx.waves.intervalMs,
  });
  const first = row?.first_visible_at;
  return { told: row?.told ?? 0, far: row?.far ?? 0, firstVisibleAt: first ? new Date(first) : null, post: row?.post ? rowFromJson(posts, row.post) : null };
}

const tellStatement = shapedStatement<WaveShape, { told: number; far: number; first_visible_at: Date | string | null; post: Record<string, unknown> | null }>(shapeKey, (shape) => {
  const p = (name: string) => sql.placeholder(name);
  const notBefore = quietUntilSqlOf(
    { now: bound.now, minute: p('minute'), day: p('day'), timeZone: p('timeZone'), fallbackStart: p('fallbackStart'), fallbackEnd: p('fallbackEnd') },
    sql`r.quiet_start`,
    sql`r.quiet_end`,
  );
  const before = { told: p('beforeTold'), far: p('beforeFar'), firstVisibleAt: p('beforeFirstVisibleAt') };
  const record = { wave: p('wave'), write: p('write'), desk: p('desk'), fills: p('fills') };
  return sql`with ranked as materialized (
        select id, telegram_id, quiet_start, quiet_end, far from (${sql.join(rankingTiers(shape), sql` union all `)}) tiers
        limit ${bound.limit}
      ),
      notified as (
        insert into ${notifications} (post_id, user_id, created_at, wave)
        select ${bound.postId}, id, ${bound.now}, ${record.wave} from ranked
        on conflict do nothing
        returning user_id
      ),
      queued as (
        insert into ${outbox} (user_id, chat_id, priority, kind, payload, post_id, not_before, created_at)
        select r.id, r.telegram_id, ${PRIORITY.notification}, ${OUTBOX_KINDS.postNotify}, '{}'::jsonb, ${bound.postId}, ${notBefore}, ${bound.now}
        -- One outbox row per person whatever the streams return (a guard: they count each helper once).
        from (select distinct on (id) * from ranked) r
        where r.id in (select n.user_id from notified n)
        returning user_id, not_before
      ),
      told as (
        select count(*)::int as told,
               count(*) filter (where q.user_id in (select id from ranked where far))::int as far,
               min(q.not_before) as first_visible_at
        from queued q
      ),
      recorded as (
        update ${posts} p set
          wave = case when t.told + ${before.told}::int > 0 then ${record.wave}::smallint else p.wave end,
          wave_at = ${bound.now}::timestamptz,
          next_wave_at = case when t.told + ${before.told}::int > 0
            then greatest(coalesce(least(t.first_visible_at, ${before.firstVisibleAt}::timestamptz), ${bound.now}::timestamptz), ${bound.now}::timestamptz)
              + ${p('interval')}::int * interval '1 millisecond'
            end,
          widened_at = coalesce(p.widened_at, case when t.far + ${before.far}::int > 0 then ${bound.now}::timestamptz end),
          desk_at = case when t.told + ${before.told}::int > 0 then p.desk_at else coalesce(p.desk_at, ${bound.now}::timestamptz) end
        from told t
        where p.id = ${bound.postId} and ${record.write}::boolean and t.told >= ${record.fills}::int and (t.told + ${before.told}::int > 0 or ${record.desk}::boolean)
        returning p.*
      )
      select t.told, t.far, t.first_visible_at, (select row_to_json(r) from recorded r) as post
      from told t`;
});

function isOpenNeed(post: Pick<PostRow, 'kind' | 'status'>): boolean {
  return post.kind === 'need' && (post.status === 'open' || post.status === 'in_contact');
}

/** Whether someone offered help on the need and the seeker has not declined it (waves stay stopped). */
async function hasOpenOffer(db: Executor, postId: number): Promise<boolean> {
  const [row] = await queryRows<{ open: boolean }>(
    db,
    sql`select exists (select 1 from ${contacts} c where c.post_id = ${postId} and c.status in ('offered', 'accepted')) as open`,
  );
  return row?.open ?? false;
}

/** A short status message to the seeker, in their language, after their quiet hours. */
async function tellSeeker(
  db: Executor,
  ctx: WaveContext,
  post: WavePost,
  message: { kind: typeof OUTBOX_KINDS.waveProgress; told: number; widened: boolean } | { kind: typeof OUTBOX_KINDS.waveExhausted },
): Promise<void> {
  const [author] = await db.select().from(users).where(eq(users.id, post.authorId));
  if (!author || author.deletedAt) return;
  const now = ctx.clock.now();
  const notBefore = quietUntil(now, ctx.timeZone, effectiveQuietHours(author, ctx.quietHours)) ?? now;
  const base = { userId: author.id, chatId: author.telegramId, priority: PRIORITY.notification, postId: post.id, notBefore };
  await enqueue(
    db,
    ctx.clock,
    message.kind === OUTBOX_KINDS.waveProgress
      ? [{ ...base, kind: OUTBOX_KINDS.waveProgress, payload: { told: message.told, widened: message.widened } }]
      : [{ ...base, kind: OUTBOX_KINDS.waveExhausted }],
  );
}

/** Where a need's search stands after a step. */
export interface WaveStep {
  /** People newly told in this step. */
  told: number;
  /** True when this step first reached the neighbouring districts. */
  widened: boolean;
  /** The need as it is now. */
  post: PostRow;
}

async function updated(db: Executor, postId: number, values: Partial<typeof posts.$inferInsert>): Promise<PostRow> {
  const [row] = await db.update(posts).set(values).where(eq(posts.id, postId)).returning();
  return row!;
}

/**
 * The first wave of a need that was just published (or approved), in the publishing transaction. When
 * nobody at all can be told, the need is on the coordinators' desk at once (the seeker reads that in the
 * confirmation of publishing).
 */
export async function startWaves(db: Executor, ctx: WaveContext, post: PostRow): Promise<WaveStep> {
  const told = await tellNext(db, ctx, post, 1, ctx.waves.size, { desk: true });
  // A need published just now was never widened: any helper from the neighbouring districts widens it.
  return { told: told.told, widened: told.far > 0, post: told.post! };
}

/**
 * The next wave of a need: the next WAVE_SIZE helpers of the ranking. With `tellSeeker` (the wave job),
 * the seeker gets one short status ("still looking", or "widened to the neighbouring districts"), and a
 * wave that finds nobody puts the need on the desk (the seeker is told once). Without it (an edit, a
 * renewal: the seeker reads the outcome in the bot's answer), a wave that finds nobody changes nothing.
 */
async function nextWave(db: Executor, ctx: WaveContext, post: WavePost, options: { tellSeeker: boolean }): Promise<WaveStep> {
  const told = await tellNext(db, ctx, post, post.wave + 1, ctx.waves.size, { desk: options.tellSeeker });
  if (told.told > 0) {
    const widened = told.far > 0 && post.widenedAt === null;
    if (options.tellSeeker) await tellSeeker(db, ctx, post, { kind: OUTBOX_KINDS.waveProgress, told: told.told, widened });
    return { told: told.told, widened, post: told.post! };
  }
  if (!options.tellSeeker) {
    const [row] = await db.select().from(posts).where(eq(posts.id, post.id));
    return { told: 0, widened: false, post: row! };
  }
  if (post.deskAt === null) await tellSeeker(db, ctx, post, { kind: OUTBOX_KINDS.waveExhausted });
  return { told: 0, widened: false, post: told.post! };
}

/**
 * The need whose wave is due longest, locked for this transaction; needs another process holds are
 * skipped. An index scan of posts_next_wave_idx, which holds only needs with a wave planned.
 */
export function dueNeed(db: Executor, now: Date) {
  return db
    .select()
    .from(posts)
    .where(
      and(
        lte(posts.nextWaveAt, now),
        // The partial index's own condition, written out so that the planner can use the index.
        sql`${posts.status} in ('open', 'in_contact')`,
        eq(posts.kind, 'need'),
      ),
    )
    .orderBy(posts.nextWaveAt)
    .limit(1)
    .for('update', { skipLocked: true });
}

/**
 * The wave job: sends every wave that is due, each need in its own short transaction. A due need is
 * claimed with `FOR UPDATE SKIP LOCKED` and its next wave moves its due time forward before the
 * transaction commits, so two processes (or two runs) never send the same wave: the second skips the
 * locked row, and after the commit the row is no longer due (PostgreSQL re-checks the condition on the
 * committed row). Nothing here calls Telegram: the wave's messages are outbox rows. Returns the number
 * of needs handled.
 */
export async function sendDueWaves(db: Database, ctx: WaveContext, options: { max?: number } = {}): Promise<number> {
  const max = options.max ?? 200;
  let handled = 0;
  while (handled < max) {
    const done = await db.transaction(async (tx) => {
      const [due] = await dueNeed(tx, ctx.clock.now());
      if (!due) return false;
      await nextWave(tx, ctx, due, { tellSeeker: true });
      return true;
    });
    if (!done) break;
    handled++;
  }
  return handled;
}

/** How often the wave job runs: a due wave goes out within 5 s or 10% of WAVE_INTERVAL, whichever is larger. */
export function waveJobPeriodMs(intervalMs: number): number {
  const allowed = Math.max(5_000, intervalMs / 10);
  return Math.min(30_000, Math.max(1_000, Math.floor(allowed / 3)));
}

/**
 * An edit moved a need to another category or district: the helpers of the new match get one wave now
 * (nobody is told twice, and the wave counts as the next one, so that edits cannot start a storm of
 * waves on top of the running one). Edits of text or photo tell nobody.
 */
export async function waveAfterEdit(db: Executor, ctx: WaveContext, before: Pick<PostRow, 'category' | 'district'>, post: PostRow): Promise<WaveStep> {
  const moved = before.category !== post.category || before.district !== post.district;
  if (!moved || !isOpenNeed(post) || post.publishedAt === null || (await hasOpenOffer(db, post.id))) return { told: 0, widened: false, post };
  return nextWave(db, ctx, post, { tellSeeker: false });
}

/**
 * A need was renewed (or republished after expiry): its waves go on where they stood. A wave goes out
 * now only when one is due anyway (WAVE_INTERVAL after the last), so renewing tells nobody twice and
 * cannot speed the waves up; a need whose search had ended gets one more look for helpers who
 * subscribed since.
 */
export async function resumeWavesAfterRenewal(db: Executor, ctx: WaveContext, post: PostRow): Promise<WaveStep> {
  const now = ctx.clock.now();
  if (!isOpenNeed(post) || post.publishedAt === null || (await hasOpenOffer(db, post.id))) return { told: 0, widened: false, post };
  if (post.nextWaveAt !== null && post.nextWaveAt > now) return { told: 0, widened: false, post };
  const dueAt = post.waveAt ? new Date(post.waveAt.getTime() + ctx.waves.intervalMs) : now;
  if (dueAt > now) return { told: 0, widened: false, post: await updated(db, post.id, { nextWaveAt: dueAt }) };
  return nextWave(db, ctx, post, { tellSeeker: false });
}

/** Someone offered help on a need: it counts for their response record, and no further waves go out. */
export async function recordOfferOfHelp(db: Executor, postId: number, helperId: number): Promise<void> {
  await db
    .update(notifications)
    .set({ response: 'offered' })
    .where(and(eq(notifications.postId, postId), eq(notifications.userId, helperId)));
  await db.update(posts).set({ nextWaveAt: null }).where(and(eq(posts.id, postId), eq(posts.kind, 'need')));
}

/**
 * The seeker declined an offer of help: when no other offer is waiting or accepted, the search goes on
 * with the next wave at once.
 */
export async function resumeWavesAfterDeclinedOffer(db: Executor, now: Date, postId: number): Promise<void> {
  await db.execute(sql`update ${posts} set next_wave_at = ${now}
    where id = ${postId} and kind = 'need' and status = 'open' and next_wave_at is null
      and not exists (select 1 from ${contacts} c where c.post_id = ${postId} and c.status in ('offered', 'accepted'))`);
}

/** The answer to "Not this time" or "Pause for a week". */
export type HelperAnswer =
  /** Recorded; `refilled` more helpers were told in their place. */
  | { outcome: 'recorded'; refilled: number }
  /** Pressed before: nothing more happens. */
  | { outcome: 'again' }
  /** The helper was never told about this need, or it is closed: an old or forged button. */
  | { outcome: 'stale' };

/**
 * Records that a helper declined a need they were told about and hands their place to the next helper
 * of the ranking at once (while the need's waves are running: no offer yet, helpers left). Never shown
 * to the seeker; it counts for the helper's response record.
 */
async function decline(db: Executor, ctx: WaveContext, helper: Pick<UserRow, 'id'>, postId: number): Promise<HelperAnswer> {
  const [post] = await db.select().from(posts).where(eq(posts.id, postId)).for('update');
  if (!post || !isOpenNeed(post)) return { outcome: 'stale' };
  const [told] = await db
    .select({ response: notifications.response })
    .from(notifications)
    .where(and(eq(notifications.postId, postId), eq(notifications.userId, helper.id)));
  if (!told) return { outcome: 'stale' };
  if (told.response !== null) return told.response === 'declined' ? { outcome: 'again' } : { outcome: 'stale' };
  await db
    .update(notifications)
    .set({ response: 'declined' })
    .where(and(eq(notifications.postId, postId), eq(notifications.userId, helper.id), isNull(notifications.response)));
  if (post.nextWaveAt === null) return { outcome: 'recorded', refilled: 0 };
  const refill = await tellNext(db, ctx, post, Math.max(post.wave, 1), 1, null);
  if (refill.far > 0 && post.widenedAt === null) {
    await updated(db, post.id, { widenedAt: ctx.clock.now() });
    await tellSeeker(db, ctx, post, { kind: OUTBOX_KINDS.waveProgress, told: refill.told, widened: true });
  }
  return { outcome: 'recorded', refilled: refill.told };
}

/** "Not this time" under a need's notification. */
export async function declineNeed(db: Database, ctx: WaveContext, helper: Pick<UserRow, 'id'>, postId: number): Promise<HelperAnswer> {
  return db.transaction((tx) => decline(tx, ctx, helper, postId));
}

/**
 * "Pause for a week" under a need's notification: no notifications for 7 days (resumed earlier in
 * /subscribe), and this need goes to the next helper as after "Not this time".
 */
export async function pauseForAWeek(db: Database, ctx: WaveContext, helper: Pick<UserRow, 'id'>, postId: number): Promise<{ answer: HelperAnswer; until: Date }> {
  return db.transaction(async (tx) => {
    const until = new Date(ctx.clock.now().getTime() + PAUSE_FOR_A_WEEK_MS);
    const [told] = await tx
      .select({ userId: notifications.userId })
      .from(notifications)
      .where(and(eq(notifications.postId, postId), eq(notifications.userId, helper.id)));
    if (!told) return { answer: { outcome: 'stale' }, until };
    await tx.update(users).set({ pausedUntil: until }).where(eq(users.id, helper.id));
    const answer = await decline(tx, ctx, helper, postId);
    // A closed need or a second press: the pause itself still holds.
    return { answer: answer.outcome === 'stale' || answer.outcome === 'again' ? { outcome: 'recorded', refilled: 0 } : answer, until };
  });
}
