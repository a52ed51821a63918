import { sql } from 'drizzle-orm';
import { index, integer, pgTable, primaryKey, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { users } from './users';

/** Where a helper's own request for verification stands; only `verified` counts. */
export const VERIFICATION_STATUSES = ['requested', 'verified', 'declined', 'withdrawn'] as const;
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number];

/**
 * A helper verified one by one by a coordinator (or asking to be): one row per person, its status
 * changed by each decision. Whether someone counts as verified is decided by `verifiedHelperSql()`
 * (src/domain/verification.ts), which also counts members of verified organisations.
 */
export const verifications = pgTable(
  'verifications',
  {
    userId: integer('user_id')
      .primaryKey()
      .references(() => users.id),
    status: text('status').$type<VerificationStatus>().notNull(),
    requestedAt: timestamp('requested_at', { withTimezone: true }),
    /** When a coordinator verified, declined or withdrew; null while requested. */
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    decidedBy: integer('decided_by').references(() => users.id),
  },
  (t) => [index('verifications_status_idx').on(t.status)],
);

/**
 * An organisation a coordinator verified (Caritas, a parish, a sports club …): whoever joins it through
 * its invite link is a verified helper while the organisation's verification stands.
 */
export const organisations = pgTable(
  'organisations',
  {
    id: serial('id').primaryKey(),
    name: text('name').notNull(),
    createdBy: integer('created_by')
      .notNull()
      .references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    /** When a coordinator withdrew the verification: members stop counting as verified through it. */
    withdrawnAt: timestamp('withdrawn_at', { withTimezone: true }),
    withdrawnBy: integer('withdrawn_by').references(() => users.id),
  },
  // One verified organisation per name (a new link for the same name reuses it).
  (t) => [uniqueIndex('organisations_name_idx').on(sql`lower(${t.name})`).where(sql`${t.withdrawnAt} is null`)],
);

/** Who joined which organisation (through one of its invite links). */
export const organisationMembers = pgTable(
  'organisation_members',
  {
    organisationId: integer('organisation_id')
      .notNull()
      .references(() => organisations.id),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    joinedAt: timestamp('joined_at', { withTimezone: true }).notNull(),
    inviteId: integer('invite_id'),
  },
  (t) => [primaryKey({ columns: [t.organisationId, t.userId] }), index('organisation_members_user_idx').on(t.userId)],
);

/**
 * An organisation's invite link: used by any number of its helpers until it expires (ORG_INVITE_TTL)
 * or the organisation's verification is withdrawn. Only a hash of the code is stored.
 */
export const organisationInvites = pgTable('organisation_invites', {
  id: serial('id').primaryKey(),
  codeHash: text('code_hash').notNull().unique(),
  organisationId: integer('organisation_id')
    .notNull()
    .references(() => organisations.id),
  createdBy: integer('created_by')
    .notNull()
    .references(() => users.id),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  uses: integer('uses').notNull().default(0),
});

export type VerificationRow = typeof verifications.$inferSelect;
export type OrganisationRow = typeof organisations.$inferSelect;
