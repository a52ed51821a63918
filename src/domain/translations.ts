import { createHash } from 'node:crypto';
import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Clock } from '../clock';
import { LOCALES, type Locale } from '../config';
import { type Executor, queryRows } from '../db';
import { outbox, posts, relayMessages, translationJobs, translationOptOuts, translations, type TranslationJobRow, type TranslationRow } from '../db/schema';
import { OUTBOX_KINDS } from './outbox-kinds';

/** The reason a notification waits in the outbox for its translation (the job finds these rows by it). */
export const WAITING_FOR_TRANSLATION = 'waiting for translation';

/** What a translation is about: a post's text or one relayed message. */
export type TranslationSubject = { postId: number; relayMessageId?: undefined } | { relayMessageId: number; postId?: undefined };

/** Everyone reads a post: it is translated into each of the bot's languages it is not written in. */
export function postTargets(language: string): Locale[] {
  return LOCALES.filter((l) => l !== language);
}

/** The hash a relayed message's translation is stored with (posts use their text_hash). */
export function relayTextHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Queues the durable translation job of a post or relayed message, in the caller's transaction (the one
 * that publishes it), so that a crash cannot leave a published text without its job. A post's job is
 * reset when its text changes.
 */
export async function queueTranslation(db: Executor, clock: Clock, subject: TranslationSubject, targets: readonly string[]): Promise<void> {
  if (targets.length === 0) return;
  const now = clock.now();
  const values = { postId: subject.postId ?? null, relayMessageId: subject.relayMessageId ?? null, targets: [...targets], status: 'pending' as const, attempts: 0, notBefore: now, createdAt: now };
  const reset = { targets: [...targets], status: 'pending' as const, attempts: 0, notBefore: now, leaseUntil: null, error: null, finishedAt: null };
  if (subject.postId !== undefined) {
    await db.insert(translationJobs).values(values).onConflictDoUpdate({ target: translationJobs.postId, targetWhere: sql`${translationJobs.postId} is not null`, set: reset });
  } else {
    await db.insert(translationJobs).values(values).onConflictDoNothing();
  }
}

/** Claims due jobs for this process (SKIP LOCKED under a lease); a job whose process died is claimed again after its lease. */
export async function claimTranslationJobs(db: Executor, clock: Clock, limit: number, leaseMs: number): Promise<TranslationJobRow[]> {
  const now = clock.now();
  return db
    .update(translationJobs)
    .set({ leaseUntil: new Date(now.getTime() + leaseMs), attempts: sql`${translationJobs.attempts} + 1` })
    .where(
      inArray(
        translationJobs.id,
        sql`(select ${translationJobs.id} from ${translationJobs} where ${translationJobs.status} = 'pending' and ${translationJobs.notBefore} <= ${now} and (${translationJobs.leaseUntil} is null or ${translationJobs.leaseUntil} < ${now}) order by ${translationJobs.notBefore}, ${translationJobs.id} limit ${limit} for update skip locked)`,
      ),
    )
    .returning();
}

/** Ends a job: done (every translation that could be made is stored) or failed for good. */
export async function finishTranslationJob(db: Executor, clock: Clock, jobId: number, status: 'done' | 'failed', error: string | null = null): Promise<void> {
  await db.update(translationJobs).set({ status, error, finishedAt: clock.now(), leaseUntil: null }).where(eq(translationJobs.id, jobId));
}

/** Gives a job back to be tried again at `notBefore` (the engine was away or answered nonsense). */
export async function retryTranslationJob(db: Executor, jobId: number, notBefore: Date, error: string): Promise<void> {
  await db.update(translationJobs).set({ notBefore, error, leaseUntil: null }).where(eq(translationJobs.id, jobId));
}

/** Stores one translation (replacing an older one of the same subject and target). */
export async function storeTranslation(
  db: Executor,
  clock: Clock,
  subject: TranslationSubject,
  value: { source: string; target: string; sourceHash: string; text: string; engine: string },
): Promise<void> {
  const row = { postId: subject.postId ?? null, relayMessageId: subject.relayMessageId ?? null, ...value, createdAt: clock.now() };
  const set = { source: value.source, sourceHash: value.sourceHash, text: value.text, engine: value.engine, createdAt: row.createdAt };
  if (subject.postId !== undefined) {
    await db.insert(translations).values(row).onConflictDoUpdate({ target: [translations.postId, translations.target], targetWhere: sql`${translations.postId} is not null`, set });
  } else {
    await db.insert(translations).values(row).onConflictDoUpdate({ target: [translations.relayMessageId, translations.target], targetWhere: sql`${translations.relayMessageId} is not null`, set });
  }
}

/** The stored translations of some posts. */
export async function findPostTranslations(db: Executor, postIds: readonly number[]): Promise<TranslationRow[]> {
  if (postIds.length === 0) return [];
  return db.select().from(translations).where(inArray(translations.postId, [...postIds]));
}

/** The stored translation of one relayed message into one language. */
export async function findRelayTranslation(db: Executor, relayMessageId: number, target: string): Promise<TranslationRow | undefined> {
  const [row] = await db.select().from(translations).where(and(eq(translations.relayMessageId, relayMessageId), eq(translations.target, target)));
  return row;
}

