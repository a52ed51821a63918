import { and, asc, count, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Clock } from '../clock';
import type { Database, Executor } from '../db';
import {
  ACTIVE_POST_STATUSES,
  contacts,
  notices,
  outbox,
  posts,
  PRIORITY,
  relayMessages,
  type ReportReason,
  type ReportTarget,
  reports,
  users,
  type UserRow,
} from '../db/schema';
import { audit } from './audit';
import { endConversationsOf } from './contacts';
import { DomainError } from './errors';
import { enqueue, OUTBOX_KINDS } from './outbox';
import { type Actor, authorize } from './permissions';
import { approvePost, cancelWaitingContacts, type PostsContext, type Published } from './posts';

export type ReportRow = typeof reports.$inferSelect;

/** Outbox kinds of moderation messages (rendered in the recipient's language). */
export const MODERATION_KINDS = {
  removed: 'moderation.removed',
  warned: 'moderation.warned',
  banned: 'moderation.banned',
  unbanned: 'moderation.unbanned',
  approved: 'moderation.approved',
  rejected: 'moderation.rejected',
  queue: 'moderation.queue',
} as const;

/** Who wrote the reported item; refuses items the reporter could not have seen. */
async function reportedPerson(db: Executor, reporter: UserRow, target: ReportTarget, id: number): Promise<number | null> {
  if (target === 'post') {
    const [post] = await db.select({ authorId: posts.authorId, status: posts.status }).from(posts).where(eq(posts.id, id));
    if (!post || post.status === 'pending_review') throw new DomainError('moderation.report.notFound');
    if (post.authorId === reporter.id) throw new DomainError('moderation.report.own');
    return post.authorId;
  }
  if (target === 'relay') {
    const [message] = await db.select({ senderId: relayMessages.senderId, recipientId: relayMessages.recipientId }).from(relayMessages).where(eq(relayMessages.id, id));
    // Only the person a message was relayed to can report it.
    if (!message || message.recipientId !== reporter.id) throw new DomainError('moderation.report.notFound');
    return message.senderId;
  }
  const [notice] = await db.select({ authorId: notices.authorId }).from(notices).where(eq(notices.id, id));
  if (!notice) throw new DomainError('moderation.report.notFound');
  return notice.authorId;
}

/**
 * A user reports a post, a relayed message or a notice. The reported person is never told who
 * reported; a second report of the same item by the same person is refused politely.
 */
export async function createReport(db: Database, clock: Clock, reporter: UserRow, target: ReportTarget, id: number, reason: ReportReason): Promise<ReportRow> {
  return db.transaction(async (tx) => {
    const targetUserId = await reportedPerson(tx, reporter, target, id);
    const [report] = await tx
      .insert(reports)
      .values({ reporterId: reporter.id, targetType: target, targetId: id, targetUserId, reason, status: 'open', createdAt: clock.now() })
      .onConflictDoNothing()
      .returning();
    if (!report) throw new DomainError('moderation.report.already');
    return report;
  });
}

/**
 * "Report a problem" under the follow-up of a protected category: the seeker reports the helper of one of
 * their conversations. Unlike other reports it reaches every coordinator at once (not in the batched
 * summary) and waits in the moderation queue like any report. The helper is never told who reported.
 * Only the seeker of the conversation can report it, once.
 */
export async function createSafetyReport(db: Database, clock: Clock, seeker: Pick<UserRow, 'id'>, contactId: number): Promise<ReportRow> {
  return db.transaction(async (tx) => {
    const [contact] = await tx.select().from(contacts).where(eq(contacts.id, contactId));
    if (!contact || contact.authorId !== seeker.id) throw new DomainError('moderation.report.notFound');
    const now = clock.now();
    const [report] = await tx
      .insert(reports)
      .values({
        reporterId: seeker.id,
        targetType: 'contact',
        targetId: contactId,
        targetUserId: contact.responderId,
        reason: 'other',
        status: 'open',
        createdAt: now,
        // Told now, one by one: the batched summary leaves it out.
        announcedAt: now,
      })
      .onConflictDoNothing()
      .returning();
    if (!report) throw new DomainError('followUp.reportedAlready');
    const coordinators = await tx
      .select()
      .from(users)
      .where(and(eq(users.role, 'coordinator'), isNull(users.deletedAt), isNull(users.blockedAt)));
    await enqueue(
      tx,
      clock,
      coordinators.map((c) => ({ userId: c.id, chatId: c.telegramId, kind: OUTBOX_KINDS.reportUrgent, priority: PRIORITY.interactive, payload: { reportId: report.id }, postId: contact.postId })),
    );
    await audit(tx, clock, { actorId: seeker.id, action: 'report.safety', targetUserId: contact.responderId, details: { reportId: report.id, contactId } });
    return report;
  });
}

