import { and, asc, eq, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { WHOLE_CITY } from '../city';
import type { Clock } from '../clock';
import { type Database, type Executor, queryRows } from '../db';
import { type ChannelPostRow, type ChannelRow, channelPosts, channels, type MirrorState, type OutboxRow, outbox, PRIORITY, type PostRow, posts, users } from '../db/schema';
import { audit } from './audit';
import { DomainError } from './errors';
import { type Actor, authorize } from './permissions';

/**
 * The city's channels and groups (/channels): coordinators connect them, and every new post of a channel's
 * district (or of the whole city) is mirrored there as an anonymous card. Mirrors are outbox rows like every
 * other message (kind `channel.sync`, priority `channel`, user_id 0: no person), written by one sweep that
 * compares what each channel shows with what its posts are, and paced per channel when they are claimed.
 */

/** The outbox kind of every channel message: bring one card in line with its post (send, edit or delete). */
export const CHANNEL_SYNC_KIND = 'channel.sync';
/** Channel rows have no person as recipient. */
export const NO_PERSON = 0;
/** The payload of a `channel.sync` row (the post is the row's post_id). */
export const channelSyncPayload = z.object({ channelId: z.number().int().positive() });

/** What Telegram says about the bot in a chat (getChatMember / my_chat_member), as far as mirroring cares. */
export interface BotMembership {
  status: string;
  can_post_messages?: boolean;
  can_edit_messages?: boolean;
  can_delete_messages?: boolean;
}

/** A right the bot lacks for mirroring into a chat (a locale key suffix under channels.rights). */
export type MissingRight = 'admin' | 'post' | 'edit' | 'delete';

/**
 * What the bot is missing to mirror posts into this chat: administrator everywhere; in a channel also the
 * rights to post, edit and delete messages (groups let an administrator do all three with its own messages).
 */
export function missingRights(type: string, member: BotMembership): MissingRight[] {
  if (member.status === 'creator') return [];
  if (member.status !== 'administrator') return ['admin'];
  if (type !== 'channel') return [];
  const missing: MissingRight[] = [];
  if (!member.can_post_messages) missing.push('post');
  if (!member.can_edit_messages) missing.push('edit');
  if (!member.can_delete_messages) missing.push('delete');
  return missing;
}

/** Why a channel is lost, as stored: missing rights, or `removed` (the bot is out or the chat is gone). */
export type LostReason = MissingRight | 'removed' | 'rights';

/** The stored reason for a refusal Telegram gave when the bot wrote to a channel. */
export function lostReasonOf(description: string): LostReason {
  return /kicked|not a member|chat not found|PEER_ID_INVALID|CHANNEL_PRIVATE|upgraded|Forbidden/i.test(description) ? 'removed' : 'rights';
}

/** A stored lost reason, read back (older or unexpected text counts as a missing right). */
export function lostReasonsOf(channel: Pick<ChannelRow, 'lostReason'>): LostReason[] {
  const known: readonly string[] = ['admin', 'post', 'edit', 'delete', 'removed', 'rights'];
  const reasons = (channel.lostReason ?? '').split(',').map((r) => r.trim()).filter((r): r is LostReason => known.includes(r));
  return reasons.length > 0 ? reasons : ['rights'];
}

/** A chat as Telegram describes it (getChat). */
export interface ChatInfo {
  id: number;
  type: string;
  title: string;
  username?: string | null;
}

/**
 * Connects a channel or group (again, if it was connected before: then it is active again and keeps its
 * district and language). Audit-logged.
 */
export async function connectChannel(db: Database, clock: Clock, actor: Actor, chat: ChatInfo, defaults: { district: string; locale: string }): Promise<{ channel: ChannelRow; again: boolean }> {
  authorize(actor, 'channels.manage');
  if (chat.type === 'private') throw new DomainError('channels.errors.notAChannel');
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [before] = await tx.select({ id: channels.id, status: channels.status }).from(channels).where(eq(channels.chatId, chat.id));
    const [channel] = await tx
      .insert(channels)
      .values({ chatId: chat.id, type: chat.type, title: chat.title, username: chat.username ?? null, district: defaults.district, locale: defaults.locale, addedBy: actor.userId, createdAt: now, nextSendAt: now })
      .onConflictDoUpdate({
        target: channels.chatId,
        set: { type: chat.type, title: chat.title, username: chat.username ?? null, status: 'active', lostReason: null, lostAt: null },
      })
      .returning();
    if (before?.status === 'lost') await resumeMirrors(tx, channel!.id);
    await audit(tx, clock, { actorId: actor.userId, action: 'channel.connected', details: { channelId: channel!.id, chatId: chat.id, title: chat.title, again: before !== undefined } });
    return { channel: channel!, again: before !== undefined };
  });
}

