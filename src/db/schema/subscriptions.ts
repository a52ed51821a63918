import { index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import type { PostKind } from './posts';
import { users } from './users';

/** "Tell me about new posts of this kind in this category and district ('*' = whole city)." */
export const subscriptions = pgTable(
  'subscriptions',
  {
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<PostKind>().notNull(),
    category: text('category').notNull(),
    district: text('district').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.kind, t.category, t.district] }),
    index('subscriptions_match_idx').on(t.kind, t.category, t.district, t.userId),
  ],
);
