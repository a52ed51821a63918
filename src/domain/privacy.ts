import { and, desc, eq, inArray, isNotNull, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Clock } from '../clock';
import type { Database, Executor } from '../db';
import {
  ACTIVE_POST_STATUSES,
  auditLog,
  blocks,
  contacts,
  notices,
  notifications,
  outbox,
  type OutboxStatus,
  posts,
  type PostStatus,
  relayMessages,
  reports,
  type Role,
  sessions,
  subscriptions,
  organisationMembers,
  organisations,
  users,
  verifications,
  webLogins,
  webSessions,
} from '../db/schema';
import { endConversationsOf } from './contacts';
import { OUTBOX_KINDS } from './outbox';
import { cancelWaitingContacts } from './posts';
import type { Sweep } from './sweeps';
import { deleteFinishedJobs, eraseOrphanedTranslations } from './translations';

const DAY_MS = 86_400_000;

/** Posts in these statuses are over: their texts are erased RETENTION_DAYS after they ended. */
export const ENDED_POST_STATUSES: PostStatus[] = ['fulfilled', 'closed', 'expired', 'removed'];

/** Outbox rows in these statuses are finished; they are deleted RETENTION_DAYS after they were queued. */
export const FINISHED_OUTBOX_STATUSES: OutboxStatus[] = ['sent', 'cancelled', 'unreachable', 'failed', 'digested'];

/**
 * What erasing a post empties: its text and photo, and the name and language of the person a Lotse took
 * it for (/intake) — nothing of that person stays.
 */
const ERASED_POST = { text: null, photoFileId: null, textHash: null, intakeName: null, intakeLanguage: null };

/** A post still holds something to erase. */
function postContent(): SQL[] {
  return [isNotNull(posts.text), isNotNull(posts.photoFileId), isNotNull(posts.textHash), isNotNull(posts.intakeName), isNotNull(posts.intakeLanguage)];
}

/** At most this many finished outbox rows are deleted per run, so one run never holds a long lock. */
const OUTBOX_DELETE_BATCH = 10_000;

/** The other person in a conversation or block, as the user may see them: a role and a first name. */
export interface PartnerView {
  role: Role | null;
  firstName: string | null;
}

/**
 * Everything Hilfenetz stores about one person (GDPR Art. 15), as plain data for /mydata. Data of
 * other people is left out: conversation partners and blocked people appear only with role and first
 * name (which the user saw anyway), never with their Telegram id, username or internal id; reports
 * about the user come without who reported them or when (Art. 15(4)); blocks others made against the
 * user are not shown at all, because the product promises the blocker that the other side is never told.
 */
