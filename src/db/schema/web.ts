import { index, integer, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './users';

/**
 * One-time login links of the web desk (`/dashboard` in the bot). Only a SHA-256 hash of the token is
 * stored: a copy of the database opens no session. A link is used once (`used_at`), within WEB_LOGIN_TTL.
 */
export const webLogins = pgTable(
  'web_logins',
  {
    id: serial('id').primaryKey(),
    tokenHash: text('token_hash').notNull().unique(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
  },
  (t) => [index('web_logins_user_idx').on(t.userId)],
);

/**
 * Logged-in browsers. The cookie holds a random token; the row its hash, the CSRF token of its forms and
 * the language the person picked on the web. Every request reads the user's role and ban afresh, so a
 * revoked or banned person's session ends at once.
 */
export const webSessions = pgTable(
  'web_sessions',
  {
    id: serial('id').primaryKey(),
    tokenHash: text('token_hash').notNull().unique(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    csrfToken: text('csrf_token').notNull(),
    /** The language picked with the switcher; null: the person's language in the bot. */
    locale: text('locale'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
  },
  (t) => [index('web_sessions_user_idx').on(t.userId)],
);

export type WebSessionRow = typeof webSessions.$inferSelect;
