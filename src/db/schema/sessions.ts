import { index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** grammY session storage: dialogs survive restarts and work across processes. */
export const sessions = pgTable(
  'sessions',
  {
    key: text('key').primaryKey(),
    value: jsonb('value').notNull(),
    /** Raised by every write; a write based on an older read is refused (compare-and-set). */
    version: integer('version').notNull().default(0),
    /** Last change; the sweep deletes sessions unchanged for SESSION_TTL_DAYS. */
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('sessions_updated_at_idx').on(t.updatedAt)],
);

/**
 * Which bot instance is handling an update of a chat right now, and until when (renewed while it runs):
 * updates of one chat are handled one after another across processes without holding a connection.
 * A row exists only while an update is handled (or until its lease runs out, if the process died).
 */
export const sessionLeases = pgTable('session_leases', {
  key: text('key').primaryKey(),
  owner: text('owner').notNull(),
  until: timestamp('until', { withTimezone: true }).notNull(),
});