export async function collectUserData(db: Executor, userId: number) {
  const [profile] = await db.select().from(users).where(eq(users.id, userId));
  if (!profile) throw new Error(`user ${userId} not found`);

  const ownPosts = await db.select().from(posts).where(eq(posts.authorId, userId)).orderBy(posts.id);
  const ownSubscriptions = await db
    .select({ kind: subscriptions.kind, category: subscriptions.category, district: subscriptions.district, createdAt: subscriptions.createdAt })
    .from(subscriptions)
    .where(eq(subscriptions.userId, userId));

  const contactRows = await db
    .select()
    .from(contacts)
    .where(or(eq(contacts.authorId, userId), eq(contacts.responderId, userId)))
    .orderBy(contacts.id);
  const blockRows = await db.select().from(blocks).where(eq(blocks.blockerId, userId)).orderBy(blocks.createdAt);
  const otherIds = [
    ...new Set([...contactRows.map((c) => (c.authorId === userId ? c.responderId : c.authorId)), ...blockRows.map((b) => b.blockedId)]),
  ];
  const others = new Map(
    otherIds.length === 0
      ? []
      : (await db.select({ id: users.id, role: users.role, firstName: users.firstName }).from(users).where(inArray(users.id, otherIds))).map((u) => [
          u.id,
          { role: u.role, firstName: u.firstName } satisfies PartnerView,
        ]),
  );
  const partnerView = (id: number): PartnerView => others.get(id) ?? { role: null, firstName: null };

  const relayColumns = {
    id: relayMessages.id,
    contactId: relayMessages.contactId,
    text: relayMessages.text,
    photoFileId: relayMessages.photoFileId,
    createdAt: relayMessages.createdAt,
    erasedAt: relayMessages.erasedAt,
  };
  const sent = await db
    .select(relayColumns)
    .from(relayMessages)
    .where(eq(relayMessages.senderId, userId))
    .orderBy(relayMessages.id);
  const received = await db
    .select(relayColumns)
    .from(relayMessages)
    .where(eq(relayMessages.recipientId, userId))
    .orderBy(relayMessages.id);

  const notified = await db
    .select({ postId: notifications.postId, response: notifications.response })
    .from(notifications)
    .where(eq(notifications.userId, userId))
    .orderBy(notifications.postId);

  const reportsMade = await db
    .select({
      id: reports.id,
      targetType: reports.targetType,
      targetId: reports.targetId,
      reason: reports.reason,
      status: reports.status,
      createdAt: reports.createdAt,
      handledAt: reports.handledAt,
      action: reports.action,
    })
    .from(reports)
    .where(eq(reports.reporterId, userId))
    .orderBy(reports.id);
  const reportsAbout = await db
    .select({ targetType: reports.targetType, targetId: reports.targetId, reason: reports.reason, status: reports.status, action: reports.action })
    .from(reports)
    .where(eq(reports.targetUserId, userId))
    .orderBy(reports.id);

  const [session] = await db.select().from(sessions).where(eq(sessions.key, String(profile.telegramId)));
  const messages = await db
    .select({
      kind: outbox.kind,
      status: outbox.status,
      postId: outbox.postId,
      noticeId: outbox.noticeId,
      createdAt: outbox.createdAt,
      notBefore: outbox.notBefore,
      sentAt: outbox.sentAt,
    })
    .from(outbox)
    .where(eq(outbox.userId, userId))
    .orderBy(outbox.id);
  const noticesWritten = await db
    .select({
      id: notices.id,
      organisation: notices.organisation,
      audience: notices.audience,
      districts: notices.districts,
      languages: notices.languages,
      texts: notices.texts,
      mediaType: notices.mediaType,
      mediaFileId: notices.mediaFileId,
      status: notices.status,
      recipientCount: notices.recipientCount,
      createdAt: notices.createdAt,
    })
    .from(notices)
    .where(eq(notices.authorId, userId))
    .orderBy(notices.id);
  const [verification] = await db
    .select({ status: verifications.status, requestedAt: verifications.requestedAt, decidedAt: verifications.decidedAt })
    .from(verifications)
    .where(eq(verifications.userId, userId));
  const memberships = await db
    .select({ organisation: organisations.name, joinedAt: organisationMembers.joinedAt, withdrawnAt: organisations.withdrawnAt })
    .from(organisationMembers)
    .innerJoin(organisations, eq(organisations.id, organisationMembers.organisationId))
    .where(eq(organisationMembers.userId, userId))
    .orderBy(organisationMembers.joinedAt);
  const audit = await db
    .select({ action: auditLog.action, actorId: auditLog.actorId, createdAt: auditLog.createdAt })
    .from(auditLog)
    .where(or(eq(auditLog.actorId, userId), eq(auditLog.targetUserId, userId)))
    .orderBy(desc(auditLog.createdAt));

  return {
    profile,
    posts: ownPosts,
    subscriptions: ownSubscriptions,
    contacts: contactRows.map((c) => ({
      id: c.id,
      postId: c.postId,
      yourSide: c.authorId === userId ? ('author' as const) : ('responder' as const),
      partner: partnerView(c.authorId === userId ? c.responderId : c.authorId),
      status: c.status,
      createdAt: c.createdAt,
      respondedAt: c.respondedAt,
      endedAt: c.endedAt,
      endedByYou: c.endedBy === null ? null : c.endedBy === userId,
    })),
    relayMessages: { sent, received },
    // How one answered the needs one was told about ("I can help", "Not this time"): the response record
    // that ranks waves.
    notifications: {
      count: notified.length,
      postIds: notified.map((n) => n.postId),
      answers: notified.filter((n) => n.response !== null).map((n) => ({ postId: n.postId, response: n.response })),
    },
    reportsMade,
    reportsAboutYou: {
      count: reportsAbout.length,
      open: reportsAbout.filter((r) => r.status === 'open').length,
      items: reportsAbout,
    },
    blocksMade: blockRows.map((b) => ({ blocked: partnerView(b.blockedId), createdAt: b.createdAt })),
    session: session ? { value: session.value, updatedAt: session.updatedAt } : null,
    outbox: messages,
    noticesWritten,
    // Verification for the protected categories: one's own request and the organisations one joined.
    verification: { request: verification ?? null, organisations: memberships },
    auditLog: audit.map((a) => ({ action: a.action, byYou: a.actorId === userId, createdAt: a.createdAt })),
  };
}

