import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Clock } from '../clock';
import type { Config } from '../config';
import { type Database, type Executor, queryRows } from '../db';
import { contacts, notifications, outbox, posts, PRIORITY, type PostRow, users, type UserRow } from '../db/schema';
import { audit } from './audit';
import { requestContact } from './contacts';
import { DomainError } from './errors';
import { reachableHelperSql, type RoutingContext, subscribersSql } from './matching';
import { enqueue, OUTBOX_KINDS } from './outbox';
import { type Actor, actorOf, authorize } from './permissions';
import { cancelWaitingContacts } from './posts';
import { effectiveQuietHours, quietUntil, quietUntilSql } from './time';
import { protectedNeedSql } from './verification';

/** Why a coordinator or Lotse closed a desk item ("referred" is set by referring to an office). */
export const DESK_CLOSE_REASONS = ['resolved', 'unreachable', 'out_of_scope', 'duplicate'] as const;
export type DeskCloseReason = (typeof DESK_CLOSE_REASONS)[number];

/** How often an unclaimed desk item is announced again. */
export const DESK_REANNOUNCE_MS = 86_400_000;

/** What the desk job needs: routing (clock, time zone, quiet hours) and DESK_AFTER. */
export interface DeskContext extends RoutingContext {
  deskAfterMs: number;
}

/** The desk context from the configuration and the city's time zone. */
export function deskContext(config: Pick<Config, 'DESK_AFTER' | 'QUIET_HOURS'>, clock: Clock, timeZone: string): DeskContext {
  return { clock, timeZone, quietHours: config.QUIET_HOURS, deskAfterMs: config.DESK_AFTER };
}

/** Where a need is on the desk, as SQL on `posts` (needs only, still open or in contact). */
const ON_DESK = sql`${posts.kind} = 'need' and ${posts.deskAt} is not null and ${posts.status} in ('open', 'in_contact')`;

/**
 * The desk job: needs published DESK_AFTER ago that still have no accepted contact land on the desk,
 * and their seekers are told once. One conditional UPDATE … RETURNING claims each need (`desk_at is
 * null`), so two processes or two runs never move — or tell — the same need twice.
 */
export async function moveOverdueNeedsToDesk(db: Executor, ctx: DeskContext): Promise<number> {
  const now = ctx.clock.now();
  const due = new Date(now.getTime() - ctx.deskAfterMs);
  const landed = await db
    .update(posts)
    .set({ deskAt: now })
    .where(
      and(
        eq(posts.kind, 'need'),
        eq(posts.status, 'open'),
        isNull(posts.deskAt),
        sql`${posts.publishedAt} <= ${due}`,
        sql`not exists (select 1 from ${contacts} c where c.post_id = ${posts.id} and c.status = 'accepted')`,
      ),
    )
    .returning({ id: posts.id, authorId: posts.authorId });
  if (landed.length === 0) return 0;
  const authors = await db.select().from(users).where(inArray(users.id, landed.map((p) => p.authorId)));
  const byId = new Map(authors.filter((a) => !a.deletedAt).map((a) => [a.id, a]));
  await enqueue(
    db,
    ctx.clock,
    landed.flatMap((p) => {
      const author = byId.get(p.authorId);
      if (!author) return [];
      const notBefore = quietUntil(now, ctx.timeZone, effectiveQuietHours(author, ctx.quietHours)) ?? now;
      return [{ userId: author.id, chatId: author.telegramId, kind: OUTBOX_KINDS.deskLanded, priority: PRIORITY.notification, postId: p.id, notBefore }];
    }),
  );
  return landed.length;
}

/** The people who work the desk: coordinators and staff marked as Lotse. */
async function deskWorkers(db: Executor): Promise<UserRow[]> {
  return db
    .select()
    .from(users)
    .where(sql`${users.deletedAt} is null and ${users.bannedAt} is null and (${users.role} = 'coordinator' or (${users.role} = 'staff' and ${users.lotse}))`);
}

/**
 * Tells coordinators and Lotsen about new desk items, and again about items still without an owner a
 * day after they were last announced — one message per person per run, not one per item (like reports).
 */
export async function announceDesk(db: Executor, clock: Clock): Promise<number> {
  const now = clock.now();
  const fresh = await db
    .update(posts)
    .set({ deskAnnouncedAt: now })
    .where(and(ON_DESK, isNull(posts.deskAnnouncedAt)))
    .returning({ id: posts.id });
  const unclaimed = await db
    .update(posts)
    .set({ deskAnnouncedAt: now })
    .where(and(ON_DESK, eq(posts.status, 'open'), isNull(posts.deskOwnerId), sql`${posts.deskAnnouncedAt} <= ${new Date(now.getTime() - DESK_REANNOUNCE_MS)}`))
    .returning({ id: posts.id });
  if (fresh.length === 0 && unclaimed.length === 0) return 0;
  const workers = await deskWorkers(db);
  await enqueue(
    db,
    clock,
    workers.map((w) => ({
      userId: w.id,
      chatId: w.telegramId,
      kind: OUTBOX_KINDS.deskQueue,
      priority: PRIORITY.notification,
      payload: { fresh: fresh.length, unclaimed: unclaimed.length },
    })),
  );
  return fresh.length + unclaimed.length;
}

