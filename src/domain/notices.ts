import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { WHOLE_CITY } from '../city';
import type { Clock } from '../clock';
import { LOCALES, type Locale } from '../config';
import { type Database, type Executor, queryRows } from '../db';
import { type NoticeAudience, type NoticeRow, notices, outbox, PRIORITY, users, type UserRow } from '../db/schema';
import { audit } from './audit';
import { DomainError } from './errors';
import { OUTBOX_KINDS } from './outbox';
import { type Actor, authorize } from './permissions';

/** Longest notice text without media, leaving room for the header in one Telegram message. */
export const NOTICE_TEXT_MAX = 3500;
/** Longest notice text with a photo or PDF (Telegram captions hold 1024 characters). */
export const NOTICE_CAPTION_TEXT_MAX = 900;

/** What staff compose in /broadcast. */
export interface NoticeDraft {
  audience: NoticeAudience;
  /** District keys; empty = the whole city. */
  districts: string[];
  /** Languages; empty = all. */
  languages: Locale[];
  texts: Partial<Record<Locale, string>>;
  media?: { type: 'photo' | 'document'; fileId: string } | null;
}

/**
 * Who a notice reaches, as a condition on `users u`: the audience's role, the districts (people who
 * chose the whole city hear about every district), the languages; never the author, deleted users or
 * users who blocked the bot. Banned users still receive official notices.
 */
function recipientsWhere(draft: Pick<NoticeDraft, 'audience' | 'districts' | 'languages'>, authorId: number): SQL {
  const parts: SQL[] = [sql`u.deleted_at is null`, sql`u.blocked_at is null`, sql`u.id <> ${authorId}`];
  if (draft.audience === 'seekers') parts.push(sql`u.role = 'seeker'`);
  if (draft.audience === 'helpers') parts.push(sql`u.role = 'helper'`);
  if (draft.districts.length > 0) {
    parts.push(sql`u.district in (${sql.join([...draft.districts, WHOLE_CITY].map((d) => sql`${d}`), sql`, `)})`);
  }
  if (draft.languages.length > 0) parts.push(sql`u.locale in (${sql.join(draft.languages.map((l) => sql`${l}`), sql`, `)})`);
  return sql.join(parts, sql` and `);
}

