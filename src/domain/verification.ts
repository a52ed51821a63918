import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import type { Clock } from '../clock';
import { type Database, type Executor, queryRows } from '../db';
import {
  contacts,
  organisationInvites,
  organisationMembers,
  type OrganisationRow,
  organisations,
  PRIORITY,
  type PostRow,
  users,
  type UserRow,
  type VerificationRow,
  verifications,
} from '../db/schema';
import { audit } from './audit';
import { DomainError } from './errors';
import { enqueue, OUTBOX_KINDS } from './outbox';
import { type Actor, authorize } from './permissions';
import { checkOrganisation } from './staff';

/**
 * Which categories are protected (city file): only verified helpers are told of their needs or may offer
 * help on them. Optional wherever a routing context is built, so that code which builds its own (a
 * benchmark) keeps working; the bot and the background jobs always pass the city's.
 */
export interface Protection {
  isProtected?: (category: string) => boolean;
}

/**
 * Whether the users row `u` is a verified helper, as SQL: verified one by one by a coordinator, a member
 * of an organisation whose verification stands, or staff or a coordinator (a coordinator invited or
 * appointed them). The one copy of the rule: waves, widening, the desk's "to everyone", the matcher,
 * "I can help", browsing and the delivery of a queued notification all ask it.
 */
export function verifiedHelperSql(u: SQL = sql.raw('u')): SQL {
  return sql`(${u}.role in ('staff', 'coordinator')
    or exists (select 1 from ${verifications} v where v.user_id = ${u}.id and v.status = 'verified')
    or exists (select 1 from ${organisationMembers} m join ${organisations} o on o.id = m.organisation_id
      where m.user_id = ${u}.id and o.withdrawn_at is null))`;
}

/** Whether a need of this kind and category may reach only verified helpers. */
export function isProtectedNeed(ctx: Protection, post: Pick<PostRow, 'kind' | 'category'>): boolean {
  return post.kind === 'need' && (ctx.isProtected?.(post.category) ?? false);
}

/** `and <u is verified>` for a protected need, nothing otherwise: appended to a recipient query's conditions on `u`. */
export function protectedNeedSql(ctx: Protection, post: Pick<PostRow, 'kind' | 'category'>): SQL {
  return verifiedOnlySql(isProtectedNeed(ctx, post));
}

/** `and <u is verified>` when only verified helpers may be told, nothing otherwise (protectedNeedSql, the wave's shape). */
export function verifiedOnlySql(verifiedOnly: boolean): SQL {
  return verifiedOnly ? sql` and ${verifiedHelperSql()}` : sql``;
}

/** Whether a user is a verified helper now (verifiedHelperSql for one row). */
export async function isVerifiedHelper(db: Executor, userId: number): Promise<boolean> {
  const [row] = await queryRows<{ ok: boolean }>(db, sql`select exists (select 1 from ${users} u where u.id = ${userId} and ${verifiedHelperSql()}) as ok`);
  return row?.ok ?? false;
}

/** Refuses an offer of help on a protected need by someone who is not verified (with how to get verified). */
export async function assertMayHelpWith(db: Executor, ctx: Protection, helperId: number, post: Pick<PostRow, 'kind' | 'category'>): Promise<void> {
  if (isProtectedNeed(ctx, post) && !(await isVerifiedHelper(db, helperId))) throw new DomainError('verification.errors.required');
}

/** How a person stands: verified and through what, and their own request. */
export interface VerificationState {
  verified: boolean;
  /** Staff and coordinators are verified by their role. */
  byRole: boolean;
  /** Verified one by one by a coordinator. */
  individually: boolean;
  /** Verified organisations they are a member of. */
  organisations: string[];
  /** Their own request (requested, declined, withdrawn …), if they ever asked or were verified. */
  request: VerificationRow | null;
}

/** Where a user stands with verification (for /settings, /browse and the refusal of "I can help"). */
export async function verificationState(db: Executor, user: Pick<UserRow, 'id' | 'role'>): Promise<VerificationState> {
  const [request] = await db.select().from(verifications).where(eq(verifications.userId, user.id));
  const orgs = await db
    .select({ name: organisations.name })
    .from(organisationMembers)
    .innerJoin(organisations, eq(organisations.id, organisationMembers.organisationId))
    .where(and(eq(organisationMembers.userId, user.id), isNull(organisations.withdrawnAt)))
    .orderBy(asc(organisations.name));
  const byRole = user.role === 'staff' || user.role === 'coordinator';
  const individually = request?.status === 'verified';
  return { verified: byRole || individually || orgs.length > 0, byRole, individually, organisations: orgs.map((o) => o.name), request: request ?? null };
}