/** One desk item with what a coordinator or Lotse needs to act on it (never the seeker's identity). */
export interface DeskItem {
  post: PostRow;
  history: { told: number; declined: number; offered: number };
  owner: Pick<UserRow, 'id' | 'firstName' | 'organisation'> | null;
}

/** The desk: needs on it, unclaimed first, then the oldest first. */
export async function listDesk(db: Executor, actor: Actor): Promise<DeskItem[]> {
  authorize(actor, 'desk.work');
  const rows = await db
    .select()
    .from(posts)
    .where(ON_DESK)
    .orderBy(sql`${posts.deskOwnerId} is not null`, asc(posts.deskAt), asc(posts.id))
    .limit(50);
  return Promise.all(rows.map((post) => loadItem(db, post)));
}

async function loadItem(db: Executor, post: PostRow): Promise<DeskItem> {
  const [history] = await queryRows<{ told: number; declined: number; offered: number }>(
    db,
    sql`select count(*)::int as told,
               count(*) filter (where response = 'declined')::int as declined,
               (select count(*)::int from ${contacts} c where c.post_id = ${post.id}) as offered
        from ${notifications} where post_id = ${post.id}`,
  );
  const [owner] = post.deskOwnerId
    ? await db.select({ id: users.id, firstName: users.firstName, organisation: users.organisation }).from(users).where(eq(users.id, post.deskOwnerId))
    : [];
  return { post, history: history ?? { told: 0, declined: 0, offered: 0 }, owner: owner ?? null };
}

/** One desk item (after an action, for the next screen); null when it is no longer on the desk. */
export async function findDeskItem(db: Executor, actor: Actor, postId: number): Promise<DeskItem | null> {
  authorize(actor, 'desk.work');
  const [post] = await db.select().from(posts).where(and(eq(posts.id, postId), ON_DESK));
  return post ? loadItem(db, post) : null;
}

/** The need on the desk, locked for this transaction; refuses one that left the desk meanwhile. */
async function lockedItem(db: Executor, postId: number): Promise<PostRow> {
  const [post] = await db.select().from(posts).where(eq(posts.id, postId)).for('update');
  if (!post || post.kind !== 'need' || post.deskAt === null || (post.status !== 'open' && post.status !== 'in_contact')) throw new DomainError('desk.errors.gone');
  return post;
}

/**
 * "Take it": the coordinator or Lotse becomes the item's owner and offers help through the relay like a
 * helper (the seeker sees them with their organisation and decides). Refused when someone else took it.
 */
export async function takeDeskItem(db: Database, clock: Clock, taker: UserRow, postId: number): Promise<{ requested: boolean }> {
  authorize(actorOf(taker), 'desk.work');
  await db.transaction(async (tx) => {
    const post = await lockedItem(tx, postId);
    if (post.deskOwnerId !== null && post.deskOwnerId !== taker.id) throw new DomainError('desk.errors.taken');
    await tx.update(posts).set({ deskOwnerId: taker.id }).where(eq(posts.id, postId));
    await audit(tx, clock, { actorId: taker.id, action: 'desk.taken', targetUserId: post.authorId, details: { postId } });
  });
  try {
    await requestContact(db, clock, taker, postId);
    return { requested: true };
  } catch (err) {
    // Offered before (as a helper, or a second press): ownership stands, the seeker has the offer already.
    if (err instanceof DomainError && err.key === 'contacts.errors.alreadyOffered') return { requested: false };
    throw err;
  }
}

/**
 * Sends the seeker the information of the office responsible for the need's category, in their language.
 * The need stays open, or closes as "referred".
 */
export async function referToOffice(db: Database, clock: Clock, actor: Actor, postId: number, options: { close: boolean; hasOffice: (category: string) => boolean }): Promise<PostRow> {
  authorize(actor, 'desk.work');
  return db.transaction(async (tx) => {
    const post = await lockedItem(tx, postId);
    if (!options.hasOffice(post.category)) throw new DomainError('desk.errors.noOffice');
    const now = clock.now();
    const [row] = await tx
      .update(posts)
      .set(options.close ? { referredAt: now, status: 'closed', closeReason: 'referred', closedAt: now, updatedAt: now, nextWaveAt: null } : { referredAt: now })
      .where(eq(posts.id, postId))
      .returning();
    if (options.close) await cancelWaitingContacts(tx, clock, postId);
    const [author] = await tx.select().from(users).where(eq(users.id, post.authorId));
    if (author && !author.deletedAt) {
      await enqueue(tx, clock, [
        { userId: author.id, chatId: author.telegramId, kind: OUTBOX_KINDS.deskReferred, priority: PRIORITY.interactive, payload: { category: post.category, closed: options.close }, postId },
      ]);
    }
    await audit(tx, clock, { actorId: actor.userId, action: 'desk.referred', targetUserId: post.authorId, details: { postId, closed: options.close } });
    return row!;
  });
}

