import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, primaryKey, serial, smallint, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { contacts, relayMessages } from './contacts';
import { posts } from './posts';
import { users } from './users';

/**
 * A machine translation of a post's text or a relayed message into one language, made once and reused by
 * every reader (notifications, /browse, the contact request). Erased with the original text.
 */
export const translations = pgTable(
  'translations',
  {
    id: serial('id').primaryKey(),
    postId: integer('post_id').references(() => posts.id),
    relayMessageId: integer('relay_message_id').references(() => relayMessages.id),
    /** The detected language of the original. */
    source: text('source').notNull(),
    target: text('target').notNull(),
    /** The original's hash (posts.text_hash for posts): an edited post's old translation is not shown. */
    sourceHash: text('source_hash').notNull(),
    text: text('text').notNull(),
    /** Which engine made it (libretranslate@host). */
    engine: text('engine').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex('translations_post_idx')
      .on(t.postId, t.target)
      .where(sql`${t.postId} is not null`),
    uniqueIndex('translations_relay_idx')
      .on(t.relayMessageId, t.target)
      .where(sql`${t.relayMessageId} is not null`),
    check('translations_one_subject', sql`(${t.postId} is null) <> (${t.relayMessageId} is null)`),
  ],
);

export type TranslationRow = typeof translations.$inferSelect;

export const TRANSLATION_JOB_STATUSES = ['pending', 'done', 'failed'] as const;
export type TranslationJobStatus = (typeof TRANSLATION_JOB_STATUSES)[number];

/**
 * The durable job that translates a text right after it is published or relayed, before the
 * notifications go out: written in the same transaction as the post or message, claimed by any process
 * (`FOR UPDATE SKIP LOCKED` under a lease), retried with backoff while the engine is away.
 */
export const translationJobs = pgTable(
  'translation_jobs',
  {
    id: serial('id').primaryKey(),
    postId: integer('post_id').references(() => posts.id),
    relayMessageId: integer('relay_message_id').references(() => relayMessages.id),
    /** The languages to translate into. */
    targets: text('targets').array().notNull(),
    status: text('status').$type<TranslationJobStatus>().notNull().default('pending'),
    attempts: smallint('attempts').notNull().default(0),
    notBefore: timestamp('not_before', { withTimezone: true }).notNull(),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    /** Why the last attempt failed (never the text). */
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('translation_jobs_post_idx')
      .on(t.postId)
      .where(sql`${t.postId} is not null`),
    uniqueIndex('translation_jobs_relay_idx')
      .on(t.relayMessageId)
      .where(sql`${t.relayMessageId} is not null`),
    index('translation_jobs_due_idx')
      .on(t.notBefore)
      .where(sql`${t.status} = 'pending'`),
    check('translation_jobs_one_subject', sql`(${t.postId} is null) <> (${t.relayMessageId} is null)`),
  ],
);

export type TranslationJobRow = typeof translationJobs.$inferSelect;

/** A participant who switched off translation of the partner's messages in one conversation. */
export const translationOptOuts = pgTable(
  'translation_opt_outs',
  {
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    contactId: integer('contact_id')
      .notNull()
      .references(() => contacts.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.contactId] })],
);
