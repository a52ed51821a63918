import { sql } from 'drizzle-orm';
import type { Clock } from '../clock';
import type { Executor } from '../db';
import { outbox, PRIORITY } from '../db/schema';
import type { OutboxKind, OutboxPayloadInput } from './outbox-kinds';

export { OUTBOX_KINDS, type OutboxKind } from './outbox-kinds';

/** What every queued message has, whatever its kind. */
interface QueuedMessageBase {
  userId: number;
  chatId: number;
  priority?: (typeof PRIORITY)[keyof typeof PRIORITY];
  postId?: number;
  noticeId?: number;
  notBefore?: Date;
  /** At most one row with this key ever exists (a daily digest, a moderation summary). */
  dedupeKey?: string;
}

/** The payload of kind K, which may be left out when the kind's schema accepts an empty payload. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- `{} extends T` asks whether T accepts an empty object
type PayloadOf<K extends OutboxKind> = {} extends OutboxPayloadInput<K> ? { payload?: OutboxPayloadInput<K> } : { payload: OutboxPayloadInput<K> };

/**
 * A message to someone other than the acting user, queued in the caller's transaction: one variant per
 * kind of src/domain/outbox-kinds.ts, so that the payload is type-checked against its kind.
 */
export type QueuedMessage = { [K in OutboxKind]: QueuedMessageBase & { kind: K } & PayloadOf<K> }[OutboxKind];

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
