import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Clock } from '../clock';
import type { Database, Executor } from '../db';
import { invites, PRIORITY, users, type UserRow } from '../db/schema';
import { audit } from './audit';
import { DomainError } from './errors';
import { enqueue } from './outbox';
import { type Actor, authorize } from './permissions';

/** Organisation names as shown on every notice: 2–80 printable characters. */
export function checkOrganisation(raw: string): string | null {
  const name = raw.replace(/\s+/g, ' ').trim();
  if ([...name].length < 2 || [...name].length > 80) return null;
  if (/[\p{Cc}\p{Cf}<>]/u.test(name)) return null;
  return name;
}

function hashCode(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

/**
 * A single-use staff invite: returns the code for the deep link; only its hash is stored, so a database
 * leak does not hand out staff rights. Expires after `ttlHours`.
 */
export async function createInvite(db: Database, clock: Clock, coordinator: Actor, organisation: string, ttlHours: number): Promise<{ code: string; expiresAt: Date }> {
  authorize(coordinator, 'staff.invite');
  const name = checkOrganisation(organisation);
  if (!name) throw new DomainError('staff.invite.badOrganisation');
  const code = randomBytes(18).toString('base64url');
  const now = clock.now();
  const expiresAt = new Date(now.getTime() + ttlHours * 3_600_000);
  await db.transaction(async (tx) => {
    await tx.insert(invites).values({ codeHash: hashCode(code), organisation: name, createdBy: coordinator.userId, createdAt: now, expiresAt });
    await audit(tx, clock, { actorId: coordinator.userId, action: 'invite.created', details: { organisation: name, expiresAt: expiresAt.toISOString() } });
  });
  return { code, expiresAt };
}

/**
 * Redeems an invite: the user becomes staff of the invite's organisation. Used, expired and unknown
 * codes are refused; a coordinator keeps their role.
 */
export async function redeemInvite(db: Database, clock: Clock, user: Actor, code: string): Promise<UserRow> {
  return db.transaction(async (tx) => {
    const [invite] = await tx.select().from(invites).where(eq(invites.codeHash, hashCode(code))).for('update');
    if (!invite) throw new DomainError('staff.invite.unknown');
    if (invite.usedAt) throw new DomainError('staff.invite.used');
    if (invite.expiresAt <= clock.now()) throw new DomainError('staff.invite.expired');
    authorize(user, 'staff.join');
    await tx.update(invites).set({ usedBy: user.userId, usedAt: clock.now() }).where(eq(invites.id, invite.id));
    const [updated] = await tx.update(users).set({ role: 'staff', organisation: invite.organisation }).where(eq(users.id, user.userId)).returning();
    await audit(tx, clock, { actorId: invite.createdBy, action: 'staff.granted', targetUserId: user.userId, details: { organisation: invite.organisation, inviteId: invite.id } });
    return updated!;
  });
}

/** Staff and coordinators, for /staff. */
export async function listStaff(db: Executor, coordinator: Actor): Promise<UserRow[]> {
  authorize(coordinator, 'staff.list');
  return db.select().from(users).where(inArray(users.role, ['staff', 'coordinator'])).orderBy(asc(users.role), asc(users.organisation), asc(users.id));
}

/** A coordinator takes staff rights away; the person is told. They remain a helper. */
export async function revokeStaff(db: Database, clock: Clock, coordinator: Actor, targetId: number): Promise<UserRow> {
  authorize(coordinator, 'staff.revoke');
  return db.transaction(async (tx) => {
    const [updated] = await tx
      .update(users)
      .set({ role: 'helper', organisation: null, lotse: false })
      .where(and(eq(users.id, targetId), eq(users.role, 'staff')))
      .returning();
    if (!updated) throw new DomainError('staff.notStaff');
    await audit(tx, clock, { actorId: coordinator.userId, action: 'staff.revoked', targetUserId: targetId });
    await enqueue(tx, clock, [{ userId: updated.id, chatId: updated.telegramId, kind: 'staff.revoked', priority: PRIORITY.interactive }]);
    return updated;
  });
}

/** A coordinator makes a staff member a coordinator; the person is told. */
export async function promoteToCoordinator(db: Database, clock: Clock, coordinator: Actor, targetId: number): Promise<UserRow> {
  authorize(coordinator, 'staff.promote');
  return db.transaction(async (tx) => {
    const [updated] = await tx
      .update(users)
      .set({ role: 'coordinator' })
      .where(and(eq(users.id, targetId), eq(users.role, 'staff')))
      .returning();
    if (!updated) throw new DomainError('staff.notStaff');
    await audit(tx, clock, { actorId: coordinator.userId, action: 'coordinator.granted', targetUserId: targetId });
    await enqueue(tx, clock, [{ userId: updated.id, chatId: updated.telegramId, kind: 'staff.promoted', priority: PRIORITY.interactive }]);
    return updated;
  });
}
