import { jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** grammY session storage: dialogs survive restarts and work across processes. */
export const sessions = pgTable('sessions', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
