import { and, desc, eq, inArray, or, sql } from 'drizzle-orm';
import type { Clock } from '../clock';
import type { Database, Executor } from '../db';
import { blocks, type ContactRow, contacts, outbox, posts, PRIORITY, type PostRow, relayMessages, type RelayMessageRow, users, type UserRow } from '../db/schema';
import { DomainError } from './errors';
import { isConversationTranslationOff, queueTranslation } from './translations';
import { enqueue, OUTBOX_KINDS } from './outbox';
import { actorOf, authorize } from './permissions';
import { isActive } from './posts';
import { recordOfferOfHelp, resumeWavesAfterDeclinedOffer } from './waves';

/** Relayed texts longer than this would not fit into one Telegram message with our header. */
export const RELAY_TEXT_MAX = 3800;

/** Whether two users are in a block (either direction). */
export async function isBlockedPair(db: Executor, a: number, b: number): Promise<boolean> {
  const [row] = await db
    .select({ x: blocks.blockerId })
    .from(blocks)
    .where(or(and(eq(blocks.blockerId, a), eq(blocks.blockedId, b)), and(eq(blocks.blockerId, b), eq(blocks.blockedId, a))))
    .limit(1);
  return row !== undefined;
}

/**
 * "I can help" (on a need) or "I'm interested" (on an offer): asks the post's author, who decides.
 * Nothing about the author is revealed to the responder before the author accepts. Refuses one's own
 * post, closed posts ("already taken" when fulfilled), banned users, blocked pairs and a second press.
 */
export async function requestContact(db: Database, clock: Clock, responder: UserRow, postId: number): Promise<{ contact: ContactRow; post: PostRow }> {
  return db.transaction(async (tx) => {
    const [post] = await tx.select().from(posts).where(eq(posts.id, postId)).for('update');
    if (!post) throw new DomainError('contacts.errors.postGone');
    if (post.authorId === responder.id) throw new DomainError('contacts.errors.ownPost');
    if (post.status === 'fulfilled') throw new DomainError('contacts.errors.alreadyTaken');
    if (!isActive(post)) throw new DomainError('contacts.errors.postGone');
    authorize(actorOf(responder), 'contact.request');
    const [author] = await tx.select().from(users).where(eq(users.id, post.authorId));
    if (!author || author.bannedAt || author.deletedAt) throw new DomainError('contacts.errors.postGone');
    if (await isBlockedPair(tx, responder.id, author.id)) throw new DomainError('contacts.errors.unavailable');
    const now = clock.now();
    const [contact] = await tx
      .insert(contacts)
      .values({ postId, authorId: author.id, responderId: responder.id, status: 'offered', createdAt: now })
      .onConflictDoNothing()
      .returning();
    if (!contact) throw new DomainError(post.kind === 'need' ? 'contacts.errors.alreadyOffered' : 'contacts.errors.alreadyInterested');
    if (!post.firstResponseAt) await tx.update(posts).set({ firstResponseAt: now }).where(eq(posts.id, postId));
    // An offer of help stops a need's waves and counts for the helper's response record.
    if (post.kind === 'need') await recordOfferOfHelp(tx, postId, responder.id);
    await enqueue(tx, clock, [
      { userId: author.id, chatId: author.telegramId, kind: OUTBOX_KINDS.contactRequest, priority: PRIORITY.interactive, payload: { contactId: contact.id }, postId },
    ]);
    return { contact, post };
  });
}

async function contactForAuthor(db: Executor, user: UserRow, contactId: number): Promise<ContactRow> {
  const [contact] = await db.select().from(contacts).where(eq(contacts.id, contactId)).for('update');
  if (!contact) throw new DomainError('contacts.errors.notFound');
  if (contact.authorId !== user.id) throw new DomainError('contacts.errors.notYours');
  if (contact.status !== 'offered') throw new DomainError(`contacts.errors.already.${contact.status}`);
  return contact;
}