/** Counts of one deletion, for the log (never contents). */
export interface DeletionSummary {
  postsClosed: number;
  postsErased: number;
  /** Open conversations and the user's own unanswered offers of help, ended with the partner told. */
  conversationsEnded: number;
  /** Offers of help still waiting on the user's closed posts, cancelled with their senders told. */
  requestsCancelled: number;
  relayMessagesErased: number;
  subscriptionsDeleted: number;
  outboxCancelled: number;
}

/**
 * The Telegram id a deleted profile keeps: the negated internal id. Real Telegram user ids are
 * positive, so it can never collide with a person who writes to the bot, and it is unique per row.
 */
export function deletedTelegramId(userId: number): number {
  return -userId;
}

/**
 * /deleteme (GDPR Art. 17), in one transaction: the profile loses name, username and Telegram id;
 * active posts close (people waiting for an answer are told) and every post loses its text and photo;
 * open conversations and the user's unanswered offers of help end (each partner is told that the
 * conversation ended, nothing more: endConversationsOf, as for a ban); texts and
 * photos of relayed messages the user sent are erased; subscriptions, notification records, the session,
 * queued messages and verification (the request, organisation memberships) go, and so do the notification
 * settings. Reports and blocks stay, pointing at
 * the now anonymous row, as do role, district and language for statistics (organisation, ban and the
 * timestamps stay too: they describe what happened, not who it was). Returns null for a user who is
 * already deleted.
 */
export async function deleteUserData(db: Database, clock: Clock, userId: number): Promise<DeletionSummary | null> {
  return db.transaction(async (tx) => {
    const [user] = await tx.select().from(users).where(eq(users.id, userId)).for('update');
    if (!user) throw new Error(`user ${userId} not found`);
    if (user.deletedAt) return null;
    const now = clock.now();
    const telegramId = user.telegramId;

    // Active posts close; offers of help still waiting on them are cancelled and their senders told.
    const closed = await tx
      .update(posts)
      .set({ status: 'closed', closedAt: now, updatedAt: now })
      .where(and(eq(posts.authorId, userId), inArray(posts.status, [...ACTIVE_POST_STATUSES, 'pending_review'])))
      .returning({ id: posts.id });
    let requestsCancelled = 0;
    for (const post of closed) requestsCancelled += await cancelWaitingContacts(tx, clock, post.id);

    const erasedPosts = await tx
      .update(posts)
      .set({ ...ERASED_POST, erasedAt: now })
      .where(and(eq(posts.authorId, userId), or(...postContent())))
      .returning({ id: posts.id });

    // Their conversations end, open ones and their own offers of help nobody answered yet; each partner
    // hears that the conversation ended (the same rule as for a ban).
    const ended = await endConversationsOf(tx, clock, userId, userId);

    const erasedRelay = await tx
      .update(relayMessages)
      .set({ text: null, photoFileId: null, erasedAt: now })
      .where(and(eq(relayMessages.senderId, userId), or(isNotNull(relayMessages.text), isNotNull(relayMessages.photoFileId))))
      .returning({ id: relayMessages.id });

    // Machine translations go with the originals they were made from.
    await eraseOrphanedTranslations(tx, { postIds: erasedPosts.map((p) => p.id), relayMessageIds: erasedRelay.map((m) => m.id) });

    // Queued messages: none goes to the user any more, none of theirs is passed on, and no row keeps
    // their Telegram id (relayed photos are copied from the sender's chat, whose id is in the payload).
    const cancelledToUser = await tx
      .update(outbox)
      .set({ status: 'cancelled', error: 'recipient deleted' })
      .where(and(eq(outbox.userId, userId), inArray(outbox.status, ['pending', 'deferred'])))
      .returning({ id: outbox.id });
    const fromUser = sql`${outbox.kind} = ${OUTBOX_KINDS.relay} and ${outbox.payload}->>'fromChatId' = ${String(telegramId)}`;
    const cancelledFromUser = await tx
      .update(outbox)
      .set({ status: 'cancelled', error: 'sender deleted' })
      .where(and(fromUser, eq(outbox.status, 'pending')))
      .returning({ id: outbox.id });
    await tx
      .update(outbox)
      .set({ payload: sql`${outbox.payload} - 'fromChatId'` })
      .where(fromUser);
    // A banned person keeps their Telegram id on the anonymous row, so that /deleteme followed by /start
    // does not lift the ban (everything else is erased as for anyone).
    const keptTelegramId = user.bannedAt ? telegramId : deletedTelegramId(userId);
    await tx.update(outbox).set({ chatId: keptTelegramId }).where(eq(outbox.userId, userId));
    await tx.update(notices).set({ progressChatId: null }).where(eq(notices.progressChatId, telegramId));

    const subs = await tx.delete(subscriptions).where(eq(subscriptions.userId, userId)).returning({ userId: subscriptions.userId });
    // Verification rows go: a verification is about a person, and the person is gone.
    await tx.delete(verifications).where(eq(verifications.userId, userId));
    await tx.delete(organisationMembers).where(eq(organisationMembers.userId, userId));
    await tx.delete(notifications).where(eq(notifications.userId, userId));
    await tx.delete(sessions).where(eq(sessions.key, String(telegramId)));
    // Web desk access ends with the person (staff and coordinators who delete themselves).
    await tx.delete(webSessions).where(eq(webSessions.userId, userId));
    await tx.delete(webLogins).where(eq(webLogins.userId, userId));

    await tx
      .update(users)
      .set({
        telegramId: keptTelegramId,
        firstName: null,
        username: null,
        notificationsPaused: true,
        pausedUntil: null,
        dailyCap: null,
        quietStart: null,
        quietEnd: null,
        notifiedDay: null,
        notifiedCount: 0,
        deletedAt: now,
      })
      .where(eq(users.id, userId));

    const summary: DeletionSummary = {
      postsClosed: closed.length,
      postsErased: erasedPosts.length,
      conversationsEnded: ended.length,
      requestsCancelled,
      relayMessagesErased: erasedRelay.length,
      subscriptionsDeleted: subs.length,
      outboxCancelled: cancelledToUser.length + cancelledFromUser.length,
    };
    // Proof that the erasure happened (accountability), without anything personal.
    await tx.insert(auditLog).values({ actorId: userId, action: 'user.deleted', targetUserId: userId, details: summary, createdAt: now });
    return summary;
  });
}

