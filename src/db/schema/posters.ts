import { integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

/**
 * How many people started Hilfenetz through a poster, per district (key, or `*` for the whole city) and
 * the poster's language. Counts only: nothing here says who started, so it holds no personal data.
 */
export const posterStarts = pgTable(
  'poster_starts',
  {
    district: text('district').notNull(),
    locale: text('locale').notNull(),
    started: integer('started').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.district, t.locale] })],
);

export type PosterStartRow = typeof posterStarts.$inferSelect;