/** The exact number of people a draft would reach now (the preview shows it). */
export async function countNoticeRecipients(db: Executor, draft: NoticeDraft, authorId: number): Promise<number> {
  const [row] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from ${users} u where ${recipientsWhere(draft, authorId)}`);
  return row?.n ?? 0;
}

/** The text a recipient gets: their language, else German, else Ukrainian, else whatever exists. */
export function pickNoticeText(texts: Partial<Record<string, string>>, locale: string): { locale: Locale; text: string } | null {
  for (const l of [locale, 'de', 'uk', ...LOCALES]) {
    const text = texts[l];
    if (text) return { locale: l as Locale, text };
  }
  return null;
}

/** The longest text a draft may have: a caption is shorter than a message. */
function textMaxOf(draft: NoticeDraft): number {
  return draft.media ? NOTICE_CAPTION_TEXT_MAX : NOTICE_TEXT_MAX;
}

/** Checks a draft before it is sent; returns the locale key of the first problem, or null. */
export function checkDraft(draft: NoticeDraft): string | null {
  const texts = Object.values(draft.texts).filter((t): t is string => Boolean(t));
  if (texts.length === 0) return 'notices.errors.noText';
  if (texts.some((t) => [...t].length > textMaxOf(draft))) return draft.media ? 'notices.errors.tooLongForMedia' : 'notices.errors.tooLong';
  return null;
}

/** Recipients queued per statement of a notice's fan-out. */
export const FAN_OUT_CHUNK = 5_000;

/**
 * Queues one outbox row per recipient of a notice, in chunks of FAN_OUT_CHUNK users in id order (each
 * chunk continues the users' primary key after the last one), so that no statement writes or returns
 * more than one chunk however large the audience: the memory of the fan-out is flat in the number of
 * recipients (PGlite's embedded memory never shrinks once grown). Returns how many were queued.
 */
async function fanOutNotice(tx: Executor, noticeId: number, where: SQL, now: Date): Promise<number> {
  let queued = 0;
  let after = 0;
  for (;;) {
    const [chunk] = await queryRows<{ n: number; last: number | null }>(
      tx,
      sql`with picked as (
        select u.id, u.telegram_id from ${users} u
        where ${where} and u.id > ${after}
        order by u.id
        limit ${FAN_OUT_CHUNK}
      ), queued as (
        insert into ${outbox} (user_id, chat_id, priority, kind, payload, notice_id, not_before, created_at)
        select p.id, p.telegram_id, ${PRIORITY.broadcast}, ${OUTBOX_KINDS.notice}, '{}'::jsonb, ${noticeId}, ${now}, ${now}
        from picked p
        order by p.id
        returning user_id
      ) select count(*)::int as n, max(user_id)::int as last from queued`,
    );
    const n = chunk?.n ?? 0;
    queued += n;
    if (n < FAN_OUT_CHUNK || chunk?.last == null) return queued;
    after = chunk.last;
  }
}

/**
 * Sends a notice: stores it and queues one outbox row per recipient in one transaction (fanOutNotice),
 * so the recipients and their delivery state are in the database before the first message goes out.
 */
export async function sendNotice(
  db: Database,
  clock: Clock,
  author: Actor,
  draft: NoticeDraft,
  progress: { chatId: number; messageId: number },
): Promise<NoticeRow> {
  authorize(author, 'notice.send');
  const problem = checkDraft(draft);
  // The params fill the {{max}} of the "too long" messages.
  if (problem) throw new DomainError(problem, { max: textMaxOf(draft) });
  return db.transaction(async (tx) => {
    const now = clock.now();
    const [notice] = await tx
      .insert(notices)
      .values({
        authorId: author.userId,
        organisation: author.organisation ?? (author.role === 'coordinator' ? 'Hilfenetz' : '—'),
        audience: draft.audience,
        districts: draft.districts,
        languages: draft.languages,
        texts: draft.texts,
        mediaType: draft.media?.type ?? null,
        mediaFileId: draft.media?.fileId ?? null,
        status: 'sending',
        recipientCount: 0,
        createdAt: now,
        progressChatId: progress.chatId,
        progressMessageId: progress.messageId,
      })
      .returning();
    const count = await fanOutNotice(tx, notice!.id, recipientsWhere(draft, author.userId), now);
    const [stored] = await tx
      .update(notices)
      .set({ recipientCount: count, ...(count === 0 ? { status: 'done' as const, finishedAt: now } : {}) })
      .where(eq(notices.id, notice!.id))
      .returning();
    await audit(tx, clock, {
      actorId: author.userId,
      action: 'notice.sent',
      details: { noticeId: notice!.id, recipients: count, audience: draft.audience, districts: draft.districts, languages: draft.languages },
    });
    return stored!;
  });
}

/** Delivery state of a notice, from its outbox rows. */
export interface NoticeProgress {
  total: number;
  delivered: number;
  unreachable: number;
  failed: number;
  cancelled: number;
  remaining: number;
  /** Messages resent after a process died while they were in flight: they may have arrived twice. */
  possibleDuplicates: number;
}

/** Counts the outbox rows of a notice by state (uses the partial index on notice_id). */
export async function noticeProgress(db: Executor, noticeId: number): Promise<NoticeProgress> {
  const rows = await queryRows<{ status: string; n: number; dup: number }>(
    db,
    sql`select status, count(*)::int as n, count(*) filter (where possible_duplicate and status = 'sent')::int as dup
        from ${outbox} where notice_id = ${noticeId} group by status`,
  );
  const by = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
  const total = rows.reduce((sum, r) => sum + r.n, 0);
  return {
    total,
    delivered: by('sent'),
    unreachable: by('unreachable'),
    failed: by('failed'),
    cancelled: by('cancelled'),
    remaining: by('pending') + by('sending'),
    possibleDuplicates: rows.reduce((sum, r) => sum + r.dup, 0),
  };
}

/**
 * Stops a notice: everything not yet sent is cancelled (messages in flight finish). Staff may stop their
 * own notices, coordinators anyone's.
 */
export async function cancelNotice(db: Database, clock: Clock, actor: Actor, noticeId: number): Promise<NoticeRow> {
  return db.transaction(async (tx) => {
    const [notice] = await tx.select().from(notices).where(eq(notices.id, noticeId)).for('update');
    if (!notice) throw new DomainError('notices.errors.notFound');
    authorize(actor, notice.authorId === actor.userId ? 'notice.stop.own' : 'notice.stop.any');
    if (notice.status !== 'sending') throw new DomainError('notices.errors.notSending');
    const now = clock.now();
    const stopped = await tx
      .update(outbox)
      .set({ status: 'cancelled', error: 'notice stopped' })
      .where(and(eq(outbox.noticeId, noticeId), eq(outbox.status, 'pending')))
      .returning({ id: outbox.id });
    const [updated] = await tx.update(notices).set({ status: 'cancelled', cancelledAt: now, finishedAt: now }).where(eq(notices.id, noticeId)).returning();
    await audit(tx, clock, { actorId: actor.userId, action: 'notice.cancelled', details: { noticeId, notSent: stopped.length } });
    return updated!;
  });
}

/** Marks a notice done once nothing is left to send; true when this call finished it. */
export async function finishNoticeIfDone(db: Executor, clock: Clock, noticeId: number): Promise<boolean> {
  const progress = await noticeProgress(db, noticeId);
  if (progress.remaining > 0) return false;
  const finished = await db
    .update(notices)
    .set({ status: 'done', finishedAt: clock.now() })
    .where(and(eq(notices.id, noticeId), eq(notices.status, 'sending')))
    .returning({ id: notices.id });
  return finished.length > 0;
}

/** Notices still being sent (the progress job edits their progress messages). */
export async function sendingNotices(db: Executor): Promise<NoticeRow[]> {
  return db.select().from(notices).where(eq(notices.status, 'sending'));
}

/** Loads a notice. */
export async function findNotice(db: Executor, noticeId: number): Promise<NoticeRow | undefined> {
  const [row] = await db.select().from(notices).where(eq(notices.id, noticeId));
  return row;
}

/** The last notices meant for this user (by who they are now): their audience, district, language. */
export async function noticesForUser(db: Executor, user: UserRow, limit = 10): Promise<NoticeRow[]> {
  const audiences: NoticeAudience[] = ['everyone'];
  if (user.role === 'seeker') audiences.push('seekers');
  if (user.role === 'helper') audiences.push('helpers');
  return db
    .select()
    .from(notices)
    .where(
      and(
        inArray(notices.status, ['sending', 'done']),
        inArray(notices.audience, audiences),
        sql`(cardinality(${notices.districts}) = 0 or ${user.district ?? ''} = ${WHOLE_CITY} or ${user.district ?? ''} = any(${notices.districts}))`,
        sql`(cardinality(${notices.languages}) = 0 or ${user.locale} = any(${notices.languages}))`,
        sql`${notices.recipientCount} > 0`,
      ),
    )
    .orderBy(desc(notices.createdAt), desc(notices.id))
    .limit(limit);
}

/** A sent notice as the web desk lists it, with its delivery report. */
export interface NoticeReport {
  notice: NoticeRow;
  progress: NoticeProgress;
}

/**
 * The latest notices with their delivery reports: coordinators see all, staff those of their own
 * organisation (the permission is the same, the list is narrower).
 */
export async function listNoticeReports(db: Executor, viewer: Actor, limit = 30): Promise<NoticeReport[]> {
  authorize(viewer, 'notices.view');
  const where = viewer.role === 'coordinator' ? undefined : eq(notices.organisation, viewer.organisation ?? '\u0000');
  const rows = await db.select().from(notices).where(where).orderBy(desc(notices.createdAt), desc(notices.id)).limit(limit);
  return Promise.all(rows.map(async (notice) => ({ notice, progress: await noticeProgress(db, notice.id) })));
}

/** One notice with its report, if the viewer may see it (staff: their organisation's). */
export async function findNoticeReport(db: Executor, viewer: Actor, noticeId: number): Promise<NoticeReport> {
  authorize(viewer, 'notices.view');
  const notice = await findNotice(db, noticeId);
  if (!notice || (viewer.role !== 'coordinator' && notice.organisation !== viewer.organisation)) throw new DomainError('notices.errors.notFound');
  return { notice, progress: await noticeProgress(db, notice.id) };
}