/**
 * Sends the need once more, to every subscriber of its category in the whole city who was not told yet
 * (whatever their district; nobody is told twice) — verified ones only in a protected category. Once per
 * need. The seeker hears how many were told.
 */
export async function broadcastDeskItem(db: Database, ctx: RoutingContext, actor: Actor, postId: number): Promise<number> {
  authorize(actor, 'desk.work');
  return db.transaction(async (tx) => {
    const post = await lockedItem(tx, postId);
    if (post.deskBroadcastAt !== null) throw new DomainError('desk.errors.alreadyBroadcast');
    const now = ctx.clock.now();
    const notBefore = quietUntilSql(now, ctx.timeZone, ctx.quietHours, sql`r.quiet_start`, sql`r.quiet_end`);
    const [row] = await queryRows<{ told: number }>(
      tx,
      sql`with ranked as materialized (
          select u.id, u.telegram_id, u.quiet_start, u.quiet_end
          from ${users} u
          where u.id in (${subscribersSql('need', post.category, null)})
            and ${reachableHelperSql(post.authorId, now)}${protectedNeedSql(ctx, post)}
            and not exists (select 1 from ${notifications} t where t.post_id = ${post.id} and t.user_id = u.id)
        ),
        notified as (
          insert into ${notifications} (post_id, user_id, created_at, wave)
          select ${post.id}, id, ${now}, ${Math.max(post.wave, 1)} from ranked
          on conflict do nothing
          returning user_id
        ),
        queued as (
          insert into ${outbox} (user_id, chat_id, priority, kind, payload, post_id, not_before, created_at)
          select r.id, r.telegram_id, ${PRIORITY.notification}, ${OUTBOX_KINDS.postNotify}, '{}'::jsonb, ${post.id}, ${notBefore}, ${now}
          from ranked r where r.id in (select user_id from notified)
          returning 1
        )
        select count(*)::int as told from queued`,
    );
    const told = row?.told ?? 0;
    await tx.update(posts).set({ deskBroadcastAt: now }).where(eq(posts.id, postId));
    const [author] = await tx.select().from(users).where(eq(users.id, post.authorId));
    if (told > 0 && author && !author.deletedAt) {
      const seekerNotBefore = quietUntil(now, ctx.timeZone, effectiveQuietHours(author, ctx.quietHours)) ?? now;
      await enqueue(tx, ctx.clock, [
        { userId: author.id, chatId: author.telegramId, kind: OUTBOX_KINDS.waveProgress, priority: PRIORITY.notification, payload: { told, widened: false }, postId, notBefore: seekerNotBefore },
      ]);
    }
    await audit(tx, ctx.clock, { actorId: actor.userId, action: 'desk.broadcast', targetUserId: post.authorId, details: { postId, told } });
    return told;
  });
}

/** Closes a desk item with a reason; waiting offers of help are cancelled (their senders are told). */
export async function closeDeskItem(db: Database, clock: Clock, actor: Actor, postId: number, reason: DeskCloseReason): Promise<PostRow> {
  authorize(actor, 'desk.work');
  return db.transaction(async (tx) => {
    const post = await lockedItem(tx, postId);
    const now = clock.now();
    const [row] = await tx
      .update(posts)
      .set({ status: 'closed', closeReason: reason, closedAt: now, updatedAt: now, nextWaveAt: null })
      .where(eq(posts.id, postId))
      .returning();
    await cancelWaitingContacts(tx, clock, postId);
    await audit(tx, clock, { actorId: actor.userId, action: 'desk.closed', targetUserId: post.authorId, details: { postId, reason } });
    return row!;
  });
}

/** A coordinator marks a staff member as Lotse (or takes the mark away); audit-logged. */
export async function setLotse(db: Database, clock: Clock, coordinator: Actor, targetId: number, lotse: boolean): Promise<UserRow> {
  authorize(coordinator, 'staff.lotse');
  return db.transaction(async (tx) => {
    const [target] = await tx
      .update(users)
      .set({ lotse })
      .where(and(eq(users.id, targetId), eq(users.role, 'staff')))
      .returning();
    if (!target) throw new DomainError('staff.notStaff');
    await audit(tx, clock, { actorId: coordinator.userId, action: lotse ? 'lotse.granted' : 'lotse.revoked', targetUserId: targetId });
    return target;
  });
}
