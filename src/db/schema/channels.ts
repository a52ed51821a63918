import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgTable, primaryKey, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { posts } from './posts';
import { users } from './users';

export const CHANNEL_STATUSES = ['active', 'lost'] as const;
/** `lost`: the bot was removed, lost a right it needs, or Telegram no longer knows the chat. */
export type ChannelStatus = (typeof CHANNEL_STATUSES)[number];

/**
 * A Telegram channel or group that coordinators connected (/channels): new posts of its district (or of the
 * whole city) are mirrored there as anonymous cards in its language.
 */
export const channels = pgTable(
  'channels',
  {
    id: serial('id').primaryKey(),
    chatId: bigint('chat_id', { mode: 'number' }).notNull(),
    /** channel, group or supergroup. */
    type: text('type').notNull(),
    title: text('title').notNull(),
    username: text('username'),
    /** A district key or '*' (the whole city). */
    district: text('district').notNull(),
    locale: text('locale').notNull(),
    status: text('status').$type<ChannelStatus>().notNull().default('active'),
    /** Why it was marked lost (Telegram's description or what my_chat_member said). */
    lostReason: text('lost_reason'),
    lostAt: timestamp('lost_at', { withTimezone: true }),
    /** The last refusal Telegram gave for a card here (any, not only those that mark the channel lost), for the web desk. */
    lastError: text('last_error'),
    lastErrorAt: timestamp('last_error_at', { withTimezone: true }),
    addedBy: integer('added_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    /** Mirrors are paced per channel (CHANNEL_INTERVAL): the next message may go out at this time. */
    nextSendAt: timestamp('next_send_at', { withTimezone: true }).notNull(),
  },
  (t) => [uniqueIndex('channels_chat_idx').on(t.chatId)],
);

export type ChannelRow = typeof channels.$inferSelect;

export const MIRROR_STATES = ['queued', 'card', 'editing', 'closing', 'done', 'gone', 'deleted'] as const;
/**
 * queued: a card is to be sent; card: it is in the channel; editing: its post was edited (or renewed) and the
 * card is to show the new content (one pending edit per card); closing: its post ended and the card is to be
 * edited or deleted; done: edited to "help found"; gone: deleted, or never sent (a new card follows if the post
 * reopens); deleted: removed in the channel by its administrators (found out by an edit), never posted again.
 */
export type MirrorState = (typeof MIRROR_STATES)[number];

/** One post's card in one channel. */
export const channelPosts = pgTable(
  'channel_posts',
  {
    channelId: integer('channel_id')
      .notNull()
      .references(() => channels.id, { onDelete: 'cascade' }),
    postId: integer('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    state: text('state').$type<MirrorState>().notNull(),
    messageId: integer('message_id'),
    postedAt: timestamp('posted_at', { withTimezone: true }),
    /** What the card shows: the md5 of its post's content when it was last sent or edited (see cardContent). */
    content: text('content'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.channelId, t.postId] }),
    // The sync sweep looks only at cards that may still have to change.
    index('channel_posts_live_idx')
      .on(t.postId)
      .where(sql`${t.state} in ('queued', 'card', 'editing')`),
  ],
);

export type ChannelPostRow = typeof channelPosts.$inferSelect;