/** The conversation and need of an open safety report (for the urgent message to coordinators). */
export async function findReportedContact(db: Executor, reportId: number): Promise<{ report: ReportRow; contact: typeof contacts.$inferSelect; post: typeof posts.$inferSelect } | null> {
  const [row] = await db
    .select({ report: reports, contact: contacts, post: posts })
    .from(reports)
    .innerJoin(contacts, eq(contacts.id, reports.targetId))
    .innerJoin(posts, eq(posts.id, contacts.postId))
    .where(and(eq(reports.id, reportId), eq(reports.targetType, 'contact'), eq(reports.status, 'open')));
  return row ?? null;
}

/** Everything a coordinator needs to judge one report. */
export interface ReportContext {
  report: ReportRow;
  /** Open reports in the queue (including this one). */
  open: number;
  position: number;
  target: UserRow | null;
  /** Earlier reports and warnings about the same person. */
  history: { reports: number; warnings: number };
  post?: typeof posts.$inferSelect;
  relay?: typeof relayMessages.$inferSelect & { postId: number };
  notice?: typeof notices.$inferSelect;
  /** A safety report: the conversation the seeker reported and its need. */
  safety?: { contact: typeof contacts.$inferSelect; post: typeof posts.$inferSelect };
}

/** The oldest open report (or the one after `afterId`), with its context. */
export async function nextReport(db: Executor, coordinator: Actor, afterId = 0): Promise<ReportContext | null> {
  authorize(coordinator, 'moderation.review');
  const open = await db.select().from(reports).where(eq(reports.status, 'open')).orderBy(asc(reports.createdAt), asc(reports.id));
  if (open.length === 0) return null;
  const index = Math.max(0, open.findIndex((r) => r.id > afterId));
  const report = open[index] ?? open[0]!;
  return loadReportContext(db, report, open.length, open.indexOf(report) + 1);
}

/** The open reports, oldest first, each with its context (the web desk shows the queue as a list). */
export async function listOpenReports(db: Executor, coordinator: Actor, limit = 50): Promise<ReportContext[]> {
  authorize(coordinator, 'moderation.review');
  const open = await db.select().from(reports).where(eq(reports.status, 'open')).orderBy(asc(reports.createdAt), asc(reports.id));
  return Promise.all(open.slice(0, limit).map((report, i) => loadReportContext(db, report, open.length, i + 1)));
}

async function loadReportContext(db: Executor, report: ReportRow, open: number, position: number): Promise<ReportContext> {
  const [target] = report.targetUserId ? await db.select().from(users).where(eq(users.id, report.targetUserId)) : [];
  const [{ n: earlier } = { n: 0 }] = report.targetUserId
    ? await db.select({ n: count() }).from(reports).where(and(eq(reports.targetUserId, report.targetUserId), sql`${reports.id} <> ${report.id}`))
    : [{ n: 0 }];
  const [{ n: warnings } = { n: 0 }] = report.targetUserId
    ? await db.select({ n: count() }).from(reports).where(and(eq(reports.targetUserId, report.targetUserId), eq(reports.action, 'warn')))
    : [{ n: 0 }];
  const context: ReportContext = { report, open, position, target: target ?? null, history: { reports: earlier, warnings } };
  if (report.targetType === 'post') {
    const [post] = await db.select().from(posts).where(eq(posts.id, report.targetId));
    if (post) context.post = post;
  } else if (report.targetType === 'relay') {
    const [row] = await db
      .select({ message: relayMessages, postId: contacts.postId })
      .from(relayMessages)
      .innerJoin(contacts, eq(contacts.id, relayMessages.contactId))
      .where(eq(relayMessages.id, report.targetId));
    if (row) context.relay = { ...row.message, postId: row.postId };
  } else if (report.targetType === 'contact') {
    const [row] = await db.select({ contact: contacts, post: posts }).from(contacts).innerJoin(posts, eq(posts.id, contacts.postId)).where(eq(contacts.id, report.targetId));
    if (row) context.safety = row;
  } else {
    const [notice] = await db.select().from(notices).where(eq(notices.id, report.targetId));
    if (notice) context.notice = notice;
  }
  return context;
}

