import type { Clock } from '../clock';
import type { Executor } from '../db';
import { auditLog } from '../db/schema';

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
  | 'report.safety';

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
