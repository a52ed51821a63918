import { sql } from 'drizzle-orm';
import { index, integer, pgTable, serial, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './users';

export const POST_KINDS = ['need', 'offer'] as const;
export type PostKind = (typeof POST_KINDS)[number];

export const POST_STATUSES = ['pending_review', 'open', 'in_contact', 'fulfilled', 'closed', 'expired', 'removed'] as const;
export type PostStatus = (typeof POST_STATUSES)[number];

/** Statuses in which a post is visible, matchable and counts against the open-post limit. */
export const ACTIVE_POST_STATUSES: PostStatus[] = ['open', 'in_contact'];

/** A need (Suche) or an offer (Biete). */
export const posts = pgTable(
  'posts',
  {
    id: serial('id').primaryKey(),
    authorId: integer('author_id')
      .notNull()
      .references(() => users.id),
    kind: text('kind').$type<PostKind>().notNull(),
    category: text('category').notNull(),
    /** A district key or '*' (whole city). */
    district: text('district').notNull(),
    /** Null once erased (retention, /deleteme). */
    text: text('text'),
    photoFileId: text('photo_file_id'),
    /** The language the author wrote in (their locale at the time). */
    language: text('language').notNull(),
    status: text('status').$type<PostStatus>().notNull(),
    /** Normalised hash of the text, for refusing the same text twice within a day. */
    textHash: text('text_hash'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    remindedAt: timestamp('reminded_at', { withTimezone: true }),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    firstResponseAt: timestamp('first_response_at', { withTimezone: true }),
    erasedAt: timestamp('erased_at', { withTimezone: true }),
    // The routing state of a need (src/domain/waves.ts); offers never use these.
    /** Waves that told somebody so far (the first goes out on publishing). */
    wave: smallint('wave').notNull().default(0),
    /** When the last wave was tried. */
    waveAt: timestamp('wave_at', { withTimezone: true }),
    /** When the next wave is due; null while none is planned (an offer of help came, nobody is left, not a need). */
    nextWaveAt: timestamp('next_wave_at', { withTimezone: true }),
    /** When the search first reached helpers of the neighbouring districts. */
    widenedAt: timestamp('widened_at', { withTimezone: true }),
    /** When no eligible helper was left: the need is for the coordinators' desk from then on. */
    deskAt: timestamp('desk_at', { withTimezone: true }),
    // The Lotsen desk (src/domain/desk.ts).
    /** When coordinators and Lotsen were last told about this desk item (new, or still unclaimed a day later). */
    deskAnnouncedAt: timestamp('desk_announced_at', { withTimezone: true }),
    /** The coordinator or Lotse who took the desk item. */
    deskOwnerId: integer('desk_owner_id').references(() => users.id),
    /** When the desk sent the need once more to every subscriber of its category in the city. */
    deskBroadcastAt: timestamp('desk_broadcast_at', { withTimezone: true }),
    /** When the desk sent the seeker the responsible office's information. */
    referredAt: timestamp('referred_at', { withTimezone: true }),
    /** Why a coordinator or Lotse closed the need (DESK_CLOSE_REASONS); null otherwise. */
    closeReason: text('close_reason'),
    // A need a Lotse took on behalf of a person without Telegram (/intake, src/domain/intake.ts).
    /**
     * The person's first name or initials. Shown only to the Lotse who wrote the post (/my, offers of help,
     * the relay header); erased with the post's text (/deleteme, retention).
     */
    intakeName: text('intake_name'),
    /** The person's language (a locale): the fallback of the post's language. Set on every intake post until erased. */
    intakeLanguage: text('intake_language'),
    /**
     * The Lotse's organisation when the post was written ("posted by a Lotse of …" on every card); null for
     * "a Lotse of the city". Kept as written so that cards render from the post alone.
     */
    intakeOrganisation: text('intake_organisation'),
  },
  (t) => [
    index('posts_browse_idx')
      .on(t.kind, t.category, t.district, t.publishedAt)
      .where(sql`${t.status} in ('open', 'in_contact')`),
    index('posts_author_idx').on(t.authorId, t.createdAt),
    index('posts_expiry_idx')
      .on(t.expiresAt)
      .where(sql`${t.status} in ('open', 'in_contact')`),
    // What the wave job scans: only needs with a wave planned (a handful at any time).
    // What the desk sweeps scan: only needs on the desk.
    index('posts_desk_idx')
      .on(t.deskAt)
      .where(sql`${t.deskAt} is not null and ${t.status} in ('open', 'in_contact')`),
    index('posts_next_wave_idx')
      .on(t.nextWaveAt)
      .where(sql`${t.nextWaveAt} is not null and ${t.status} in ('open', 'in_contact')`),
  ],
);

export type PostRow = typeof posts.$inferSelect;
