import { sql } from 'drizzle-orm';
import type { Clock } from '../clock';
import type { Executor } from '../db';
import { outbox, PRIORITY } from '../db/schema';

/** A message to someone other than the acting user, queued in the caller's transaction. */
export interface QueuedMessage {
  userId: number;
  chatId: number;
  kind: string;
  priority?: (typeof PRIORITY)[keyof typeof PRIORITY];
  payload?: Record<string, unknown>;
  postId?: number;
  noticeId?: number;
  notBefore?: Date;
  /** At most one row with this key ever exists (a daily digest, a moderation summary). */
  dedupeKey?: string;
}

/** Writes messages to the outbox; the delivery worker renders and sends them. */
export async function enqueue(db: Executor, clock: Clock, messages: QueuedMessage[]): Promise<number> {
  if (messages.length === 0) return 0;
  const now = clock.now();
  const rows = await db
    .insert(outbox)
    .values(
      messages.map((m) => ({
        userId: m.userId,
        chatId: m.chatId,
        kind: m.kind,
        priority: m.priority ?? PRIORITY.interactive,
        payload: m.payload ?? {},
        postId: m.postId ?? null,
        noticeId: m.noticeId ?? null,
        notBefore: m.notBefore ?? now,
        dedupeKey: m.dedupeKey ?? null,
        createdAt: now,
      })),
    )
    .onConflictDoNothing({ target: outbox.dedupeKey, where: sql`${outbox.dedupeKey} is not null` })
    .returning({ id: outbox.id });
  return rows.length;
}

/** Messages to a user, by kind: the renderers are registered under these names. */
export const OUTBOX_KINDS = {
  postNotify: 'post.notify',
  postExpiring: 'post.expiring',
  postExpired: 'post.expired',
  digest: 'digest',
  contactRequest: 'contact.request',
  contactAccepted: 'contact.accepted',
  contactDeclined: 'contact.declined',
  contactEnded: 'contact.ended',
  contactCancelled: 'contact.cancelled',
  relay: 'relay',
  notice: 'notice',
} as const;