/** Loads one report with its context (after an action, for the next screen). */
export async function findReport(db: Executor, coordinator: Actor, reportId: number): Promise<ReportRow | undefined> {
  authorize(coordinator, 'moderation.review');
  const [row] = await db.select().from(reports).where(eq(reports.id, reportId));
  return row;
}

async function openReport(db: Executor, reportId: number): Promise<ReportRow> {
  const [report] = await db.select().from(reports).where(eq(reports.id, reportId)).for('update');
  if (!report) throw new DomainError('moderation.errors.notFound');
  if (report.status !== 'open') throw new DomainError('moderation.errors.alreadyHandled');
  return report;
}

async function resolve(db: Executor, clock: Clock, coordinator: Actor, where: ReturnType<typeof and>, status: 'dismissed' | 'actioned', action: string): Promise<void> {
  await db
    .update(reports)
    .set({ status, action, handledBy: coordinator.userId, handledAt: clock.now() })
    .where(and(eq(reports.status, 'open'), where));
}

/** Dismisses a report: nothing happens to anyone. */
export async function dismissReport(db: Database, clock: Clock, coordinator: Actor, reportId: number): Promise<void> {
  authorize(coordinator, 'moderation.review');
  await db.transaction(async (tx) => {
    const report = await openReport(tx, reportId);
    await resolve(tx, clock, coordinator, eq(reports.id, report.id), 'dismissed', 'dismiss');
    await audit(tx, clock, { actorId: coordinator.userId, action: 'report.dismissed', targetUserId: report.targetUserId, details: { reportId } });
  });
}

/**
 * Removes a reported post: it stops matching and disappears from browsing; waiting offers of help are
 * cancelled; the author is told in their language. Every open report about the post is resolved.
 */
export async function removeReportedPost(db: Database, clock: Clock, coordinator: Actor, reportId: number): Promise<void> {
  authorize(coordinator, 'moderation.review');
  await db.transaction(async (tx) => {
    const report = await openReport(tx, reportId);
    if (report.targetType !== 'post') throw new DomainError('moderation.errors.notAPost');
    await removePost(tx, clock, coordinator, report.targetId, report.reason);
    await resolve(tx, clock, coordinator, and(eq(reports.targetType, 'post'), eq(reports.targetId, report.targetId)), 'actioned', 'remove');
  });
}

async function removePost(db: Executor, clock: Clock, coordinator: Actor, postId: number, reason: ReportReason): Promise<void> {
  const now = clock.now();
  const [post] = await db.update(posts).set({ status: 'removed', closedAt: now, updatedAt: now }).where(eq(posts.id, postId)).returning();
  if (!post) return;
  await cancelWaitingContacts(db, clock, postId);
  const [author] = await db.select().from(users).where(eq(users.id, post.authorId));
  if (author && !author.deletedAt) {
    await enqueue(db, clock, [{ userId: author.id, chatId: author.telegramId, kind: MODERATION_KINDS.removed, priority: PRIORITY.interactive, payload: { reason }, postId }]);
  }
  await audit(db, clock, { actorId: coordinator.userId, action: 'post.removed', targetUserId: post.authorId, details: { postId, reason } });
}