/** The author accepts: the anonymous relay opens and the responder is told. */
export async function acceptContact(
  db: Database,
  clock: Clock,
  author: UserRow,
  contactId: number,
  options: { followUpAfterMs?: number } = {},
): Promise<{ contact: ContactRow; responder: UserRow; post: PostRow }> {
  return db.transaction(async (tx) => {
    const contact = await contactForAuthor(tx, author, contactId);
    const [post] = await tx.select().from(posts).where(eq(posts.id, contact.postId));
    if (!post || !isActive(post)) throw new DomainError('contacts.errors.postGone');
    const [responder] = await tx.select().from(users).where(eq(users.id, contact.responderId));
    if (!responder || responder.deletedAt || responder.bannedAt) throw new DomainError('contacts.errors.unavailable');
    const now = clock.now();
    // On a need, the seeker is asked FOLLOW_UP_AFTER later whether they got the help (src/domain/follow-up.ts).
    const followUpAt = post.kind === 'need' && options.followUpAfterMs !== undefined ? new Date(now.getTime() + options.followUpAfterMs) : null;
    const [accepted] = await tx.update(contacts).set({ status: 'accepted', respondedAt: now, followUpAt }).where(eq(contacts.id, contactId)).returning();
    if (post.status === 'open') await tx.update(posts).set({ status: 'in_contact', updatedAt: now }).where(eq(posts.id, post.id));
    await enqueue(tx, clock, [
      { userId: responder.id, chatId: responder.telegramId, kind: OUTBOX_KINDS.contactAccepted, priority: PRIORITY.interactive, payload: { contactId }, postId: post.id },
    ]);
    return { contact: accepted!, responder, post };
  });
}

/**
 * The author declines: the responder is told politely; nothing about the author is revealed. A need
 * without another offer of help goes on with its next wave.
 */
export async function declineContact(db: Database, clock: Clock, author: UserRow, contactId: number): Promise<ContactRow> {
  return db.transaction(async (tx) => {
    const contact = await contactForAuthor(tx, author, contactId);
    const [declined] = await tx.update(contacts).set({ status: 'declined', respondedAt: clock.now() }).where(eq(contacts.id, contactId)).returning();
    await resumeWavesAfterDeclinedOffer(tx, clock.now(), contact.postId);
    const [responder] = await tx.select().from(users).where(eq(users.id, contact.responderId));
    if (responder) {
      await enqueue(tx, clock, [
        { userId: responder.id, chatId: responder.telegramId, kind: OUTBOX_KINDS.contactDeclined, priority: PRIORITY.interactive, payload: { contactId }, postId: contact.postId },
      ]);
    }
    return declined!;
  });
}

/** An open conversation seen from one participant. */
export interface OpenContact {
  contact: ContactRow;
  post: PostRow;
  partner: UserRow;
  /** Whether the viewer is the post's author. */
  isAuthor: boolean;
}

/** The user's accepted (open) conversations, newest first. */
export async function listOpenContacts(db: Executor, userId: number): Promise<OpenContact[]> {
  const rows = await db
    .select()
    .from(contacts)
    .innerJoin(posts, eq(posts.id, contacts.postId))
    .where(and(eq(contacts.status, 'accepted'), or(eq(contacts.authorId, userId), eq(contacts.responderId, userId))))
    .orderBy(desc(contacts.respondedAt));
  if (rows.length === 0) return [];
  const partnerIds = rows.map((r) => (r.contacts.authorId === userId ? r.contacts.responderId : r.contacts.authorId));
  const partners = new Map((await db.select().from(users).where(inArray(users.id, partnerIds))).map((u) => [u.id, u]));
  return rows.map((r) => {
    const isAuthor = r.contacts.authorId === userId;
    return { contact: r.contacts, post: r.posts, partner: partners.get(isAuthor ? r.contacts.responderId : r.contacts.authorId)!, isAuthor };
  });
}

/** One open conversation of the user, or a refusal. */
export async function findOpenContact(db: Executor, userId: number, contactId: number): Promise<OpenContact> {
  const open = (await listOpenContacts(db, userId)).find((c) => c.contact.id === contactId);
  if (!open) throw new DomainError('contacts.errors.notOpen');
  return open;
}

/**
 * Which conversation a reply belongs to: the user replied to a relayed message, or to the message that
 * opened the conversation.
 */
