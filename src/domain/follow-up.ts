import { and, eq, sql } from 'drizzle-orm';
import type { Clock } from '../clock';
import { type Database, type Executor, queryRows } from '../db';
import { contacts, outbox, posts, PRIORITY, users, type UserRow } from '../db/schema';
import { enqueue, OUTBOX_KINDS } from './outbox';
import { cancelWaitingContacts } from './posts';
import { resumeWavesAfterDeclinedOffer } from './waves';

/** "Still in progress": the seeker is asked again this much later. */
export const FOLLOW_UP_AGAIN_MS = 3 * 86_400_000;

/** The seeker's answers to "Did you get the help you needed?". */
export const FOLLOW_UP_ANSWERS = ['yes', 'later', 'no'] as const;
export type FollowUpAnswer = (typeof FOLLOW_UP_ANSWERS)[number];

/**
 * The follow-up job: asks every seeker whose question is due, in one statement per batch. Due contacts
 * are claimed with `FOR UPDATE SKIP LOCKED` and their `follow_up_at` is cleared in the same statement,
 * so two processes (or two runs) never ask twice: the second skips locked rows, and once committed the
 * rows are no longer due. Contacts that ended or whose need closed meanwhile are dropped without a
 * question. Returns the number of questions queued.
 */
export async function askDueFollowUps(db: Database, clock: Clock, options: { max?: number } = {}): Promise<number> {
  const now = clock.now();
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`with due as (
        update ${contacts} c set follow_up_at = null
        where c.id in (
          select id from ${contacts}
          where follow_up_at <= ${now}
          order by follow_up_at
          limit ${options.max ?? 200}
          for update skip locked
        )
        returning c.id, c.post_id, c.author_id, c.status
      ),
      queued as (
        insert into ${outbox} (user_id, chat_id, priority, kind, payload, post_id, not_before, created_at)
        select u.id, u.telegram_id, ${PRIORITY.notification}, ${OUTBOX_KINDS.followUpAsk}, jsonb_build_object('contactId', due.id), due.post_id, ${now}, ${now}
        from due
        join ${users} u on u.id = due.author_id
        join ${posts} p on p.id = due.post_id
        where due.status = 'accepted' and p.status in ('open', 'in_contact') and u.deleted_at is null
        returning 1
      )
      select count(*)::int as n from queued`,
  );
  return row?.n ?? 0;
}

/** What the seeker's answer did. */
export type FollowUpOutcome = { outcome: FollowUpAnswer; postId: number } | { outcome: 'stale' };

/**
 * The seeker answers "Did you get the help you needed?":
 * - yes: the need is fulfilled (waiting offers are cancelled);
 * - later ("still in progress"): asked again in three days;
 * - no: the conversation ends, the need is open again and its waves go on at once; the helper is told
 *   politely that the seeker is looking further, without reasons.
 * An old or forged button (not their contact, no longer accepted, need closed) is stale.
 */
export async function answerFollowUp(db: Database, clock: Clock, seeker: Pick<UserRow, 'id'>, contactId: number, answer: FollowUpAnswer): Promise<FollowUpOutcome> {
  return db.transaction(async (tx) => {
    const [contact] = await tx.select().from(contacts).where(eq(contacts.id, contactId)).for('update');
    if (!contact || contact.authorId !== seeker.id || contact.status !== 'accepted') return { outcome: 'stale' };
    const [post] = await tx.select().from(posts).where(eq(posts.id, contact.postId)).for('update');
    if (!post || post.kind !== 'need' || (post.status !== 'open' && post.status !== 'in_contact')) return { outcome: 'stale' };
    const now = clock.now();
    if (answer === 'later') {
      await tx.update(contacts).set({ followUpAt: new Date(now.getTime() + FOLLOW_UP_AGAIN_MS) }).where(eq(contacts.id, contactId));
      return { outcome: 'later', postId: post.id };
    }
    if (answer === 'yes') {
      await tx.update(contacts).set({ followUpAt: null }).where(eq(contacts.id, contactId));
      await tx.update(posts).set({ status: 'fulfilled', closedAt: now, updatedAt: now, nextWaveAt: null }).where(eq(posts.id, post.id));
      await cancelWaitingContacts(tx, clock, post.id);
      return { outcome: 'yes', postId: post.id };
    }
    await tx.update(contacts).set({ status: 'ended', endedAt: now, endedBy: seeker.id, followUpAt: null }).where(eq(contacts.id, contactId));
    await reopen(tx, now, post.id);
    const [helper] = await tx.select().from(users).where(eq(users.id, contact.responderId));
    if (helper && !helper.deletedAt) {
      await enqueue(tx, clock, [
        { userId: helper.id, chatId: helper.telegramId, kind: OUTBOX_KINDS.followUpLooking, priority: PRIORITY.interactive, payload: { contactId }, postId: post.id },
      ]);
    }
    return { outcome: 'no', postId: post.id };
  });
}

/** The need is open again (no other accepted conversation) and its next wave is due now. */
async function reopen(db: Executor, now: Date, postId: number): Promise<void> {
  await db
    .update(posts)
    .set({ status: 'open', updatedAt: now })
    .where(and(eq(posts.id, postId), eq(posts.status, 'in_contact'), sql`not exists (select 1 from ${contacts} c where c.post_id = ${postId} and c.status = 'accepted')`));
  await resumeWavesAfterDeclinedOffer(db, now, postId);
}
