import { z } from 'zod';
import { REPORT_REASONS } from '../db/schema';

const id = z.number().int().positive();
const none = z.object({});
const aboutContact = z.object({ contactId: id });
const withReason = z.object({ reason: z.enum(REPORT_REASONS) });

/**
 * Every kind of outbox message with the zod schema of its payload. The domain enqueues against it and
 * delivery renders against it: a kind added here without a renderer does not compile
 * (`RendererRegistry` in src/delivery/render.ts), and a stored payload reaches its renderer only after
 * this schema parsed it. Unknown keys are stripped, so a payload may gain optional keys over time.
 */
export const OUTBOX_CATALOGUE = {
  'post.notify': none,
  'post.expiring': none,
  'post.expired': none,
  /** To the seeker: the next wave of their need went out (`widened`: it reached the neighbouring districts). */
  'wave.progress': z.object({ told: z.number().int().positive(), widened: z.boolean().default(false) }),
  /** To the seeker: no eligible helper is left; the need is on the coordinators' desk. */
  'wave.exhausted': none,
  /** To the seeker: their need is on the Lotsen desk; a person of the city looks at it personally. */
  'desk.landed': none,
  /** To the seeker: the office responsible for their need (city file), in their language. */
  'desk.referred': z.object({ category: z.string().min(1), closed: z.boolean().default(false) }),
  /** To coordinators and Lotsen: new desk items and items still without an owner (batched). */
  'desk.queue': z.object({ fresh: z.number().int().nonnegative().default(0), unclaimed: z.number().int().nonnegative().default(0) }),
  /** To the seeker, FOLLOW_UP_AFTER after accepting an offer of help: "Did you get the help you needed?". */
  'followup.ask': aboutContact,
  /** To the helper: the seeker is looking further (no reasons given). */
  'followup.looking': aboutContact,
  /** The next morning's summary of the notifications over the daily cap (one per person and day). */
  digest: z.object({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) }),
  'contact.request': aboutContact,
  'contact.accepted': aboutContact,
  'contact.declined': aboutContact,
  'contact.ended': aboutContact,
  'contact.cancelled': aboutContact,
  /**
   * `fromChatId` is removed when the sender erases their data (a photo can then no longer be copied).
   * `quote`: the message in the recipient's chat that this one answers (quoted with reply_parameters).
   */
  relay: z.object({ relayMessageId: id, contactId: id, fromChatId: z.number().int().optional(), quote: id.optional() }),
  notice: none,
  /** Edits a post's notification that went out with the original once its translation is stored (postId on the row). */
  'post.translated': z.object({ messageId: id, caption: z.boolean().default(false) }),
  /** Edits a relayed message that went out with the original once its translation is stored. */
  'relay.translated': z.object({ relayMessageId: id, contactId: id, messageId: id, caption: z.boolean().default(false) }),
  'staff.revoked': none,
  'staff.promoted': none,
  'moderation.removed': withReason,
  'moderation.warned': withReason,
  'moderation.banned': withReason,
  'moderation.unbanned': none,
  'moderation.approved': z.object({ recipients: z.number().int().nonnegative() }),
  'moderation.rejected': none,
  'moderation.queue': z.object({ reports: z.number().int().nonnegative().default(0), pending: z.number().int().nonnegative().default(0) }),
} as const satisfies Record<string, z.ZodObject>;

/** The name of an outbox kind (the `outbox.kind` column holds one). */
export type OutboxKind = keyof typeof OUTBOX_CATALOGUE;
/** A payload as its renderer receives it (parsed, defaults applied). */
export type OutboxPayload<K extends OutboxKind> = z.output<(typeof OUTBOX_CATALOGUE)[K]>;
/** A payload as it is enqueued (and stored). */
export type OutboxPayloadInput<K extends OutboxKind> = z.input<(typeof OUTBOX_CATALOGUE)[K]>;

/** Names for the kinds the domain writes in SQL or filters on; typos do not compile. */
export const OUTBOX_KINDS = {
  postNotify: 'post.notify',
  postExpiring: 'post.expiring',
  postExpired: 'post.expired',
  waveProgress: 'wave.progress',
  waveExhausted: 'wave.exhausted',
  digest: 'digest',
  contactRequest: 'contact.request',
  contactAccepted: 'contact.accepted',
  contactDeclined: 'contact.declined',
  contactEnded: 'contact.ended',
  contactCancelled: 'contact.cancelled',
  relay: 'relay',
  notice: 'notice',
  deskLanded: 'desk.landed',
  deskReferred: 'desk.referred',
  deskQueue: 'desk.queue',
  followUpAsk: 'followup.ask',
  followUpLooking: 'followup.looking',
  postTranslated: 'post.translated',
  relayTranslated: 'relay.translated',
} as const satisfies Record<string, OutboxKind>;

/** Whether a stored kind is one this version knows (a newer version may have written others). */
export function isOutboxKind(kind: string): kind is OutboxKind {
  return Object.hasOwn(OUTBOX_CATALOGUE, kind);
}

/** A stored payload checked against its kind's schema; the error names each field that is wrong. */
export function parseOutboxPayload<K extends OutboxKind>(kind: K, payload: unknown): { ok: true; payload: OutboxPayload<K> } | { ok: false; error: string } {
  const parsed = OUTBOX_CATALOGUE[kind].safeParse(payload);
  if (parsed.success) return { ok: true, payload: parsed.data as OutboxPayload<K> };
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(payload)'}: ${issue.message}`).join('; ');
  return { ok: false, error: `payload of "${kind}" does not match its schema: ${issues}` };
}