/** The jobs of some posts (whether a translation is still coming). */
export async function findPostJobs(db: Executor, postIds: readonly number[]): Promise<TranslationJobRow[]> {
  if (postIds.length === 0) return [];
  return db.select().from(translationJobs).where(inArray(translationJobs.postId, [...postIds]));
}

/** The job of one relayed message. */
export async function findRelayJob(db: Executor, relayMessageId: number): Promise<TranslationJobRow | undefined> {
  const [row] = await db.select().from(translationJobs).where(eq(translationJobs.relayMessageId, relayMessageId));
  return row;
}

/**
 * After a job ended (or gave up for now): the notifications that wait for it go out now, and the edits
 * of messages that went out with the original are due now. Returns how many rows were moved.
 */
export async function releaseWaitingMessages(db: Executor, clock: Clock, subject: TranslationSubject): Promise<number> {
  const now = clock.now();
  const about =
    subject.postId !== undefined
      ? sql`${outbox.postId} = ${subject.postId} and ((${outbox.kind} in (${OUTBOX_KINDS.postNotify}, ${OUTBOX_KINDS.contactAccepted}) and ${outbox.error} = ${WAITING_FOR_TRANSLATION}) or ${outbox.kind} = ${OUTBOX_KINDS.postTranslated})`
      : sql`${outbox.payload}->>'relayMessageId' = ${String(subject.relayMessageId)} and ((${outbox.kind} = ${OUTBOX_KINDS.relay} and ${outbox.error} = ${WAITING_FOR_TRANSLATION}) or ${outbox.kind} = ${OUTBOX_KINDS.relayTranslated})`;
  const moved = await queryRows<{ id: number }>(db, sql`update ${outbox} set not_before = ${now} where ${outbox.status} = 'pending' and ${outbox.notBefore} > ${now} and ${about} returning ${outbox.id}`);
  return moved.length;
}

/**
 * An edit queued after its job already ended (the translation arrived while the original was on its way,
 * so the job's own release found nothing to move) is due now, not at its next recheck.
 */
export async function releaseIfJobEnded(db: Executor, clock: Clock, subject: TranslationSubject): Promise<void> {
  const where = subject.postId !== undefined ? eq(translationJobs.postId, subject.postId) : eq(translationJobs.relayMessageId, subject.relayMessageId);
  const [job] = await db.select({ status: translationJobs.status }).from(translationJobs).where(where);
  if (job && job.status !== 'pending') await releaseWaitingMessages(db, clock, subject);
}

/** Switches translation of the partner's messages in one conversation off (or on again) for one participant. */
export async function setConversationTranslation(db: Executor, clock: Clock, userId: number, contactId: number, on: boolean): Promise<void> {
  if (on) {
    await db.delete(translationOptOuts).where(and(eq(translationOptOuts.userId, userId), eq(translationOptOuts.contactId, contactId)));
  } else {
    await db.insert(translationOptOuts).values({ userId, contactId, createdAt: clock.now() }).onConflictDoNothing();
  }
}

/** Whether a participant switched translation off in a conversation. */
export async function isConversationTranslationOff(db: Executor, userId: number, contactId: number): Promise<boolean> {
  const [row] = await db
    .select({ userId: translationOptOuts.userId })
    .from(translationOptOuts)
    .where(and(eq(translationOptOuts.userId, userId), eq(translationOptOuts.contactId, contactId)));
  return row !== undefined;
}

/**
 * Erases the translations (and jobs) of posts and relayed messages whose text is gone — after /deleteme
 * or the retention sweep erased the originals. One copy of the rule for both. Returns rows deleted.
 */
export async function eraseOrphanedTranslations(db: Executor, scope: { postIds?: number[]; relayMessageIds?: number[] } = {}): Promise<number> {
  const postIds = scope.postIds;
  const relayIds = scope.relayMessageIds;
  const gonePosts = db.select({ id: posts.id }).from(posts).where(and(isNull(posts.text), postIds ? inArray(posts.id, postIds.length ? postIds : [0]) : undefined));
  const goneRelays = db
    .select({ id: relayMessages.id })
    .from(relayMessages)
    .where(and(isNull(relayMessages.text), relayIds ? inArray(relayMessages.id, relayIds.length ? relayIds : [0]) : undefined));
  const deleted = await db
    .delete(translations)
    .where(or(inArray(translations.postId, gonePosts), inArray(translations.relayMessageId, goneRelays)))
    .returning({ id: translations.id });
  await db.delete(translationJobs).where(or(inArray(translationJobs.postId, gonePosts), inArray(translationJobs.relayMessageId, goneRelays)));
  return deleted.length;
}

/** Finished jobs older than the cutoff are deleted (their translations stay as long as the originals). */
export async function deleteFinishedJobs(db: Executor, cutoff: Date): Promise<number> {
  const deleted = await db
    .delete(translationJobs)
    .where(and(inArray(translationJobs.status, ['done', 'failed']), lt(translationJobs.finishedAt, cutoff)))
    .returning({ id: translationJobs.id });
  return deleted.length;
}
