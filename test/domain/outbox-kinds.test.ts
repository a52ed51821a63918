import { createRenderers } from '../../src/delivery';
import type { Renderer, RendererRegistry } from '../../src/delivery/render';
import type { QueuedMessage } from '../../src/domain/outbox';
import { isOutboxKind, OUTBOX_CATALOGUE, OUTBOX_KINDS, parseOutboxPayload } from '../../src/domain/outbox-kinds';

/*
 * Type-level checks: `npm run typecheck` fails if any line marked @ts-expect-error ever compiles.
 */

// A registry that misses a kind does not compile, whether annotated or checked with `satisfies`.
const { relay: _relay, ...withoutRelay } = createRenderers();
// @ts-expect-error: no renderer for 'relay'
const incomplete: RendererRegistry = withoutRelay;
// @ts-expect-error: no renderer for 'relay'
void ({ ...withoutRelay } satisfies RendererRegistry);
// A kind the catalogue does not know cannot be registered either.
// @ts-expect-error: 'escalation' is not an outbox kind
void ({ ...createRenderers(), escalation: async () => ({ skip: 'cancelled', reason: '' }) } satisfies RendererRegistry);

// Enqueueing checks the payload against its kind.
const base = { userId: 1, chatId: 1 };
const queued: QueuedMessage[] = [
  { ...base, kind: 'relay', payload: { relayMessageId: 1, contactId: 2, fromChatId: 3 } },
  { ...base, kind: 'moderation.queue', payload: { reports: 2 } },
  // Kinds without payload may leave it out.
  { ...base, kind: 'staff.promoted' },
  // @ts-expect-error: a relay needs relayMessageId
  { ...base, kind: 'relay', payload: { contactId: 2 } },
  // @ts-expect-error: the reason is one of REPORT_REASONS
  { ...base, kind: 'moderation.banned', payload: { reason: 'rude' } },
  // @ts-expect-error: a digest needs its day
  { ...base, kind: 'digest' },
  // @ts-expect-error: not an outbox kind
  { ...base, kind: 'follow-up' },
];

// A renderer receives its kind's parsed payload (defaults applied).
const queueRenderer: Renderer<'moderation.queue'> = async (_row, payload) => {
  const reports: number = payload.reports;
  // @ts-expect-error: moderation.queue has no contactId
  void payload.contactId;
  return { skip: 'cancelled', reason: String(reports) };
};

describe('outbox catalogue', () => {
  it('has a renderer for every kind and none for anything else', () => {
    expect(Object.keys(createRenderers()).sort()).toEqual(Object.keys(OUTBOX_CATALOGUE).sort());
    expect(Object.values(OUTBOX_KINDS).every(isOutboxKind)).toBe(true);
    expect(isOutboxKind('escalation')).toBe(false);
    expect(isOutboxKind('toString')).toBe(false);
    expect([incomplete, queued, queueRenderer]).toHaveLength(3);
  });

  it('parses payloads: defaults applied, unknown keys dropped, optional keys may be missing', () => {
    expect(parseOutboxPayload('moderation.queue', { pending: 1 })).toEqual({ ok: true, payload: { reports: 0, pending: 1 } });
    expect(parseOutboxPayload('contact.ended', { contactId: 5, legacy: true })).toEqual({ ok: true, payload: { contactId: 5 } });
    // The sender erased their data: the chat id is gone from the row.
    expect(parseOutboxPayload('relay', { relayMessageId: 1, contactId: 2 })).toEqual({ ok: true, payload: { relayMessageId: 1, contactId: 2 } });
    expect(parseOutboxPayload('post.notify', {})).toEqual({ ok: true, payload: {} });
  });

  it('names every field that is wrong', () => {
    const result = parseOutboxPayload('relay', { relayMessageId: '7' });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/^payload of "relay" does not match its schema: relayMessageId: .+; contactId: .+/);
    expect(parseOutboxPayload('moderation.warned', { reason: 'rude' })).toMatchObject({ ok: false, error: expect.stringContaining('reason: ') });
    expect(parseOutboxPayload('digest', null)).toMatchObject({ ok: false, error: expect.stringContaining('(payload): ') });
  });
});