/** Warns the reported person with a message about the rules, in their language. */
export async function warnReportedUser(db: Database, clock: Clock, coordinator: Actor, reportId: number): Promise<void> {
  authorize(coordinator, 'moderation.review');
  await db.transaction(async (tx) => {
    const report = await openReport(tx, reportId);
    const [target] = report.targetUserId ? await tx.select().from(users).where(eq(users.id, report.targetUserId)) : [];
    if (!target) throw new DomainError('moderation.errors.noAuthor');
    await enqueue(tx, clock, [{ userId: target.id, chatId: target.telegramId, kind: MODERATION_KINDS.warned, priority: PRIORITY.interactive, payload: { reason: report.reason } }]);
    await resolve(tx, clock, coordinator, eq(reports.id, report.id), 'actioned', 'warn');
    await audit(tx, clock, { actorId: coordinator.userId, action: 'user.warned', targetUserId: target.id, details: { reportId, reason: report.reason } });
  });
}

/**
 * Bans a user: they can no longer post, contact anyone or be contacted. Their open posts are taken
 * down, their conversations end (partners are told the conversation ended), and they are told, in their
 * language, with the reason. Every open report about them is resolved.
 */
export async function banUser(db: Database, clock: Clock, coordinator: Actor, targetId: number, reason: ReportReason, reportId?: number): Promise<UserRow> {
  authorize(coordinator, 'moderation.ban');
  return db.transaction(async (tx) => {
    const [target] = await tx.select().from(users).where(eq(users.id, targetId)).for('update');
    if (!target) throw new DomainError('moderation.errors.noAuthor');
    if (target.role === 'coordinator') throw new DomainError('moderation.errors.cannotBanCoordinator');
    if (target.bannedAt) throw new DomainError('moderation.errors.alreadyBanned');
    const now = clock.now();
    const [banned] = await tx.update(users).set({ bannedAt: now, banReason: reason }).where(eq(users.id, targetId)).returning();
    const taken = await tx
      .update(posts)
      .set({ status: 'removed', closedAt: now, updatedAt: now })
      .where(and(eq(posts.authorId, targetId), inArray(posts.status, [...ACTIVE_POST_STATUSES, 'pending_review'])))
      .returning({ id: posts.id });
    for (const post of taken) await cancelWaitingContacts(tx, clock, post.id);
    await endConversationsOf(tx, clock, targetId, coordinator.userId);
    // Nothing of theirs is passed on any more.
    await tx
      .update(outbox)
      .set({ status: 'cancelled', error: 'sender banned' })
      .where(and(eq(outbox.status, 'pending'), eq(outbox.kind, OUTBOX_KINDS.relay), sql`${outbox.payload}->>'fromChatId' = ${String(target.telegramId)}`));
    await enqueue(tx, clock, [{ userId: target.id, chatId: target.telegramId, kind: MODERATION_KINDS.banned, priority: PRIORITY.interactive, payload: { reason } }]);
    await resolve(tx, clock, coordinator, eq(reports.targetUserId, targetId), 'actioned', 'ban');
    await audit(tx, clock, { actorId: coordinator.userId, action: 'user.banned', targetUserId: targetId, details: { reason, reportId: reportId ?? null, postsRemoved: taken.length } });
    return banned!;
  });
}

/** Lifts a ban; the person is told. */
export async function unbanUser(db: Database, clock: Clock, coordinator: Actor, targetId: number): Promise<UserRow> {
  authorize(coordinator, 'moderation.ban');
  return db.transaction(async (tx) => {
    const [target] = await tx.update(users).set({ bannedAt: null, banReason: null }).where(and(eq(users.id, targetId), sql`${users.bannedAt} is not null`)).returning();
    if (!target) throw new DomainError('moderation.errors.notBanned');
    await enqueue(tx, clock, [{ userId: target.id, chatId: target.telegramId, kind: MODERATION_KINDS.unbanned, priority: PRIORITY.interactive }]);
    await audit(tx, clock, { actorId: coordinator.userId, action: 'user.unbanned', targetUserId: targetId });
    return target;
  });
}

/** Banned users, newest first (for unbanning). */
export async function listBanned(db: Executor, coordinator: Actor): Promise<UserRow[]> {
  authorize(coordinator, 'moderation.ban');
  return db.select().from(users).where(sql`${users.bannedAt} is not null`).orderBy(sql`${users.bannedAt} desc`).limit(20);
}