/** The coordinators who are told of requests and urgent reports (reachable ones). */
async function coordinators(db: Executor): Promise<UserRow[]> {
  return db
    .select()
    .from(users)
    .where(and(eq(users.role, 'coordinator'), isNull(users.deletedAt), isNull(users.blockedAt)));
}

/** What asking for verification did. */
export type RequestOutcome = 'requested' | 'pending';

/**
 * A helper asks to be verified: every coordinator gets the request at once, with Verify and Decline
 * buttons. Asking again while a request is open changes nothing ("pending"); someone verified already is
 * told so. Audit-logged.
 */
export async function requestVerification(db: Database, clock: Clock, actor: Actor): Promise<RequestOutcome> {
  authorize(actor, 'verification.request');
  return db.transaction(async (tx) => {
    const [user] = await tx.select().from(users).where(eq(users.id, actor.userId));
    if (!user) throw new DomainError('errors.forbidden');
    const state = await verificationState(tx, user);
    if (state.verified) throw new DomainError('verification.errors.already');
    if (state.request?.status === 'requested') return 'pending';
    const now = clock.now();
    await tx
      .insert(verifications)
      .values({ userId: user.id, status: 'requested', requestedAt: now })
      .onConflictDoUpdate({ target: verifications.userId, set: { status: 'requested', requestedAt: now, decidedAt: null, decidedBy: null } });
    await enqueue(
      tx,
      clock,
      (await coordinators(tx)).map((c) => ({ userId: c.id, chatId: c.telegramId, kind: OUTBOX_KINDS.verificationRequest, priority: PRIORITY.interactive, payload: { userId: user.id } })),
    );
    await audit(tx, clock, { actorId: user.id, action: 'verification.requested', targetUserId: user.id });
    return 'requested';
  });
}

/** A coordinator's decision on an open request. */
export type VerificationDecision = 'verify' | 'decline';

/**
 * A coordinator verifies or declines a helper who asked; the helper is told in their language. Only an
 * open request can be decided (another coordinator may have been faster: "already decided"). Audit-logged.
 */
export async function decideVerification(db: Database, clock: Clock, actor: Actor, userId: number, decision: VerificationDecision): Promise<UserRow> {
  authorize(actor, 'verification.review');
  return db.transaction(async (tx) => {
    const [request] = await tx.select().from(verifications).where(eq(verifications.userId, userId)).for('update');
    if (!request) throw new DomainError('verification.errors.noRequest');
    if (request.status !== 'requested') throw new DomainError(`verification.errors.decided.${request.status}`);
    const [helper] = await tx.select().from(users).where(eq(users.id, userId));
    if (!helper || helper.deletedAt) throw new DomainError('verification.errors.noRequest');
    const now = clock.now();
    await tx
      .update(verifications)
      .set({ status: decision === 'verify' ? 'verified' : 'declined', decidedAt: now, decidedBy: actor.userId })
      .where(eq(verifications.userId, userId));
    await enqueue(tx, clock, [
      { userId: helper.id, chatId: helper.telegramId, kind: decision === 'verify' ? OUTBOX_KINDS.verificationGranted : OUTBOX_KINDS.verificationDeclined, priority: PRIORITY.interactive },
    ]);
    await audit(tx, clock, { actorId: actor.userId, action: decision === 'verify' ? 'verification.granted' : 'verification.declined', targetUserId: userId });
    return helper;
  });
}

/**
 * A coordinator withdraws a helper's own verification; the helper is told (and whether an organisation
 * still verifies them). Audit-logged.
 */
export async function withdrawVerification(db: Database, clock: Clock, actor: Actor, userId: number): Promise<UserRow> {
  authorize(actor, 'verification.review');
  return db.transaction(async (tx) => {
    const [withdrawn] = await tx
      .update(verifications)
      .set({ status: 'withdrawn', decidedAt: clock.now(), decidedBy: actor.userId })
      .where(and(eq(verifications.userId, userId), eq(verifications.status, 'verified')))
      .returning();
    if (!withdrawn) throw new DomainError('verification.errors.notVerified');
    const [helper] = await tx.select().from(users).where(eq(users.id, userId));
    const stillVerified = await isVerifiedHelper(tx, userId);
    if (helper && !helper.deletedAt) {
      await enqueue(tx, clock, [
        { userId: helper.id, chatId: helper.telegramId, kind: OUTBOX_KINDS.verificationWithdrawn, priority: PRIORITY.interactive, payload: { stillVerified } },
      ]);
    }
    await audit(tx, clock, { actorId: actor.userId, action: 'verification.withdrawn', targetUserId: userId, details: { stillVerified } });
    return helper!;
  });
}

