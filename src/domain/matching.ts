import { type Placeholder, type SQL, sql } from 'drizzle-orm';
import { WHOLE_CITY } from '../city';
import type { Clock } from '../clock';
import { type Executor, queryRows } from '../db';
import { blocks, notifications, outbox, posts, PRIORITY, type PostRow, subscriptions, users } from '../db/schema';
import { OUTBOX_KINDS } from './outbox';
import { type QuietHours, quietUntilSql } from './time';
import { protectedNeedSql, type Protection } from './verification';

/** What routing needs besides the post (`isProtected`: the city's protected categories, see Protection). */
export interface RoutingContext extends Protection {
  clock: Clock;
  timeZone: string;
  /** QUIET_HOURS; a user's own setting wins. */
  quietHours: QuietHours | null;
}

/**
 * The routing context of the running bot, for every front end (bot, web desk, background work): the
 * city's time zone and protected categories and the configured quiet hours. Built here so that no front
 * end forgets the protected categories.
 */
export function routingContext(
  config: { QUIET_HOURS: QuietHours | null },
  clock: Clock,
  city: { timezone: string; isProtected(category: string): boolean },
): RoutingContext {
  return { clock, timeZone: city.timezone, quietHours: config.QUIET_HOURS, isProtected: (category) => city.isProtected(category) };
}

/**
 * Who may be told about a post of `authorId` at `now`, as conditions on the users row `u`: not the author,
 * not banned, deleted or unreachable (blocked the bot), notifications neither paused nor on a week's
 * pause, and no block with the author in either direction. The one copy of these rules for routing and
 * for waves. The two directions of a block are two anti-joins, each an index lookup (the blocks' primary
 * key, blocks_blocked_idx); one `or` of both was a scan of all blocks for every candidate. The author and
 * `now` are values, or placeholders of a statement built once (the wave's).
 */
export function reachableHelperSql(authorId: number | Placeholder, now: Date | Placeholder): SQL {
  return sql`u.id <> ${authorId}
      and u.banned_at is null and u.deleted_at is null and u.blocked_at is null
      and not u.notifications_paused
      and (u.paused_until is null or u.paused_until <= ${now})
      and not exists (select 1 from ${blocks} b where b.blocker_id = u.id and b.blocked_id = ${authorId})
      and not exists (select 1 from ${blocks} b where b.blocker_id = ${authorId} and b.blocked_id = u.id)`;
}

/**
 * The user ids subscribed to posts of this kind and category in any of `districts` — or everywhere
 * when `districts` is null.
 */
export function subscribersSql(kind: PostRow['kind'], category: string, districts: readonly string[] | null): SQL {
  const where = districts === null ? sql`` : sql`and ${subscriptions.district} in (${sql.join(districts.map((d) => sql`${d}`), sql`, `)})`;
  return sql`select ${subscriptions.userId} from ${subscriptions}
    where ${subscriptions.kind} = ${kind} and ${subscriptions.category} = ${category} ${where}`;
}

/** The districts whose subscribers a post in `district` reaches: its own and the whole city (null: a whole-city post reaches all). */
export function coveringDistricts(district: string): readonly string[] | null {
  return district === WHOLE_CITY ? null : [district, WHOLE_CITY];
}

/**
 * The people who should hear about a post, as SQL (no rows are loaded into JavaScript), each once:
 * - a need: everyone subscribed to needs in its category whose districts cover it;
 * - an offer: everyone subscribed to offers in it, and the authors of open needs in that category and a
 *   compatible district.
 * A whole-city subscription covers every district; a whole-city post reaches the category's subscribers
 * in every district. Excluded: see reachableHelperSql; a need of a protected category reaches only
 * verified helpers (verifiedHelperSql).
 *
 * The candidates are a semi-join (`u.id in (…)`), not a join plus DISTINCT: someone subscribed to both the
 * district and the whole city is one row without a sort, and the planner's estimate stays the number of
 * subscriptions (see routePost).
 */
