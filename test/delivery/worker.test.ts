import { eq, sql } from 'drizzle-orm';
import { systemClock } from '../../src/clock';
import { createDatabase } from '../../src/db';
import { outbox, PRIORITY, users } from '../../src/db/schema';
import { createRenderers } from '../../src/delivery';
import type { Renderer, RendererRegistry } from '../../src/delivery/render';
import { enqueue, type OutboxKind } from '../../src/domain/outbox';
import { type Harness, useHarness } from '../helpers/harness';
import { TEST_DATABASE_URL } from '../helpers/db';

const harness = useHarness();
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

/** The kind these tests queue (one without payload); its renderer is replaced by the test's. */
const TEST_KIND = 'staff.promoted' satisfies OutboxKind;

/** The production renderers, with `render` for the test kind. */
function withTestRenderer(render: Renderer<typeof TEST_KIND>): RendererRegistry {
  return { ...createRenderers(), [TEST_KIND]: render };
}

/** A renderer that sends "message <id>" (what the worker does with it is what is tested here). */
const renderers = withTestRenderer(async (row) => ({ send: { method: 'sendMessage', payload: { text: `message ${row.id}` } } }));

async function seedRecipients(n: number, firstTelegramId = 5_000_000): Promise<{ id: number; telegramId: number }[]> {
  const now = h.clock.now();
  return h.db.db
    .insert(users)
    .values(Array.from({ length: n }, (_, i) => ({ telegramId: firstTelegramId + i, firstName: `U${i}`, locale: 'de', role: 'helper' as const, createdAt: now, lastSeenAt: now })))
    .returning({ id: users.id, telegramId: users.telegramId });
}

async function queue(recipients: { id: number; telegramId: number }[], priority: number = PRIORITY.broadcast): Promise<void> {
  await enqueue(
    h.db.db,
    h.clock,
    recipients.map((r) => ({ userId: r.id, chatId: r.telegramId, kind: TEST_KIND, priority: priority as 0 | 1 | 2 })),
  );
}