function hashCode(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

/**
 * An organisation invite link: whoever opens it before it expires joins the organisation as a verified
 * helper. The organisation is verified by creating the link (an organisation of the same name whose
 * verification stands is reused). Only the code's hash is stored. Audit-logged.
 */
export async function createOrganisationInvite(
  db: Database,
  clock: Clock,
  actor: Actor,
  name: string,
  ttlMs: number,
): Promise<{ code: string; expiresAt: Date; organisation: OrganisationRow }> {
  authorize(actor, 'verification.invite');
  const checked = checkOrganisation(name);
  if (!checked) throw new DomainError('staff.invite.badOrganisation');
  const code = randomBytes(18).toString('base64url');
  const now = clock.now();
  const expiresAt = new Date(now.getTime() + ttlMs);
  return db.transaction(async (tx) => {
    // organisations_name_idx: one verified organisation per name, whatever the case.
    await tx.execute(sql`insert into ${organisations} (name, created_by, created_at) values (${checked}, ${actor.userId}, ${now})
      on conflict (lower(name)) where withdrawn_at is null do nothing`);
    const [organisation] = await tx
      .select()
      .from(organisations)
      .where(and(sql`lower(${organisations.name}) = lower(${checked})`, isNull(organisations.withdrawnAt)));
    const [invite] = await tx
      .insert(organisationInvites)
      .values({ codeHash: hashCode(code), organisationId: organisation!.id, createdBy: actor.userId, createdAt: now, expiresAt })
      .returning();
    await audit(tx, clock, {
      actorId: actor.userId,
      action: 'organisation.invite.created',
      details: { organisationId: organisation!.id, organisation: organisation!.name, inviteId: invite!.id, expiresAt: expiresAt.toISOString() },
    });
    return { code, expiresAt, organisation: organisation! };
  });
}

/** What opening an organisation link did. */
export interface JoinOutcome {
  organisation: string;
  /** True when the person was a member already (nothing changed). */
  already: boolean;
}

/**
 * Joins the organisation of an invite link as a verified member. Unknown (forged) and expired links and
 * links of an organisation whose verification was withdrawn are refused; staff and coordinators need no
 * link. Audit-logged.
 */
export async function joinOrganisation(db: Database, clock: Clock, actor: Actor, code: string): Promise<JoinOutcome> {
  return db.transaction(async (tx) => {
    const [invite] = await tx.select().from(organisationInvites).where(eq(organisationInvites.codeHash, hashCode(code))).for('update');
    if (!invite) throw new DomainError('verification.join.unknown');
    const [organisation] = await tx.select().from(organisations).where(eq(organisations.id, invite.organisationId));
    if (!organisation || organisation.withdrawnAt) throw new DomainError('verification.join.withdrawn');
    if (invite.expiresAt <= clock.now()) throw new DomainError('verification.join.expired');
    authorize(actor, 'verification.join');
    const [joined] = await tx
      .insert(organisationMembers)
      .values({ organisationId: organisation.id, userId: actor.userId, joinedAt: clock.now(), inviteId: invite.id })
      .onConflictDoNothing()
      .returning();
    if (!joined) return { organisation: organisation.name, already: true };
    await tx
      .update(organisationInvites)
      .set({ uses: sql`${organisationInvites.uses} + 1` })
      .where(eq(organisationInvites.id, invite.id));
    await audit(tx, clock, {
      actorId: actor.userId,
      action: 'organisation.joined',
      targetUserId: actor.userId,
      details: { organisationId: organisation.id, organisation: organisation.name, inviteId: invite.id },
    });
    return { organisation: organisation.name, already: false };
  });
}

/**
 * A coordinator withdraws an organisation's verification: its links stop working, and its members lose
 * their verification unless they are verified one by one (or through another organisation, or by their
 * role). Those who lose it are told in their language. Audit-logged, for the organisation and for each
 * member who lost it.
 */
export async function withdrawOrganisation(db: Database, clock: Clock, actor: Actor, organisationId: number): Promise<{ organisation: OrganisationRow; lost: number }> {
  authorize(actor, 'verification.review');
  return db.transaction(async (tx) => {
    const now = clock.now();
    const [organisation] = await tx
      .update(organisations)
      .set({ withdrawnAt: now, withdrawnBy: actor.userId })
      .where(and(eq(organisations.id, organisationId), isNull(organisations.withdrawnAt)))
      .returning();
    if (!organisation) throw new DomainError('verification.errors.orgWithdrawn');
    const lost = await queryRows<{ id: number; telegram_id: number }>(
      tx,
      sql`select u.id, u.telegram_id from ${users} u
        where u.id in (select m.user_id from ${organisationMembers} m where m.organisation_id = ${organisationId})
          and u.deleted_at is null
          and not ${verifiedHelperSql()}
        order by u.id`,
    );
    await enqueue(
      tx,
      clock,
      lost.map((u) => ({
        userId: u.id,
        chatId: Number(u.telegram_id),
        kind: OUTBOX_KINDS.verificationOrganisationWithdrawn,
        priority: PRIORITY.interactive,
        payload: { organisationId },
      })),
    );
    await audit(tx, clock, { actorId: actor.userId, action: 'organisation.withdrawn', details: { organisationId, organisation: organisation.name, lost: lost.length } });
    for (const u of lost) {
      await audit(tx, clock, { actorId: actor.userId, action: 'verification.withdrawn', targetUserId: u.id, details: { organisationId } });
    }
    return { organisation, lost: lost.length };
  });
}

/** One verified organisation on the /verified list. */
export interface OrganisationEntry {
  organisation: OrganisationRow;
  members: number;
  /** Its verified members (people who joined through its links), by name. */
  people: UserRow[];
  /** The latest expiry of its links (null: it has none left that work). */
  linkUntil: Date | null;
}

/** What /verified shows: open requests, helpers verified one by one, verified organisations. */
export interface VerifiedList {
  /** With when they asked. */
  requested: { user: UserRow; at: Date | null }[];
  /** With when they were verified. */
  individuals: { user: UserRow; at: Date | null }[];
  organisations: OrganisationEntry[];
}

/** The /verified list, for coordinators. */
export async function listVerified(db: Executor, clock: Clock, actor: Actor): Promise<VerifiedList> {
  authorize(actor, 'verification.review');
  const people = async (status: 'requested' | 'verified') =>
    (
      await db
        .select({ user: users, at: status === 'requested' ? verifications.requestedAt : verifications.decidedAt })
        .from(verifications)
        .innerJoin(users, eq(users.id, verifications.userId))
        .where(and(eq(verifications.status, status), isNull(users.deletedAt)))
        .orderBy(asc(status === 'requested' ? verifications.requestedAt : verifications.decidedAt), asc(users.id))
    );
  const orgs = await db.select().from(organisations).where(isNull(organisations.withdrawnAt)).orderBy(asc(organisations.name));
  const ids = orgs.map((o) => o.id);
  const members =
    ids.length === 0
      ? []
      : await db
          .select({ organisationId: organisationMembers.organisationId, user: users })
          .from(organisationMembers)
          .innerJoin(users, eq(users.id, organisationMembers.userId))
          .where(and(inArray(organisationMembers.organisationId, ids), isNull(users.deletedAt)))
          .orderBy(asc(users.firstName), asc(users.id));
  const links =
    ids.length === 0
      ? []
      : await db
          .select({ organisationId: organisationInvites.organisationId, until: sql<Date | string>`max(${organisationInvites.expiresAt})` })
          .from(organisationInvites)
          .where(and(inArray(organisationInvites.organisationId, ids), sql`${organisationInvites.expiresAt} > ${clock.now()}`))
          .groupBy(organisationInvites.organisationId);
  return {
    requested: await people('requested'),
    individuals: await people('verified'),
    organisations: orgs.map((organisation) => {
      const until = links.find((l) => l.organisationId === organisation.id)?.until;
      const people = members.filter((m) => m.organisationId === organisation.id).map((m) => m.user);
      return { organisation, members: people.length, people, linkUntil: until ? new Date(until) : null };
    }),
  };
}

/**
 * A helper who asked to be verified, for the coordinators' request message: their profile and how many
 * offers of help they made so far. Null once the request is decided or the person is gone.
 */
export async function findOpenRequest(db: Executor, userId: number): Promise<{ user: UserRow; offers: number } | null> {
  const [row] = await db
    .select({ user: users })
    .from(verifications)
    .innerJoin(users, eq(users.id, verifications.userId))
    .where(and(eq(verifications.userId, userId), eq(verifications.status, 'requested'), isNull(users.deletedAt)));
  if (!row) return null;
  const [offers] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from ${contacts} where responder_id = ${userId}`);
  return { user: row.user, offers: offers?.n ?? 0 };
}

/** An organisation by id (for messages about it). */
export async function findOrganisation(db: Executor, organisationId: number): Promise<OrganisationRow | undefined> {
  const [row] = await db.select().from(organisations).where(eq(organisations.id, organisationId));
  return row;
}