function recipientsQuery(post: Pick<PostRow, 'id' | 'kind' | 'category' | 'district' | 'authorId'>, now: Date, protection: Protection): SQL {
  const subscribed = subscribersSql(post.kind, post.category, coveringDistricts(post.district));
  const needAuthors =
    post.kind === 'offer'
      ? sql` union all select ${posts.authorId} from ${posts}
          where ${posts.kind} = 'need' and ${posts.status} in ('open', 'in_contact') and ${posts.category} = ${post.category}
          ${post.district === WHOLE_CITY ? sql`` : sql`and ${posts.district} in (${post.district}, ${WHOLE_CITY})`}`
      : sql``;
  return sql`select u.id, u.telegram_id, u.quiet_start, u.quiet_end
    from ${users} u
    where u.id in (${subscribed}${needAuthors})
      and ${reachableHelperSql(post.authorId, now)}${protectedNeedSql(protection, post)}`;
}

/** The user ids a post would reach now, for tests; routing uses the same query inside its one statement. */
export async function findRecipients(
  db: Executor,
  post: Pick<PostRow, 'id' | 'kind' | 'category' | 'district' | 'authorId'>,
  now: Date,
  protection: Protection = {},
): Promise<number[]> {
  const rows = await queryRows<{ id: number }>(db, sql`select distinct r.id from (${recipientsQuery(post, now, protection)}) r order by r.id`);
  return rows.map((r) => r.id);
}

/**
 * Routes a post in one statement: finds the recipients, records that each was told (the primary key of
 * `notifications` makes it at most once per person, across overlapping subscriptions, edits and
 * renewals), and queues one notification per new recipient in the outbox — deferred to the end of the
 * recipient's quiet hours where they apply. Returns the number of people newly notified.
 *
 * The outbox rows are the recipients `in` the notified ids (a semi-join). A join of the two CTEs, about
 * which the planner knows nothing, was estimated at millions of rows for a post with tens of thousands
 * of recipients, and that estimate switched on PostgreSQL's JIT compilation (EXPLAIN ANALYZE, 100k
 * helpers, a whole-city need: ~180 ms of a ~500 ms statement). Recipients are inserted in id order, so
 * the notifications' primary key grows at its right edge.
 */
export async function routePost(
  db: Executor,
  ctx: RoutingContext,
  post: Pick<PostRow, 'id' | 'kind' | 'category' | 'district' | 'authorId'>,
  options: { firstTime?: boolean } = {},
): Promise<number> {
  const now = ctx.clock.now();
  // A post routed for the first time (inserted in this transaction) has no notifications yet: a plain
  // insert is about twice as fast as one that checks for conflicts (bench:match). Edits and renewals
  // route again and rely on ON CONFLICT DO NOTHING to tell nobody twice.
  const onConflict = options.firstTime ? sql`` : sql`on conflict do nothing`;
  const notBefore = quietUntilSql(now, ctx.timeZone, ctx.quietHours, sql`r.quiet_start`, sql`r.quiet_end`);
  const [result] = await queryRows<{ n: number }>(
    db,
    sql`with recipients as materialized (select * from (${recipientsQuery(post, now, ctx)}) x order by id),
      notified as (
        insert into ${notifications} (post_id, user_id, created_at)
        select ${post.id}, id, ${now} from recipients
        ${onConflict}
        returning user_id
      ),
      queued as (
        insert into ${outbox} (user_id, chat_id, priority, kind, payload, post_id, not_before, created_at)
        select r.id, r.telegram_id, ${PRIORITY.notification}, ${OUTBOX_KINDS.postNotify}, '{}'::jsonb, ${post.id}, ${notBefore}, ${now}
        from recipients r
        where r.id in (select n.user_id from notified n)
        returning 1
      )
      select count(*)::int as n from queued`,
  );
  return result?.n ?? 0;
}