async function statuses(): Promise<Record<string, number>> {
  const rows = await h.db.db.select({ status: outbox.status, n: sql<number>`count(*)::int` }).from(outbox).groupBy(outbox.status);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

describe('delivery worker', () => {
  it('on 429 pauses everything for retry_after and delivers each message exactly once', async () => {
    h.telegram.ratePerSecond = 10;
    const people = await seedRecipients(40);
    await queue(people);
    const worker = h.deliveryWorker({ renderers, clock: systemClock, rate: 30 });
    const stats = await worker.drain({ waitForRetriesMs: 5_000 });
    expect(stats.rateLimited).toBeGreaterThan(0);
    expect(stats.sent).toBe(40);
    expect(await statuses()).toEqual({ sent: 40 });
    const counts = h.telegram.sentCountByChat();
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(counts.size).toBe(40);
  });

  it('marks users who blocked the bot unreachable and does not retry them', async () => {
    const people = await seedRecipients(5);
    h.telegram.block(people[1]!.telegramId);
    h.telegram.unknownChats.add(people[3]!.telegramId);
    await queue(people);
    await queue([people[1]!]);
    const stats = await h.deliveryWorker({ renderers, perChatIntervalMs: 200 }).drain();
    expect(stats).toMatchObject({ sent: 3, unreachable: 3 });
    expect(await statuses()).toEqual({ sent: 3, unreachable: 3 });
    const blocked = await h.db.db.select().from(users).where(eq(users.id, people[1]!.id));
    expect(blocked[0]?.blockedAt).toBeInstanceOf(Date);
    // Only one call for the blocked user: the second message was not even attempted.
    expect(h.telegram.callsOf('sendMessage').filter((c) => Number(c.payload.chat_id) === people[1]!.telegramId)).toHaveLength(1);
  });

  it('retries network errors and 5xx with backoff, and gives up on permanent errors', async () => {
    const people = await seedRecipients(3);
    await queue(people);
    h.telegram.failNext('sendMessage', 502, 'Bad Gateway', { times: 2 });
    const failingRenderers = withTestRenderer(async (row) =>
      row.userId === people[2]!.id
        ? { send: { method: 'sendMessage', payload: { text: '<b>broken', parse_mode: 'HTML' } } }
        : { send: { method: 'sendMessage', payload: { text: `message ${row.id}` } } },
    );
    const stats = await h.deliveryWorker({ renderers: failingRenderers, clock: systemClock }).drain({ waitForRetriesMs: 5_000 });
    expect(stats.retried).toBe(2);
    expect(stats.failed).toBe(1);
    expect(await statuses()).toEqual({ sent: 2, failed: 1 });
    const [failed] = await h.db.db.select().from(outbox).where(eq(outbox.status, 'failed'));
    expect(failed?.error).toContain("can't parse entities");
  });

  it('marks a row whose payload does not match its kind as failed and goes on with the others', async () => {
    const people = await seedRecipients(4);
    await queue(people.slice(0, 2));
    // Rows as an older version (or a hand-written statement) might have left them.
    const now = h.clock.now();
    const stale = (userId: number, chatId: number, kind: string, payload: unknown) => ({ userId, chatId, kind, payload, priority: PRIORITY.interactive, notBefore: now, createdAt: now });
    await h.db.db.insert(outbox).values([
      stale(people[2]!.id, people[2]!.telegramId, 'relay', { messageId: 7 }),
      stale(people[3]!.id, people[3]!.telegramId, 'moderation.queue', { reports: 'two' }),
    ]);
    await queue(people.slice(2));
    const stats = await h.deliveryWorker({ renderers }).drain();
    expect(stats).toMatchObject({ sent: 4, failed: 2, retried: 0 });
    expect(await statuses()).toEqual({ sent: 4, failed: 2 });
    const failed = await h.db.db.select({ kind: outbox.kind, error: outbox.error }).from(outbox).where(eq(outbox.status, 'failed')).orderBy(outbox.id);
    expect(failed).toEqual([
      { kind: 'relay', error: expect.stringMatching(/^payload of "relay" does not match its schema: relayMessageId: .*; contactId: /) },
      { kind: 'moderation.queue', error: expect.stringMatching(/^payload of "moderation.queue" does not match its schema: reports: /) },
    ]);
  });

  it('sends interactive messages before a queued broadcast', async () => {
    const people = await seedRecipients(60);
    await queue(people.slice(0, 59), PRIORITY.broadcast);
    await queue([people[59]!], PRIORITY.interactive);
    await h.deliveryWorker({ renderers, rate: 50 }).drain();
    const order = h.telegram.callsOf('sendMessage').map((c) => Number(c.payload.chat_id));
    expect(order.indexOf(people[59]!.telegramId)).toBe(0);
  });

  it('keeps one message per second per chat', async () => {
    const [one] = await seedRecipients(1);
    await queue([one!, one!, one!]);
    await h.deliveryWorker({ renderers, perChatIntervalMs: 400 }).drain();
    const times = h.telegram.callsOf('sendMessage').map((c) => c.at);
    expect(times).toHaveLength(3);
    // The worker paces from its own sends; the stand-in stamps arrivals, which a busy machine delays by
    // a few to tens of milliseconds each. Without the pacing the three would arrive within a few ms.
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(300);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(300);
  });

  it('takes over messages whose process died and counts them as possible duplicates', async () => {
    const people = await seedRecipients(4);
    await queue(people);
    // A process claimed two rows and died: its lease ran out.
    const expired = new Date(h.clock.now().getTime() - 1_000);
    await h.db.db.execute(sql`update ${outbox} set status = 'sending', lease_owner = 'dead', lease_until = ${expired}, attempts = 1 where id in (1, 2)`);
    const stats = await h.deliveryWorker({ renderers }).drain();
    expect(stats.sent).toBe(4);
    const rows = await h.db.db.select().from(outbox).orderBy(outbox.id);
    expect(rows.map((r) => r.possibleDuplicate)).toEqual([true, true, false, false]);
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
  });

  it('takes over rows it claimed but lost (the database went away before they were queued) once their lease runs out', async () => {
    const people = await seedRecipients(3);
    await queue(people);
    // This live process claimed two rows, and the database went away before it queued them.
    const lease = new Date(h.clock.now().getTime() + 10_000);
    await h.db.db.execute(sql`update ${outbox} set status = 'sending', lease_owner = 'w-live', lease_until = ${lease}, attempts = 1 where id in (1, 2)`);
    const worker = h.deliveryWorker({ renderers, workerId: 'w-live' });
    expect((await worker.drain()).sent).toBe(1);
    // Its heartbeat renews only the rows it holds: the lost ones are taken over when their lease ends.
    h.clock.advance(11_000);
    expect((await worker.drain()).sent).toBe(2);
    const rows = await h.db.db.select().from(outbox).orderBy(outbox.id);
    expect(rows.map((r) => [r.status, r.possibleDuplicate])).toEqual([
      ['sent', true],
      ['sent', true],
      ['sent', false],
    ]);
  });

  it('gives claimed rows back at once when it cannot read what to render them with', async () => {
    const people = await seedRecipients(3);
    await queue(people);
    // The first read of the recipients after the claim fails, as when the database restarts right then.
    let failNext = true;
    const db = new Proxy(h.db.db, {
      get(target, property, receiver) {
        if (property !== 'select') return Reflect.get(target, property, receiver) as unknown;
        return (...args: Parameters<typeof target.select>) => {
          const builder = target.select(...args);
          return new Proxy(builder, {
            get(b, p) {
              if (p !== 'from') return Reflect.get(b, p) as unknown;
              return (table: Parameters<typeof b.from>[0]) => {
                if (table === users && failNext) {
                  failNext = false;
                  throw new Error('Connection terminated unexpectedly');
                }
                return b.from(table);
              };
            },
          });
        };
      },
    });
    const worker = h.deliveryWorker({ renderers, db });
    await expect(worker.drain()).rejects.toThrow('Connection terminated');
    const back = await h.db.db.select().from(outbox).orderBy(outbox.id);
    expect(back.map((r) => [r.status, r.attempts, r.leaseOwner])).toEqual([
      ['pending', 0, null],
      ['pending', 0, null],
      ['pending', 0, null],
    ]);
    expect((await worker.drain()).sent).toBe(3);
    expect((await h.db.db.select().from(outbox)).every((r) => r.status === 'sent' && !r.possibleDuplicate)).toBe(true);
  });

  it('gives back unsent rows on a graceful stop', async () => {
    h.telegram.latencyMs = 20;
    const people = await seedRecipients(30);
    await queue(people);
    const worker = h.deliveryWorker({ renderers, rate: 10, clock: systemClock });
    await worker.start();
    await new Promise((r) => setTimeout(r, 400));
    await worker.stop();
    const after = await statuses();
    expect(after.sending ?? 0).toBe(0);
    expect((after.sent ?? 0) + (after.pending ?? 0)).toBe(30);
    expect(after.sent ?? 0).toBeGreaterThan(0);
    const pending = await h.db.db.select().from(outbox).where(eq(outbox.status, 'pending'));
    expect(pending.every((r) => !r.possibleDuplicate)).toBe(true);
  });

  (TEST_DATABASE_URL ? it : it.skip)('two workers on one PostgreSQL database send nothing twice', async () => {
    const people = await seedRecipients(300);
    await queue(people);
    const second = await createDatabase({ DATABASE_URL: h.db.url!, poolSize: 5 });
    try {
      h.telegram.latencyMs = 5;
      const a = h.deliveryWorker({ renderers, rate: 500, workerId: 'a' });
      const b = h.deliveryWorker({ renderers, rate: 500, workerId: 'b', db: second.db });
      const [sa, sb] = await Promise.all([a.drain(), b.drain()]);
      expect(sa.sent + sb.sent).toBe(300);
      expect(sa.sent).toBeGreaterThan(0);
      expect(sb.sent).toBeGreaterThan(0);
      const counts = h.telegram.sentCountByChat();
      expect(counts.size).toBe(300);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await second.close();
    }
  });
});