/**
 * The retention rule: texts and photo ids of posts that ended (fulfilled, closed, expired, removed)
 * more than `retentionDays` ago, and of relayed messages older than that, become null with erased_at;
 * finished outbox rows older than that are deleted (their payloads may point at erased content).
 * Idempotent: erased rows no longer match. Returns how many rows changed.
 */
export async function eraseExpiredTexts(db: Executor, clock: Clock, retentionDays: number): Promise<number> {
  const now = clock.now();
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
  const erasedPosts = await db
    .update(posts)
    .set({ ...ERASED_POST, erasedAt: now })
    .where(
      and(
        inArray(posts.status, ENDED_POST_STATUSES),
        lt(sql`coalesce(${posts.closedAt}, ${posts.updatedAt})`, cutoff),
        or(...postContent()),
      ),
    )
    .returning({ id: posts.id });
  const erasedRelay = await db
    .update(relayMessages)
    .set({ text: null, photoFileId: null, erasedAt: now })
    .where(and(lt(relayMessages.createdAt, cutoff), or(isNotNull(relayMessages.text), isNotNull(relayMessages.photoFileId))))
    .returning({ id: relayMessages.id });
  // Their machine translations go with them; finished translation jobs after the same period.
  const erasedTranslations = await eraseOrphanedTranslations(db, { postIds: erasedPosts.map((p) => p.id), relayMessageIds: erasedRelay.map((m) => m.id) });
  await deleteFinishedJobs(db, cutoff);
  const deleted = await db
    .delete(outbox)
    .where(
      inArray(
        outbox.id,
        db
          .select({ id: outbox.id })
          .from(outbox)
          .where(and(inArray(outbox.status, FINISHED_OUTBOX_STATUSES), lt(outbox.createdAt, cutoff)))
          .limit(OUTBOX_DELETE_BATCH),
      ),
    )
    .returning({ id: outbox.id });
  return erasedPosts.length + erasedRelay.length + erasedTranslations + deleted.length;
}

/** The retention sweep for the scheduler, with the configured RETENTION_DAYS. */
export function createRetentionSweep(retentionDays: number): Sweep {
  return (db, clock) => eraseExpiredTexts(db, clock, retentionDays);
}