/** Disconnects a channel: nothing more is mirrored there, queued messages to it are dropped. Audit-logged. */
export async function disconnectChannel(db: Database, clock: Clock, actor: Actor, channelId: number): Promise<ChannelRow | null> {
  authorize(actor, 'channels.manage');
  return db.transaction(async (tx) => {
    const [channel] = await tx.delete(channels).where(eq(channels.id, channelId)).returning();
    if (!channel) return null;
    await cancelQueued(tx, channel.chatId, 'channel disconnected');
    await audit(tx, clock, { actorId: actor.userId, action: 'channel.disconnected', details: { channelId, chatId: channel.chatId, title: channel.title } });
    return channel;
  });
}

/** Every connected channel, oldest first. */
export async function listChannels(db: Executor, actor: Actor): Promise<ChannelRow[]> {
  authorize(actor, 'channels.manage');
  return db.select().from(channels).orderBy(asc(channels.id));
}

/** A connected channel as the web desk lists it: how many posts it mirrored, how many cards are up now. */
export interface ChannelSummary {
  channel: ChannelRow;
  /** Posts whose card was posted there (now standing, edited to "help found", or taken back). */
  mirrored: number;
  /** Cards standing now for open posts. */
  open: number;
  /** Who connected it (first name), if that person is still known. */
  addedBy: string | null;
}

/** Every connected channel with its numbers, oldest first (the web desk's read-only list; coordinators). */
export async function summarizeChannels(db: Executor, actor: Actor): Promise<ChannelSummary[]> {
  authorize(actor, 'channels.manage');
  const rows = await db
    .select({
      channel: channels,
      mirrored: sql<number>`(select count(*) from ${channelPosts} cp where cp.channel_id = ${channels.id} and cp.posted_at is not null)::int`.mapWith(Number),
      open: sql<number>`(select count(*) from ${channelPosts} cp where cp.channel_id = ${channels.id} and cp.state in ('card', 'editing'))::int`.mapWith(Number),
      addedBy: users.firstName,
    })
    .from(channels)
    .leftJoin(users, eq(users.id, channels.addedBy))
    .orderBy(asc(channels.id));
  return rows;
}

/** Keeps the last refusal Telegram gave for a card in a chat (shown on the web desk). */
export async function recordChannelError(db: Executor, clock: Clock, chatId: number, description: string): Promise<void> {
  await db.update(channels).set({ lastError: description.slice(0, 300), lastErrorAt: clock.now() }).where(eq(channels.chatId, chatId));
}

/** One connected channel (null: disconnected meanwhile, or a forged id). */
export async function findChannel(db: Executor, actor: Actor, channelId: number): Promise<ChannelRow | null> {
  authorize(actor, 'channels.manage');
  const [channel] = await db.select().from(channels).where(eq(channels.id, channelId));
  return channel ?? null;
}

/** Changes a channel's district or language; cards already posted stay as they are. */
export async function updateChannel(db: Executor, actor: Actor, channelId: number, changes: { district?: string; locale?: string }): Promise<ChannelRow | null> {
  authorize(actor, 'channels.manage');
  const [channel] = await db.update(channels).set(changes).where(eq(channels.id, channelId)).returning();
  return channel ?? null;
}

async function cancelQueued(db: Executor, chatId: number, reason: string): Promise<void> {
  await db
    .update(outbox)
    .set({ status: 'cancelled', error: reason })
    .where(and(eq(outbox.chatId, chatId), eq(outbox.priority, PRIORITY.channel), eq(outbox.status, 'pending')));
}

/**
 * Marks a channel as lost (the bot was removed, lost a right, or the chat is gone): nothing is sent there
 * until it is checked again, and what was queued for it is dropped. Returns whether the chat is a connected one.
 */
export async function markChannelLost(db: Database, clock: Clock, chatId: number, reasons: LostReason[]): Promise<boolean> {
  const reason = reasons.join(',');
  return db.transaction(async (tx) => {
    const [changed] = await tx
      .update(channels)
      .set({ status: 'lost', lostReason: reason, lostAt: sql`coalesce(${channels.lostAt}, ${clock.now()}::timestamptz)` })
      .where(eq(channels.chatId, chatId))
      .returning({ id: channels.id });
    await cancelQueued(tx, chatId, `channel lost: ${reason}`);
    return changed !== undefined;
  });
}

/**
 * What Telegram told about the bot's membership in a chat (my_chat_member, or a check from /channels):
 * a known channel becomes lost when the bot left or lacks a right, and active again when all is back.
 * Unknown chats are ignored. Returns the channel's status afterwards (null: not a connected chat).
 */
