import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { Clock } from '../clock';
import type { Executor } from '../db';
import { auditLog, users } from '../db/schema';
import { type Actor, authorize } from './permissions';

/** The actions the audit log records. */
export type AuditAction =
  | 'invite.created'
  | 'staff.granted'
  | 'staff.revoked'
  | 'coordinator.granted'
  | 'notice.sent'
  | 'notice.cancelled'
  | 'report.dismissed'
  | 'post.removed'
  | 'post.approved'
  | 'user.warned'
  | 'user.banned'
  | 'user.unbanned'
  | 'user.deleted'
  | 'lotse.granted'
  | 'lotse.revoked'
  | 'desk.taken'
  | 'desk.referred'
  | 'desk.broadcast'
  | 'desk.closed'
  | 'verification.requested'
  | 'verification.granted'
  | 'verification.declined'
  | 'verification.withdrawn'
  | 'organisation.invite.created'
  | 'organisation.joined'
  | 'organisation.withdrawn'
  | 'report.safety'
  | 'channel.connected'
  | 'channel.disconnected';

/** Writes who did what, when; called in the same transaction as the action. */
export async function audit(
  db: Executor,
  clock: Clock,
  entry: { actorId: number | null; action: AuditAction; targetUserId?: number | null; details?: Record<string, unknown> },
): Promise<void> {
  await db.insert(auditLog).values({
    actorId: entry.actorId,
    action: entry.action,
    targetUserId: entry.targetUserId ?? null,
    details: entry.details ?? {},
    createdAt: clock.now(),
  });
}

/** One audit entry as the web desk shows it: who acted (first name, role, organisation), never the target's identity. */
export interface AuditEntry {
  id: number;
  at: Date;
  action: string;
  actor: { firstName: string | null; role: string | null; organisation: string | null } | null;
  /** The internal number of the person acted on (no name), for following one case. */
  targetUserId: number | null;
  details: Record<string, unknown>;
}

export const AUDIT_PAGE_SIZE = 100;

/** The audit log, newest first, filtered by action (prefix such as `desk.`) and time span. */
export async function listAudit(
  db: Executor,
  viewer: Actor,
  filter: { action?: string; from?: Date; to?: Date; actorId?: number; page?: number },
): Promise<{ entries: AuditEntry[]; total: number }> {
  authorize(viewer, 'audit.view');
  const parts: SQL[] = [];
  if (filter.action) parts.push(sql`${auditLog.action} like ${`${filter.action.replace(/[%_\\]/g, '\\$&')}%`}`);
  if (filter.from) parts.push(sql`${auditLog.createdAt} >= ${filter.from}`);
  if (filter.to) parts.push(sql`${auditLog.createdAt} < ${filter.to}`);
  if (filter.actorId) parts.push(sql`${auditLog.actorId} = ${filter.actorId}`);
  const where = parts.length ? and(...parts) : undefined;
  const page = Math.max(1, filter.page ?? 1);
  const [rows, [count]] = await Promise.all([
    db
      .select({ entry: auditLog, firstName: users.firstName, role: users.role, organisation: users.organisation })
      .from(auditLog)
      .leftJoin(users, eq(users.id, auditLog.actorId))
      .where(where)
      .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
      .limit(AUDIT_PAGE_SIZE)
      .offset((page - 1) * AUDIT_PAGE_SIZE),
    db.select({ n: sql<number>`count(*)::int` }).from(auditLog).where(where),
  ]);
  return {
    entries: rows.map((r) => ({
      id: r.entry.id,
      at: r.entry.createdAt,
      action: r.entry.action,
      actor: r.entry.actorId === null ? null : { firstName: r.firstName, role: r.role, organisation: r.organisation },
      targetUserId: r.entry.targetUserId,
      details: r.entry.details as Record<string, unknown>,
    })),
    total: count?.n ?? 0,
  };
}

/** The actions in the log so far (for the filter's choices). */
export async function auditActions(db: Executor, viewer: Actor): Promise<string[]> {
  authorize(viewer, 'audit.view');
  const rows = await db.selectDistinct({ action: auditLog.action }).from(auditLog).orderBy(auditLog.action);
  return rows.map((r) => r.action);
}
