import { eq, or, sql } from 'drizzle-orm';
import { WHOLE_CITY } from '../../src/city';
import { type Database, type Executor, queryRows } from '../../src/db';
import { blocks, PRIORITY, type PostRow, subscriptions, users, type UserRow } from '../../src/db/schema';
import { OUTBOX_KINDS } from '../../src/domain/outbox';
import type { NewPost, PostsContext } from '../../src/domain/posts';
import { effectiveQuietHours, quietUntil } from '../../src/domain/time';
import { insertPostLikePublish } from './publish-steps';

/** A subscription with the columns of its user that routing needs. */
interface Candidate {
  userId: number;
  kind: string;
  category: string;
  district: string;
  telegramId: number;
  quietStart: number | null;
  quietEnd: number | null;
  bannedAt: Date | null;
  deletedAt: Date | null;
  blockedAt: Date | null;
  notificationsPaused: boolean;
}

/** The naive way: every subscription of every user, loaded into JavaScript for each post. */
async function loadAllSubscriptions(db: Executor): Promise<Candidate[]> {
  return db
    .select({
      userId: subscriptions.userId,
      kind: subscriptions.kind,
      category: subscriptions.category,
      district: subscriptions.district,
      telegramId: users.telegramId,
      quietStart: users.quietStart,
      quietEnd: users.quietEnd,
      bannedAt: users.bannedAt,
      deletedAt: users.deletedAt,
      blockedAt: users.blockedAt,
      notificationsPaused: users.notificationsPaused,
    })
    .from(subscriptions)
    .innerJoin(users, eq(users.id, subscriptions.userId));
}

async function blockedPartners(db: Executor, authorId: number): Promise<Set<number>> {
  const rows = await db
    .select()
    .from(blocks)
    .where(or(eq(blocks.blockerId, authorId), eq(blocks.blockedId, authorId)));
  return new Set(rows.map((b) => (b.blockerId === authorId ? b.blockedId : b.blockerId)));
}

/** The same rules as the matcher's SQL, for needs: subscribed, covering district, reachable, not blocked. */
function filterRecipients(candidates: readonly Candidate[], post: PostRow, blocked: ReadonlySet<number>): Map<number, Candidate> {
  const found = new Map<number, Candidate>();
  for (const c of candidates) {
    if (c.kind !== post.kind || c.category !== post.category) continue;
    if (post.district !== WHOLE_CITY && c.district !== post.district && c.district !== WHOLE_CITY) continue;
    if (c.userId === post.authorId || blocked.has(c.userId)) continue;
    if (c.bannedAt || c.deletedAt || c.blockedAt || c.notificationsPaused) continue;
    found.set(c.userId, c);
  }
  return found;
}

function arrayLiteral(values: readonly (number | string)[]): string {
  return `{${values.map((v) => (typeof v === 'number' ? String(v) : `"${v}"`)).join(',')}}`;
}

/** The same rows the matcher writes: notification records (at most once each), then one outbox row per new one. */
async function writeNotifications(db: Executor, ctx: PostsContext, postId: number, recipients: Map<number, Candidate>): Promise<number> {
  if (recipients.size === 0) return 0;
  const now = ctx.clock.now();
  const notified = await queryRows<{ user_id: number }>(
    db,
    sql`insert into notifications (post_id, user_id, created_at)
      select ${postId}, u, ${now} from unnest(${arrayLiteral([...recipients.keys()])}::int[]) u
      on conflict do nothing returning user_id`,
  );
  if (notified.length === 0) return 0;
  const quiet = new Map<string, string>();
  const notBefore = (c: Candidate): string => {
    const key = `${c.quietStart}-${c.quietEnd}`;
    let at = quiet.get(key);
    if (at === undefined) {
      at = (quietUntil(now, ctx.timeZone, effectiveQuietHours(c, ctx.quietHours)) ?? now).toISOString();
      quiet.set(key, at);
    }
    return at;
  };
  const rows = notified.map((n) => recipients.get(n.user_id) as Candidate);
  await db.execute(sql`insert into outbox (user_id, chat_id, priority, kind, payload, post_id, not_before, created_at)
    select r.user_id, r.chat_id, ${PRIORITY.notification}, ${OUTBOX_KINDS.postNotify}, '{}'::jsonb, ${postId}, r.not_before, ${now}
    from unnest(${arrayLiteral(rows.map((r) => r.userId))}::int[], ${arrayLiteral(rows.map((r) => r.telegramId))}::bigint[],
      ${arrayLiteral(rows.map(notBefore))}::timestamptz[]) as r(user_id, chat_id, not_before)`);
  return rows.length;
}

/**
 * The naive baseline for the matcher benchmark: publishes a need like publishPost (lock, limits,
 * duplicates, insert, one transaction) but finds its recipients by loading all subscriptions and
 * filtering in JavaScript, then writes the same notification and outbox rows. Returns the number of
 * people notified.
 */
export async function publishNaive(db: Database, ctx: PostsContext, author: UserRow, input: NewPost): Promise<number> {
  return db.transaction(async (tx) => {
    const post = await insertPostLikePublish(tx, ctx, author, input);
    const recipients = filterRecipients(await loadAllSubscriptions(tx), post, await blockedPartners(tx, author.id));
    return writeNotifications(tx, ctx, post.id, recipients);
  });
}