export async function findContactByReply(db: Executor, userId: number, repliedMessageId: number): Promise<number | undefined> {
  const [relayed] = await db
    .select({ contactId: relayMessages.contactId })
    .from(relayMessages)
    .where(and(eq(relayMessages.recipientId, userId), eq(relayMessages.deliveredMessageId, repliedMessageId)))
    .limit(1);
  if (relayed) return relayed.contactId;
  const [opened] = await db
    .select({ payload: outbox.payload })
    .from(outbox)
    .where(
      and(
        eq(outbox.userId, userId),
        eq(outbox.messageId, repliedMessageId),
        inArray(outbox.kind, [OUTBOX_KINDS.contactAccepted, OUTBOX_KINDS.contactRequest, OUTBOX_KINDS.relay]),
      ),
    )
    .orderBy(desc(outbox.id))
    .limit(1);
  const contactId = (opened?.payload as { contactId?: unknown } | undefined)?.contactId;
  return typeof contactId === 'number' ? contactId : undefined;
}

/** A text or photo one participant sends to the other. */
export interface RelayInput {
  sourceMessageId: number;
  text: string | null;
  photoFileId: string | null;
  /** The message in the sender's chat this one replies to, if any: the partner's copy of it is quoted. */
  repliedToMessageId?: number | null;
}

/**
 * Which message in the partner's chat a reply answers, from the relay's record of both sides: a reply to
 * a message the partner sent quotes the partner's original; a reply to one's own relayed message quotes the
 * copy the partner received. Anything else (a bot message, another conversation, a copy not delivered yet)
 * quotes nothing.
 */
export async function findQuotedMessage(db: Executor, senderId: number, contactId: number, repliedToMessageId: number): Promise<number | undefined> {
  const [row] = await db
    .select({ partnerMessageId: sql<number | null>`case when ${relayMessages.recipientId} = ${senderId} then ${relayMessages.sourceMessageId} else ${relayMessages.deliveredMessageId} end` })
    .from(relayMessages)
    .where(
      and(
        eq(relayMessages.contactId, contactId),
        or(
          and(eq(relayMessages.recipientId, senderId), eq(relayMessages.deliveredMessageId, repliedToMessageId)),
          and(eq(relayMessages.senderId, senderId), eq(relayMessages.sourceMessageId, repliedToMessageId)),
        ),
      ),
    )
    .orderBy(desc(relayMessages.id))
    .limit(1);
  return row?.partnerMessageId ?? undefined;
}

/**
 * Passes a message to the other participant: stored (for reports and retention) and queued with
 * interactive priority, in one transaction. Refused when the conversation is not open any more or
 * either side is banned.
 */
export async function relayMessage(db: Database, clock: Clock, sender: UserRow, contactId: number, input: RelayInput, options: { translate?: boolean } = {}): Promise<RelayMessageRow> {
  if (input.text !== null && [...input.text].length > RELAY_TEXT_MAX) throw new DomainError('contacts.errors.tooLong', { max: RELAY_TEXT_MAX });
  return db.transaction(async (tx) => {
    const open = await findOpenContact(tx, sender.id, contactId);
    authorize(actorOf(sender), 'contact.message');
    if (open.partner.bannedAt || open.partner.deletedAt) throw new DomainError('contacts.errors.unavailable');
    const quote = input.repliedToMessageId ? await findQuotedMessage(tx, sender.id, contactId, input.repliedToMessageId) : undefined;
    const [message] = await tx
      .insert(relayMessages)
      .values({
        contactId,
        senderId: sender.id,
        recipientId: open.partner.id,
        text: input.text,
        photoFileId: input.photoFileId,
        sourceMessageId: input.sourceMessageId,
        createdAt: clock.now(),
      })
      .returning();
    await enqueue(tx, clock, [
      {
        userId: open.partner.id,
        chatId: open.partner.telegramId,
        kind: OUTBOX_KINDS.relay,
        priority: PRIORITY.interactive,
        payload: { relayMessageId: message!.id, contactId, fromChatId: sender.telegramId, ...(quote !== undefined ? { quote } : {}) },
        postId: open.post.id,
      },
    ]);
    // With machine translation on, the text is translated into the partner's language (unless they switched
    // it off for this conversation; a text already in their language is left alone by the job).
    if (options.translate && input.text !== null && !(await isConversationTranslationOff(tx, open.partner.id, contactId))) {
      await queueTranslation(tx, clock, { relayMessageId: message!.id }, [open.partner.locale]);
    }
    return message!;
  });
}

/** Records where a relayed message landed, so that replies to it find their conversation. */
export async function markRelayDelivered(db: Executor, relayMessageId: number, deliveredMessageId: number): Promise<void> {
  await db.update(relayMessages).set({ deliveredMessageId }).where(eq(relayMessages.id, relayMessageId));
}

