import { and, inArray, lte, sql } from 'drizzle-orm';
import type { Clock } from '../clock';
import { type Database, type Executor, queryRows } from '../db';
import { ACTIVE_POST_STATUSES, outbox, posts, PRIORITY, users } from '../db/schema';
import { OUTBOX_KINDS } from './outbox';
import { cancelWaitingContacts } from './posts';

/** Days before expiry when the author is asked "still needed?". */
export const REMIND_BEFORE_DAYS = 2;

/**
 * Asks authors whose posts expire within two days whether they are still needed. One statement;
 * `reminded_at` makes it idempotent (renewing clears it).
 */
export async function remindExpiringPosts(db: Executor, clock: Clock): Promise<number> {
  const now = clock.now();
  const soon = new Date(now.getTime() + REMIND_BEFORE_DAYS * 86_400_000);
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`with due as (
        update ${posts} set reminded_at = ${now}
        where status in ('open', 'in_contact') and expires_at <= ${soon} and expires_at > ${now} and reminded_at is null
        returning id, author_id
      ), queued as (
        insert into ${outbox} (user_id, chat_id, priority, kind, payload, post_id, not_before, created_at)
        select u.id, u.telegram_id, ${PRIORITY.notification}, ${OUTBOX_KINDS.postExpiring}, '{}'::jsonb, due.id, ${now}, ${now}
        from due join ${users} u on u.id = due.author_id
        where u.deleted_at is null
        returning 1
      )
      select count(*)::int as n from queued`,
  );
  return row?.n ?? 0;
}

/** Expires posts past their date: they stop matching and leave browsing; authors are told. */
export async function expirePosts(db: Executor, clock: Clock): Promise<number> {
  const now = clock.now();
  const expired = await db
    .update(posts)
    .set({ status: 'expired', closedAt: now, updatedAt: now })
    .where(and(inArray(posts.status, ACTIVE_POST_STATUSES), lte(posts.expiresAt, now)))
    .returning({ id: posts.id, authorId: posts.authorId });
  for (const post of expired) await cancelWaitingContacts(db, clock, post.id);
  if (expired.length > 0) {
    await db.execute(sql`insert into ${outbox} (user_id, chat_id, priority, kind, payload, post_id, not_before, created_at)
      select u.id, u.telegram_id, ${PRIORITY.notification}, ${OUTBOX_KINDS.postExpired}, '{}'::jsonb, p.id, ${now}, ${now}
      from ${posts} p join ${users} u on u.id = p.author_id
      where p.id in (${sql.join(expired.map((p) => sql`${p.id}`), sql`, `)}) and u.deleted_at is null`);
  }
  return expired.length;
}

/** A periodic job. Returns a count for the log. */
export type Sweep = (db: Executor, clock: Clock) => Promise<number>;

/** Stable advisory-lock keys per sweep name (two processes never run the same sweep at once). */
export function sweepLockKey(name: string): number {
  let hash = 726_600_000;
  for (const ch of name) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
  return hash;
}

/**
 * Runs one sweep in a transaction guarded by pg_try_advisory_xact_lock: when another process holds the
 * lock, this one skips (returns null). Sweeps are idempotent, so a skipped run loses nothing.
 */
export async function runSweep(db: Database, clock: Clock, name: string, sweep: Sweep): Promise<number | null> {
  return db.transaction(async (tx) => {
    const [lock] = await queryRows<{ locked: boolean }>(tx, sql`select pg_try_advisory_xact_lock(${sweepLockKey(name)}) as locked`);
    if (!lock?.locked) return null;
    return sweep(tx, clock);
  });
}