export async function applyMembership(db: Database, clock: Clock, chatId: number, type: string, member: BotMembership): Promise<ChannelRow['status'] | null> {
  const [channel] = await db.select().from(channels).where(eq(channels.chatId, chatId));
  if (!channel) return null;
  const missing: LostReason[] = ['left', 'kicked'].includes(member.status) ? ['removed'] : missingRights(type, member);
  if (missing.length > 0) {
    await markChannelLost(db, clock, chatId, missing);
    return 'lost';
  }
  if (channel.status === 'lost') {
    await db.transaction(async (tx) => {
      await tx.update(channels).set({ status: 'active', lostReason: null, lostAt: null }).where(eq(channels.id, channel.id));
      await resumeMirrors(tx, channel.id);
    });
  }
  return 'active';
}

/**
 * A channel is active again: its cards whose pending change was dropped while it was lost get it again from
 * the next sweep (a card not yet sent counts as taken back, so it is queued anew while its post is open).
 */
async function resumeMirrors(db: Executor, channelId: number): Promise<void> {
  await db
    .update(channelPosts)
    .set({ state: sql`case when ${channelPosts.messageId} is null then 'gone' else 'card' end` })
    .where(and(eq(channelPosts.channelId, channelId), sql`${channelPosts.state} in ('queued', 'editing', 'closing')`));
}

/**
 * What a card shows of its post, as one md5 (computed in SQL): everything the card renders that its author
 * can change — kind, category, district, text, language, and whether it has a photo (the card says so; the
photo itself stays in the bot). The sweep compares it with what each card
 * was last sent or edited with; the card's age and number are not part of it (a renewal changes nothing
 * shown, so a card still standing is not edited for it). `alias` names the posts table in the statement.
 * (Migration 0013 holds a copy, to record what cards already in channels show.)
 */
export function cardContent(alias: 'p' | 'posts'): SQL<string> {
  return sql.raw(
    `md5(concat_ws(chr(31), ${alias}.kind, ${alias}.category, ${alias}.district, coalesce(${alias}.text, ''), (${alias}.photo_file_id is not null)::text, ${alias}.language))`,
  ) as SQL<string>;
}

/** The tail of a sweep statement: one `channel.sync` row per (channel_id, post_id) of `changed`, counted. */
function queueSyncRows(changed: SQL, now: Date): SQL {
  return sql`queued as (
          insert into ${outbox} (user_id, chat_id, priority, kind, payload, post_id, not_before, created_at)
          select ${NO_PERSON}, c.chat_id, ${PRIORITY.channel}, ${CHANNEL_SYNC_KIND}, jsonb_build_object('channelId', c.id), f.post_id, ${now}::timestamptz, ${now}::timestamptz
          from ${changed} f join ${channels} c on c.id = f.channel_id and c.status = 'active'
          returning 1
        )
        select count(*)::int as n from queued`;
}

/** A channel shows a post: its district's posts and whole-city ones, or (a whole-city channel) every post. */
const MATCHES = sql.raw(`(c.district = '*' or p.district = c.district or p.district = '*')`);

/** The same rule in JavaScript, for the renderer (a post's district may have changed since it was queued). */
export function channelShows(channel: Pick<ChannelRow, 'district'>, post: Pick<PostRow, 'district'>): boolean {
  return channel.district === WHOLE_CITY || post.district === channel.district || post.district === WHOLE_CITY;
}

/**
 * The mirror sweep, one statement per change: queues a card for every post published (or approved) since a
 * channel was connected that belongs to its district (a district channel also gets whole-city posts, a
 * whole-city channel everything); a new card for a post that reopened (renewed after it expired) whose card
 * was already taken back; an edit for every card whose post's content changed since it was sent (the author
 * edited the text, photo, category or district) — at most one pending edit per card, which shows the post as it
 * is when it is sent, so several edits in a row coalesce; and an edit or deletion for every card whose post is
 * no longer open (fulfilled, closed, expired, removed, erased). Each change is one outbox row; the rows are sent
 * at the channel's pace.
 */
