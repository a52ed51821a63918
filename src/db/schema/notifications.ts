import { index, integer, pgTable, primaryKey, smallint, text, timestamp } from 'drizzle-orm/pg-core';

/** How a helper answered a need they were told about (null: not at all, yet). */
export const NOTIFICATION_RESPONSES = ['offered', 'declined'] as const;
export type NotificationResponse = (typeof NOTIFICATION_RESPONSES)[number];

/**
 * The record that a person was told about a post. Its primary key makes "at most once per person"
 * hold under overlapping subscriptions, edits, renewals and waves. Deliberately narrow and without
 * foreign keys: it is written once per recipient on the hot path of routing.
 */
export const notifications = pgTable(
  'notifications',
  {
    postId: integer('post_id').notNull(),
    userId: integer('user_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    /** The wave of a need that told this person; null for an offer (offers reach everyone at once). */
    wave: smallint('wave'),
    /** "I can help" (offered) or "Not this time" (declined): the helper's response record. */
    response: text('response').$type<NotificationResponse>(),
  },
  (t) => [
    primaryKey({ columns: [t.postId, t.userId] }),
    // The ranking of a wave reads each candidate's last 30 days (load, response record, last notified).
    index('notifications_user_idx').on(t.userId, t.createdAt),
  ],
);
