import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, primaryKey, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { users } from './users';

export const REPORT_REASONS = ['spam', 'harassment', 'inappropriate', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];
/** `contact`: a seeker's "report a problem" about the helper of a conversation (follow-up, protected categories). */
export const REPORT_TARGETS = ['post', 'relay', 'notice', 'contact'] as const;
export type ReportTarget = (typeof REPORT_TARGETS)[number];

/** A user's report of a post, a relayed message or a notice; coordinators work the queue. */
export const reports = pgTable(
  'reports',
  {
    id: serial('id').primaryKey(),
    reporterId: integer('reporter_id')
      .notNull()
      .references(() => users.id),
    targetType: text('target_type').$type<ReportTarget>().notNull(),
    targetId: integer('target_id').notNull(),
    /** The reported person (author of the post/message/notice). */
    targetUserId: integer('target_user_id').references(() => users.id),
    reason: text('reason').$type<ReportReason>().notNull(),
    status: text('status').$type<'open' | 'dismissed' | 'actioned'>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    handledBy: integer('handled_by'),
    handledAt: timestamp('handled_at', { withTimezone: true }),
    action: text('action'),
    /** Set once coordinators have been told about it (they are told in batches). */
    announcedAt: timestamp('announced_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('reports_once_idx').on(t.reporterId, t.targetType, t.targetId),
    index('reports_open_idx')
      .on(t.createdAt)
      .where(sql`${t.status} = 'open'`),
  ],
);

/** A user blocked a relay partner: the pair is never matched or connected again. */
export const blocks = pgTable(
  'blocks',
  {
    blockerId: integer('blocker_id')
      .notNull()
      .references(() => users.id),
    blockedId: integer('blocked_id')
      .notNull()
      .references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.blockerId, t.blockedId] }), index('blocks_blocked_idx').on(t.blockedId)],
);

/** Who did what, when: grants, revokes, broadcasts, moderation actions. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: serial('id').primaryKey(),
    actorId: integer('actor_id'),
    action: text('action').notNull(),
    targetUserId: integer('target_user_id'),
    details: jsonb('details').notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('audit_log_created_idx').on(t.createdAt)],
);