/** Posts waiting for approval (PREMODERATE_FIRST_POST), oldest first. */
export async function pendingPosts(db: Executor, coordinator: Actor) {
  authorize(coordinator, 'moderation.review');
  return db.select().from(posts).where(eq(posts.status, 'pending_review')).orderBy(asc(posts.createdAt));
}

/** Rejects a post that waited for approval; the author is told. */
export async function rejectPendingPost(db: Database, clock: Clock, coordinator: Actor, postId: number): Promise<void> {
  authorize(coordinator, 'moderation.review');
  await db.transaction(async (tx) => {
    const now = clock.now();
    const [post] = await tx.update(posts).set({ status: 'removed', closedAt: now, updatedAt: now }).where(and(eq(posts.id, postId), eq(posts.status, 'pending_review'))).returning();
    if (!post) throw new DomainError('moderation.errors.alreadyHandled');
    const [author] = await tx.select().from(users).where(eq(users.id, post.authorId));
    if (author) await enqueue(tx, clock, [{ userId: author.id, chatId: author.telegramId, kind: MODERATION_KINDS.rejected, priority: PRIORITY.interactive, postId }]);
    await audit(tx, clock, { actorId: coordinator.userId, action: 'post.removed', targetUserId: post.authorId, details: { postId, premoderation: true } });
  });
}

/**
 * Tells coordinators about new reports and posts awaiting approval — one message per coordinator per
 * run, not one per report. Reports are marked announced in the same transaction.
 */
export async function announceModerationQueue(db: Executor, clock: Clock): Promise<number> {
  const fresh = await db
    .update(reports)
    .set({ announcedAt: clock.now() })
    .where(and(eq(reports.status, 'open'), isNull(reports.announcedAt)))
    .returning({ id: reports.id });
  // For posts waiting for approval, reminded_at marks "coordinators were told" (approval clears it).
  const waiting = await db
    .update(posts)
    .set({ remindedAt: clock.now() })
    .where(and(eq(posts.status, 'pending_review'), isNull(posts.remindedAt)))
    .returning({ id: posts.id });
  if (fresh.length === 0 && waiting.length === 0) return 0;
  const coordinators = await db.select().from(users).where(and(eq(users.role, 'coordinator'), isNull(users.deletedAt)));
  await enqueue(
    db,
    clock,
    coordinators.map((c) => ({
      userId: c.id,
      chatId: c.telegramId,
      kind: MODERATION_KINDS.queue,
      priority: PRIORITY.notification,
      payload: { reports: fresh.length, pending: waiting.length },
    })),
  );
  return fresh.length + waiting.length;
}

/** Counts for the /moderation overview. */
export async function moderationCounts(db: Executor, coordinator: Actor): Promise<{ reports: number; pending: number; banned: number }> {
  authorize(coordinator, 'moderation.review');
  const [r] = await db.select({ n: count() }).from(reports).where(eq(reports.status, 'open'));
  const [p] = await db.select({ n: count() }).from(posts).where(eq(posts.status, 'pending_review'));
  const [b] = await db.select({ n: count() }).from(users).where(sql`${users.bannedAt} is not null`);
  return { reports: r?.n ?? 0, pending: p?.n ?? 0, banned: b?.n ?? 0 };
}

/** Approves a post that waited for review: it is published and routed, and the author told. */
export async function approvePendingPost(db: Database, ctx: PostsContext, coordinator: Actor, postId: number): Promise<Published> {
  authorize(coordinator, 'moderation.review');
  const published = await approvePost(db, ctx, postId);
  await db.transaction(async (tx) => {
    const [author] = await tx.select().from(users).where(eq(users.id, published.post.authorId));
    if (author) {
      await enqueue(tx, ctx.clock, [
        { userId: author.id, chatId: author.telegramId, kind: MODERATION_KINDS.approved, priority: PRIORITY.interactive, payload: { recipients: published.recipients }, postId },
      ]);
    }
    await audit(tx, ctx.clock, { actorId: coordinator.userId, action: 'post.approved', targetUserId: published.post.authorId, details: { postId } });
  });
  return published;
}
