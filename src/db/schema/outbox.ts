import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * Lower is more urgent: a relay message never waits behind a broadcast. `channel` rows (mirrors in the city's
 * channels and groups, user_id 0) are claimed only after everything else and paced per channel.
 */
export const PRIORITY = { interactive: 0, notification: 1, broadcast: 2, channel: 3 } as const;

export const OUTBOX_STATUSES = ['pending', 'sending', 'sent', 'unreachable', 'failed', 'cancelled', 'deferred', 'digested'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/**
 * Every message to someone other than the acting user. Written in the same transaction as the change
 * that causes it; rendered in the recipient's language when it is sent.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: integer('user_id').notNull(),
    chatId: bigint('chat_id', { mode: 'number' }).notNull(),
    priority: smallint('priority').notNull(),
    kind: text('kind').notNull(),
    payload: jsonb('payload').notNull().default({}),
    postId: integer('post_id'),
    noticeId: integer('notice_id'),
    status: text('status').$type<OutboxStatus>().notNull().default('pending'),
    attempts: smallint('attempts').notNull().default(0),
    notBefore: timestamp('not_before', { withTimezone: true }).notNull(),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    /** The delivery process holding the lease (renewed while it lives). */
    leaseOwner: text('lease_owner'),
    /** Set when a row is reclaimed after its lease ran out: it may have reached the user already. */
    possibleDuplicate: boolean('possible_duplicate').notNull().default(false),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    messageId: integer('message_id'),
    error: text('error'),
    /** For messages that must exist at most once (a daily digest, a moderation summary). */
    dedupeKey: text('dedupe_key'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('outbox_due_idx')
      .on(t.priority, t.notBefore, t.id)
      .where(sql`${t.status} = 'pending'`),
    index('outbox_lease_idx')
      .on(t.leaseUntil)
      .where(sql`${t.status} = 'sending'`),
    index('outbox_notice_idx')
      .on(t.noticeId, t.status)
      .where(sql`${t.noticeId} is not null`),
    index('outbox_deferred_idx')
      .on(t.userId)
      .where(sql`${t.status} = 'deferred'`),
    uniqueIndex('outbox_dedupe_idx')
      .on(t.dedupeKey)
      .where(sql`${t.dedupeKey} is not null`),
    // Only finished rows are in it (the retention sweep deletes them by age); routing never writes it.
    index('outbox_finished_idx')
      .on(t.createdAt)
      .where(sql`${t.status} in ('sent', 'cancelled', 'unreachable', 'failed', 'digested')`),
  ],
);

export type OutboxRow = typeof outbox.$inferSelect;

/** Live delivery processes; the global rate is divided among them. */
export const deliveryWorkers = pgTable('delivery_workers', {
  id: text('id').primaryKey(),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
  heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }).notNull(),
});

/** One row shared by all processes: a 429 from Telegram pauses every sender. */
export const deliveryState = pgTable('delivery_state', {
  id: smallint('id').primaryKey(),
  pausedUntil: timestamp('paused_until', { withTimezone: true }),
  updatedAt: timestamp('updated_at', { withTimezone: true }),
});