/**
 * Ends a conversation (either side); with `block`, the partner can never be matched with or contact
 * this user again. The partner is told the conversation ended, not that they were blocked.
 */
export async function endContact(db: Database, clock: Clock, user: UserRow, contactId: number, options: { block?: boolean } = {}): Promise<OpenContact> {
  return db.transaction(async (tx) => {
    const open = await findOpenContact(tx, user.id, contactId);
    const now = clock.now();
    await tx.update(contacts).set({ status: 'ended', endedAt: now, endedBy: user.id }).where(eq(contacts.id, contactId));
    if (options.block) await blockUser(tx, clock, user.id, open.partner.id);
    await enqueue(tx, clock, [
      { userId: open.partner.id, chatId: open.partner.telegramId, kind: OUTBOX_KINDS.contactEnded, priority: PRIORITY.interactive, payload: { contactId }, postId: open.post.id },
    ]);
    return open;
  });
}

/**
 * Takes a user out of all their conversations, asked for or open: one rule for a ban and for /deleteme.
 * Every conversation with status offered or accepted ends, and the partner in each is told once that it
 * ended (a deleted partner is not told). Returns the conversations that ended.
 */
export async function endConversationsOf(db: Executor, clock: Clock, userId: number, endedBy: number): Promise<ContactRow[]> {
  // Only rows this statement changes come back: a conversation that already ended is never announced again.
  const ended = await db
    .update(contacts)
    .set({ status: 'ended', endedAt: clock.now(), endedBy })
    .where(and(inArray(contacts.status, ['offered', 'accepted']), or(eq(contacts.authorId, userId), eq(contacts.responderId, userId))))
    .returning();
  if (ended.length === 0) return [];
  const partnerOf = (c: ContactRow) => (c.authorId === userId ? c.responderId : c.authorId);
  const partners = new Map(
    (await db.select({ id: users.id, telegramId: users.telegramId, deletedAt: users.deletedAt }).from(users).where(inArray(users.id, [...new Set(ended.map(partnerOf))]))).map(
      (p) => [p.id, p],
    ),
  );
  await enqueue(
    db,
    clock,
    ended.flatMap((c) => {
      const partner = partners.get(partnerOf(c));
      if (!partner || partner.deletedAt) return [];
      return [{ userId: partner.id, chatId: partner.telegramId, kind: OUTBOX_KINDS.contactEnded, priority: PRIORITY.interactive, payload: { contactId: c.id }, postId: c.postId }];
    }),
  );
  return ended;
}

/** Blocks a user: never matched, never able to ask again; open conversations between the two end. */
export async function blockUser(db: Executor, clock: Clock, blockerId: number, blockedId: number): Promise<void> {
  await db.insert(blocks).values({ blockerId, blockedId, createdAt: clock.now() }).onConflictDoNothing();
  await db
    .update(contacts)
    .set({ status: 'ended', endedAt: clock.now(), endedBy: blockerId })
    .where(
      and(
        inArray(contacts.status, ['offered', 'accepted']),
        or(and(eq(contacts.authorId, blockerId), eq(contacts.responderId, blockedId)), and(eq(contacts.authorId, blockedId), eq(contacts.responderId, blockerId))),
      ),
    );
  // Anything still queued between the two is not sent.
  await db
    .update(outbox)
    .set({ status: 'cancelled', error: 'blocked' })
    .where(and(eq(outbox.status, 'pending'), eq(outbox.userId, blockerId), sql`${outbox.payload}->>'contactId' is not null`, inArray(outbox.kind, [OUTBOX_KINDS.relay, OUTBOX_KINDS.contactRequest])));
}

/** Loads a contact with its post and both people (renderers). */
export async function loadContact(db: Executor, contactId: number): Promise<{ contact: ContactRow; post: PostRow; author: UserRow; responder: UserRow } | undefined> {
  const [row] = await db.select().from(contacts).innerJoin(posts, eq(posts.id, contacts.postId)).where(eq(contacts.id, contactId));
  if (!row) return undefined;
  const people = new Map((await db.select().from(users).where(inArray(users.id, [row.contacts.authorId, row.contacts.responderId]))).map((u) => [u.id, u]));
  const author = people.get(row.contacts.authorId);
  const responder = people.get(row.contacts.responderId);
  if (!author || !responder) return undefined;
  return { contact: row.contacts, post: row.posts, author, responder };
}
