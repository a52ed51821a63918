import { integer, pgTable, primaryKey, timestamp } from 'drizzle-orm/pg-core';

/**
 * The record that a person was told about a post. Its primary key makes "at most once per person"
 * hold under overlapping subscriptions, edits and renewals. Deliberately narrow and without foreign
 * keys: it is written once per recipient on the hot path of routing.
 */
export const notifications = pgTable(
  'notifications',
  {
    postId: integer('post_id').notNull(),
    userId: integer('user_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.postId, t.userId] })],
);