export async function syncChannelMirrors(db: Executor, clock: Clock): Promise<number> {
  const now = clock.now();
  const open = sql.raw(`p.status in ('open', 'in_contact')`);
  const statements = [
    sql`with fresh as (
          insert into ${channelPosts} (channel_id, post_id, state, updated_at)
          select c.id, p.id, 'queued', ${now}::timestamptz
          from ${channels} c
          join ${posts} p on ${open} and p.published_at >= c.created_at and ${MATCHES}
          where c.status = 'active'
            and not exists (select 1 from ${channelPosts} cp where cp.channel_id = c.id and cp.post_id = p.id)
          on conflict do nothing
          returning channel_id, post_id
        ), ${queueSyncRows(sql`fresh`, now)}`,
    sql`with reopened as (
          update ${channelPosts} cp set state = 'queued', message_id = null, posted_at = null, content = null, updated_at = ${now}::timestamptz
          from ${posts} p, ${channels} c
          where p.id = cp.post_id and c.id = cp.channel_id and cp.state = 'gone' and ${open} and c.status = 'active' and ${MATCHES}
          returning cp.channel_id, cp.post_id
        ), ${queueSyncRows(sql`reopened`, now)}`,
    sql`with edited as (
          update ${channelPosts} cp set state = 'editing', updated_at = ${now}::timestamptz
          from ${posts} p, ${channels} c
          where p.id = cp.post_id and c.id = cp.channel_id and cp.state = 'card' and ${open} and ${MATCHES} and cp.content is distinct from ${cardContent('p')}
          returning cp.channel_id, cp.post_id
        ), ${queueSyncRows(sql`edited`, now)}`,
    // A post moved to another district leaves the old district's channel as an ended one does (and the
    // first statement gives the new district's channel its card).
    sql`with closing as (
          update ${channelPosts} cp set state = 'closing', updated_at = ${now}::timestamptz
          from ${posts} p, ${channels} c
          where p.id = cp.post_id and c.id = cp.channel_id and cp.state in ('queued', 'card', 'editing') and (not ${open} or not ${MATCHES})
          returning cp.channel_id, cp.post_id
        ), ${queueSyncRows(sql`closing`, now)}`,
  ];
  let queued = 0;
  for (const statement of statements) queued += (await queryRows<{ n: number }>(db, statement))[0]?.n ?? 0;
  return queued;
}

/**
 * Claims due channel rows for the delivery worker: at most one per channel whose pace allows a message now
 * (`channels.next_send_at`, moved on by `intervalMs` in the same statement, so that several processes share
 * each channel's pace). Rows of people are claimed before these and never wait for them.
 */
export async function claimChannelRows(db: Executor, clock: Clock, options: { limit: number; intervalMs: number; leaseMs: number; owner: string }): Promise<OutboxRow[]> {
  const now = clock.now();
  const next = new Date(now.getTime() + options.intervalMs);
  const leaseUntil = new Date(now.getTime() + options.leaseMs);
  const due = sql`o.status = 'pending' and o.priority = ${PRIORITY.channel} and o.not_before <= ${now}::timestamptz`;
  const ids = await queryRows<{ id: number }>(
    db,
    sql`with slots as (
          update ${channels} c set next_send_at = ${next}::timestamptz
          where c.id in (
            select c2.id from ${channels} c2
            where c2.status = 'active' and c2.next_send_at <= ${now}::timestamptz
              and exists (select 1 from ${outbox} o where o.chat_id = c2.chat_id and ${due})
            order by c2.next_send_at limit ${options.limit}
            for update skip locked)
          returning c.chat_id
        )
        select (select o.id from ${outbox} o where o.chat_id = s.chat_id and ${due} order by o.not_before, o.id limit 1 for update skip locked) as id
        from slots s`,
  );
  const claimable = ids.map((r) => Number(r.id)).filter((id) => Number.isSafeInteger(id) && id > 0);
  if (claimable.length === 0) return [];
  return db
    .update(outbox)
    .set({ status: 'sending', attempts: sql`${outbox.attempts} + 1`, leaseUntil, leaseOwner: options.owner })
    .where(and(sql`${outbox.id} in (${sql.join(claimable.map((id) => sql`${id}`), sql`, `)})`, eq(outbox.status, 'pending')))
    .returning();
}

/**
 * One card with its channel and post, for rendering a `channel.sync` row (null when any of them is gone);
 * `content` is the post's cardContent, read together with the post (what the card will show once sent).
 */
export async function findMirror(db: Executor, channelId: number, postId: number): Promise<{ channel: ChannelRow; mirror: ChannelPostRow; post: PostRow; content: string } | null> {
  const [row] = await db
    .select({ channel: channels, mirror: channelPosts, post: posts, content: cardContent('posts') })
    .from(channelPosts)
    .innerJoin(channels, eq(channels.id, channelPosts.channelId))
    .innerJoin(posts, eq(posts.id, channelPosts.postId))
    .where(and(eq(channelPosts.channelId, channelId), eq(channelPosts.postId, postId)));
  return row ?? null;
}

/**
 * Records what a channel shows of a post now (after a card was sent, edited or deleted): a new card's message
 * id, and the content (cardContent) a card was sent or edited with.
 */
export async function recordMirror(db: Executor, clock: Clock, channelId: number, postId: number, state: MirrorState, shown: { messageId?: number; content?: string } = {}): Promise<void> {
  const now = clock.now();
  await db
    .update(channelPosts)
    .set({
      state,
      updatedAt: now,
      ...(shown.messageId !== undefined ? { messageId: shown.messageId, postedAt: now } : {}),
      ...(shown.content !== undefined ? { content: shown.content } : {}),
    })
    .where(and(eq(channelPosts.channelId, channelId), eq(channelPosts.postId, postId)));
}
