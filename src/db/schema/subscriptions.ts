import { sql } from 'drizzle-orm';
import { boolean, doublePrecision, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import type { PostKind } from './posts';
import { users } from './users';

/**
 * "Tell me about new posts of this kind in this category and district ('*' = whole city)."
 *
 * A need subscription also carries its helper's fairness statistics (the same on every need subscription
 * of the helper), so that a wave reads its helpers in rank order from subscriptions_rank_idx and stops
 * after a wave instead of ranking every candidate (src/domain/waves.ts). Triggers on `notifications`
 * keep them (migration 0015); they hold "as of" a moment no later than now, and stay right until
 * `stats_change_at`, when the oldest notification in a window leaves it: the wave recomputes such rows
 * with the application's clock before it ranks (refreshStaleStats). Offer subscriptions keep the defaults.
 */
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
    /** The helper's notifications in the last 7 days (HELPER_WEEKLY_CAP counts these). */
    load: integer('load').notNull().default(0),
    /** The helper's notifications in the last 30 days. */
    told: integer('told').notNull().default(0),
    /** Of those, the ones they offered help on. */
    offered: integer('offered').notNull().default(0),
    /** The response record, smoothed: (offered + 1) / (told + 2), so that a newcomer starts at ½. */
    record: doublePrecision('record').generatedAlwaysAs(sql`(("offered" + 1)::float8 / ("told" + 2))`),
    /** The helper's last notification within 30 days; null when none. */
    lastAt: timestamp('last_at', { withTimezone: true }),
    /** The last tie-breaker of the ranking: drawn at random, and again when the helper was told (at the catch-up after it). */
    shuffle: doublePrecision('shuffle').notNull().default(sql`random()`),
    /** When the counts above next change as time passes (a notification leaves the 7- or 30-day window); null: never. */
    statsChangeAt: timestamp('stats_change_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.kind, t.category, t.district] }),
    // A wave's ranking (rules 3–6 of tellNext), one district at a time: an index scan in rank order. It also
    // finds the subscribers of a (kind, category, district), as subscriptions_match_idx on (kind, category,
    // district, user_id) did before it: one index fewer to write when a helper's statistics change.
    index('subscriptions_rank_idx').on(t.kind, t.category, t.district, t.load, t.record.desc(), t.lastAt.asc().nullsFirst(), t.shuffle, t.userId),
    // The same over every district of a category, for whole-city needs (duplicates removed in the query).
    index('subscriptions_city_rank_idx').on(t.kind, t.category, t.load, t.record.desc(), t.lastAt.asc().nullsFirst(), t.shuffle, t.userId),
    // The rows whose windows have moved on: an index range scan finds the few a wave must recompute.
    index('subscriptions_stats_change_idx').on(t.statsChangeAt).where(sql`${t.statsChangeAt} is not null`),
  ],
);

/**
 * The helpers whose statistics on their need subscriptions are out of date: their notifications changed
 * since (a wave told them, they answered, a record was erased). Written by statement triggers on
 * `notifications` — a wave adds its helpers here instead of rewriting their five subscriptions — and
 * emptied by catchUpHelperStats. `redraw`: they were told, so their tie-breaker is drawn again. Without
 * foreign keys, like `notifications`: it is on the hot path of routing.
 */
export const helperStatsPending = pgTable('helper_stats_pending', {
  userId: integer('user_id').primaryKey(),
  redraw: boolean('redraw').notNull().default(false),
});
