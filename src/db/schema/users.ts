import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, pgTable, serial, smallint, text, timestamp } from 'drizzle-orm/pg-core';

/** Roles in ascending order of trust; staff and coordinators are granted, never chosen. */
export const ROLES = ['seeker', 'helper', 'staff', 'coordinator'] as const;
export type Role = (typeof ROLES)[number];

/** Everyone who ever wrote to the bot. Personal fields are nulled by /deleteme. */
export const users = pgTable(
  'users',
  {
    id: serial('id').primaryKey(),
    telegramId: bigint('telegram_id', { mode: 'number' }).notNull().unique(),
    firstName: text('first_name'),
    username: text('username'),
    locale: text('locale').notNull(),
    /** null until the user has chosen during /start. */
    role: text('role').$type<Role>(),
    organisation: text('organisation'),
    /** Staff marked as Lotse by a coordinator work the desk (/desk) like coordinators. */
    lotse: boolean('lotse').notNull().default(false),
    /** A district key or '*' (whole city); null until chosen. */
    district: text('district'),
    onboardedAt: timestamp('onboarded_at', { withTimezone: true }),
    notificationsPaused: boolean('notifications_paused').notNull().default(false),
    /** "Pause for a week" under a need: no notifications until then (the toggle above is open-ended). */
    pausedUntil: timestamp('paused_until', { withTimezone: true }),
    /** Per-user overrides; null means the configured default. */
    dailyCap: smallint('daily_cap'),
    quietStart: smallint('quiet_start'),
    quietEnd: smallint('quiet_end'),
    /** Local day (YYYY-MM-DD) and number of post notifications delivered on it (the daily cap). */
    notifiedDay: text('notified_day'),
    notifiedCount: integer('notified_count').notNull().default(0),
    /** Set when Telegram answers 403/"chat not found": the user blocked the bot. */
    blockedAt: timestamp('blocked_at', { withTimezone: true }),
    bannedAt: timestamp('banned_at', { withTimezone: true }),
    banReason: text('ban_reason'),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('users_role_idx').on(t.role),
    index('users_reachable_idx')
      .on(t.role, t.district, t.locale)
      .where(sql`${t.blockedAt} is null and ${t.bannedAt} is null and ${t.deletedAt} is null`),
  ],
);

export type UserRow = typeof users.$inferSelect;
