import { sql } from 'drizzle-orm';
import { index, integer, pgTable, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { posts } from './posts';
import { users } from './users';

export const CONTACT_STATUSES = ['offered', 'accepted', 'declined', 'ended', 'cancelled'] as const;
export type ContactStatus = (typeof CONTACT_STATUSES)[number];

/**
 * A responder ("I can help" on a need, "I'm interested" on an offer) asks the post's author;
 * on accept the two talk through an anonymous relay.
 */
export const contacts = pgTable(
  'contacts',
  {
    id: serial('id').primaryKey(),
    postId: integer('post_id')
      .notNull()
      .references(() => posts.id),
    authorId: integer('author_id')
      .notNull()
      .references(() => users.id),
    responderId: integer('responder_id')
      .notNull()
      .references(() => users.id),
    status: text('status').$type<ContactStatus>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    respondedAt: timestamp('responded_at', { withTimezone: true }),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    endedBy: integer('ended_by'),
    /** When the seeker is next asked "Did you get the help you needed?" (FOLLOW_UP_AFTER after accepting). */
    followUpAt: timestamp('follow_up_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('contacts_post_responder_idx').on(t.postId, t.responderId),
    index('contacts_author_open_idx')
      .on(t.authorId)
      .where(sql`${t.status} in ('offered', 'accepted')`),
    // What the follow-up job scans: only accepted contacts with a question planned.
    index('contacts_follow_up_idx')
      .on(t.followUpAt)
      .where(sql`${t.followUpAt} is not null`),
    index('contacts_responder_open_idx')
      .on(t.responderId)
      .where(sql`${t.status} in ('offered', 'accepted')`),
  ],
);

export type ContactRow = typeof contacts.$inferSelect;

/** What passed through a relay; texts are erased after the retention period. */
export const relayMessages = pgTable(
  'relay_messages',
  {
    id: serial('id').primaryKey(),
    contactId: integer('contact_id')
      .notNull()
      .references(() => contacts.id),
    senderId: integer('sender_id')
      .notNull()
      .references(() => users.id),
    recipientId: integer('recipient_id')
      .notNull()
      .references(() => users.id),
    text: text('text'),
    photoFileId: text('photo_file_id'),
    sourceMessageId: integer('source_message_id').notNull(),
    /** The message id in the recipient's chat, once delivered: replies to it go to this contact. */
    deliveredMessageId: integer('delivered_message_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    erasedAt: timestamp('erased_at', { withTimezone: true }),
  },
  (t) => [
    index('relay_messages_contact_idx').on(t.contactId),
    index('relay_messages_delivered_idx').on(t.recipientId, t.deliveredMessageId),
  ],
);

export type RelayMessageRow = typeof relayMessages.$inferSelect;
