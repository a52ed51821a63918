import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './users';

export const NOTICE_AUDIENCES = ['everyone', 'seekers', 'helpers'] as const;
export type NoticeAudience = (typeof NOTICE_AUDIENCES)[number];
export const NOTICE_STATUSES = ['sending', 'done', 'cancelled'] as const;
export type NoticeStatus = (typeof NOTICE_STATUSES)[number];

/** An authority notice: texts per language, a target audience, and its delivery bookkeeping. */
export const notices = pgTable(
  'notices',
  {
    id: serial('id').primaryKey(),
    authorId: integer('author_id')
      .notNull()
      .references(() => users.id),
    organisation: text('organisation').notNull(),
    audience: text('audience').$type<NoticeAudience>().notNull(),
    /** District keys; empty means the whole city. */
    districts: text('districts').array().notNull(),
    /** Locales; empty means all. */
    languages: text('languages').array().notNull(),
    texts: jsonb('texts').$type<Partial<Record<string, string>>>().notNull(),
    mediaType: text('media_type').$type<'photo' | 'document'>(),
    mediaFileId: text('media_file_id'),
    status: text('status').$type<NoticeStatus>().notNull(),
    recipientCount: integer('recipient_count').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
    progressChatId: bigint('progress_chat_id', { mode: 'number' }),
    progressMessageId: integer('progress_message_id'),
    progressUpdatedAt: timestamp('progress_updated_at', { withTimezone: true }),
  },
  (t) => [index('notices_recent_idx').on(t.createdAt), index('notices_sending_idx').on(t.id).where(sql`${t.status} = 'sending'`)],
);

export type NoticeRow = typeof notices.$inferSelect;

/** Single-use staff invites. Only a hash of the code is stored. */
export const invites = pgTable('invites', {
  id: serial('id').primaryKey(),
  codeHash: text('code_hash').notNull().unique(),
  organisation: text('organisation').notNull(),
  createdBy: integer('created_by')
    .notNull()
    .references(() => users.id),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  usedBy: integer('used_by').references(() => users.id),
  usedAt: timestamp('used_at', { withTimezone: true }),
});
