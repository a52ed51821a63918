import { randomBytes } from 'node:crypto';
import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import { type Api, GrammyError, HttpError } from 'grammy';
import type { Clock } from '../clock';
import type { Locale } from '../config';
import { type Database, queryRows } from '../db';
import { deliveryState, deliveryWorkers, type OutboxRow, type OutboxStatus, outbox, PRIORITY, users, type UserRow } from '../db/schema';
import { claimChannelRows, lostReasonOf, markChannelLost, recordChannelError } from '../domain/channels';
import { isOutboxKind, type OutboxKind, parseOutboxPayload } from '../domain/outbox-kinds';
import { describeError, type Logger } from '../logger';
import { renderChannelRow } from './channel-renderers';
import { RateGovernor, type SendTicket } from './governor';
import type { OutgoingCall, RenderEnv, RendererRegistry, RenderResult } from './render';
import { RenderBatch } from './render-batch';

/** Settings of one delivery process. */
export interface DeliveryWorkerOptions {
  db: Database;
  /** A Bot API client without auto-retry: 429s are handled here, for every sender at once. */
  api: Api;
  clock: Clock;
  logger: Logger;
  renderers: RendererRegistry;
  renderEnv: Omit<RenderEnv, 'recipient' | 'locale' | 't' | 'batch'>;
  /** BROADCAST_RATE: messages per second for all processes together. */
  rate: number;
  /** PAID_BROADCAST: sets allow_paid_broadcast on every send. */
  paidBroadcast?: boolean;
  perChatIntervalMs?: number;
  /** How long a claimed row stays ours without renewal; renewed every heartbeat. */
  leaseMs?: number;
  heartbeatMs?: number;
  /** A process whose heartbeat is older than this no longer counts for the rate share. */
  staleMs?: number;
  /** Sleep when nothing is due (wake() cuts it short). */
  idleMs?: number;
  /** Transient failures (network, 5xx) are retried this many times in all. */
  maxAttempts?: number;
  /** How many seconds of sending one claim covers; small keeps the crash window small. */
  claimWindowSeconds?: number;
  workerId?: string;
}

/** Counts of one drain() run (tests and benchmarks). */
export interface DeliveryStats {
  sent: number;
  unreachable: number;
  failed: number;
  retried: number;
  rateLimited: number;
  skipped: number;
}

interface Job {
  row: OutboxRow;
  call: OutgoingCall;
  afterSend?: (messageId: number) => Promise<void>;
  afterFailure?: (description: string) => Promise<void>;
}

interface Outcome {
  id: number;
  status: OutboxStatus;
  sentAt?: Date;
  messageId?: number;
  error?: string;
  notBefore?: Date;
}

/** Calls the renderer of `kind` with the payload its schema parsed (the registry pairs them by kind). */
function renderRow<K extends OutboxKind>(renderers: RendererRegistry, kind: K, row: OutboxRow, payload: Parameters<RendererRegistry[K]>[1], env: RenderEnv): Promise<RenderResult> {
  const renderer: RendererRegistry[K] = renderers[kind];
  return renderer(row, payload, env);
}

const UNREACHABLE = /bot was blocked|user is deactivated|chat not found|bot can't initiate|PEER_ID_INVALID|bot was kicked|have no rights to send/i;
/** A channel or group the bot can no longer write to (removed, demoted, the chat gone). */
const CHANNEL_LOST = /chat not found|bot was kicked|bot is not a member|have no rights|not enough rights|need administrator rights|CHAT_WRITE_FORBIDDEN|CHAT_ADMIN_REQUIRED|CHANNEL_PRIVATE|PEER_ID_INVALID|upgraded to a supergroup/i;

/**
 * The outbox sender. Every bot process runs one. Rows are claimed with FOR UPDATE SKIP LOCKED under a
 * lease, rendered in the recipient's language, paced by the RateGovernor and marked with their result
 * in small batches. A process that dies leaves 'sending' rows whose lease runs out; they are sent again
 * (at-least-once) and counted as possible duplicates.
 */
export class DeliveryWorker {
  readonly id: string;
  private readonly governor: RateGovernor;
  private readonly o: Required<Omit<DeliveryWorkerOptions, 'workerId' | 'paidBroadcast'>> & { paidBroadcast: boolean };
  private queue: Job[] = [];
  private outcomes: Outcome[] = [];
  /**
   * The 'sending' rows this worker holds: claimed and not yet recorded or given back. Only their leases
   * are renewed. A row the worker claimed but lost — the database went away between the claim and the
   * queue, or the claim's answer never came — is not among them, so its lease runs out and it is taken
   * over like a dead process's row, instead of being renewed (and never sent) while this process lives.
   */
  private readonly held = new Set<number>();
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private loop?: Promise<void>;
  private timers: NodeJS.Timeout[] = [];
  private wakeUp?: () => void;
  private flushing?: Promise<void>;
  private flushTimer?: NodeJS.Timeout;
  private lastClaimEmpty = false;
  private liveWorkers = 1;
  stats: DeliveryStats = { sent: 0, unreachable: 0, failed: 0, retried: 0, rateLimited: 0, skipped: 0 };

  constructor(options: DeliveryWorkerOptions) {
    this.id = options.workerId ?? `w-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.o = {
      perChatIntervalMs: 1_000,
      // A dead process's messages are taken over within ~10 s; a live one renews its leases every 3 s.
      leaseMs: 10_000,
      heartbeatMs: 3_000,
      staleMs: 10_000,
      idleMs: 500,
      maxAttempts: 8,
      claimWindowSeconds: 0.25,
      paidBroadcast: false,
      ...options,
    };
    this.governor = new RateGovernor({
      rate: this.o.rate,
      perChatIntervalMs: this.o.perChatIntervalMs,
      maxInFlight: this.maxInFlightFor(this.o.rate),
    });
  }

  /** Starts sending in the background until stop(). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    // The database may be away right now: the loop starts anyway and the next heartbeat catches up.
    await this.heartbeat().catch((err) => this.logError(err, 'heartbeat failed'));
    this.timers.push(setInterval(() => void this.heartbeat().catch((err) => this.logError(err, 'heartbeat failed')), this.o.heartbeatMs));
    this.loop = this.run();
  }

  /** Stops claiming, lets requests in flight finish, records them and gives back unsent rows. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.timers.forEach((t) => clearInterval(t));
    this.timers = [];
    this.wakeUp?.();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flush();
    await this.release(this.queue.splice(0).map((j) => j.row.id));
    await this.o.db.delete(deliveryWorkers).where(eq(deliveryWorkers.id, this.id)).catch(() => undefined);
  }

  /** Cuts an idle sleep short (a handler just queued something). */
  wake(): void {
    this.lastClaimEmpty = false;
    this.wakeUp?.();
  }

  /**
   * Sends everything that is due now and returns when nothing is left (tests and benchmarks). Uses the
   * same claiming, pacing and bookkeeping as the background loop.
   */
  async drain(options: { waitForRetriesMs?: number } = {}): Promise<DeliveryStats> {
    const before = { ...this.stats };
    await this.heartbeat();
    for (;;) {
      if (this.governor.paused) {
        await this.sleep(Math.max(1, this.governor.globalWait()));
        continue;
      }
      const claimed = await this.claim(this.claimSize());
      if (claimed === 0 && this.queue.length === 0) {
        await Promise.allSettled([...this.inFlight]);
        await this.flush();
        if ((await this.claim(this.claimSize())) === 0 && this.queue.length === 0) {
          // With a real clock, rows rescheduled a little later (a 429, a retry) can be waited for.
          const wait = options.waitForRetriesMs ? await this.nextDueWithin(options.waitForRetriesMs) : null;
          if (wait === null) break;
          await this.sleep(Math.max(10, wait));
          continue;
        }
      }
      await this.pump(true);
    }
    const after = this.stats;
    return {
      sent: after.sent - before.sent,
      unreachable: after.unreachable - before.unreachable,
      failed: after.failed - before.failed,
      retried: after.retried - before.retried,
      rateLimited: after.rateLimited - before.rateLimited,
      skipped: after.skipped - before.skipped,
    };
  }

  // ------------------------------------------------------------------ loop

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (this.queue.length < Math.max(1, this.claimSize() / 2) && !this.governor.paused) {
          const claimed = await this.claim(this.claimSize() - this.queue.length);
          this.lastClaimEmpty = claimed === 0;
        }
        if (this.queue.length === 0) {
          await this.flush();
          await this.sleep(this.lastClaimEmpty ? this.o.idleMs : 10);
          continue;
        }
        await this.pump(false);
      } catch (err) {
        this.logError(err, 'delivery loop error; retrying');
        await this.sleep(1_000);
      }
    }
  }

  /**
   * Dispatches queued jobs as the governor allows. With `untilEmpty` it keeps going until the queue is
   * empty (drain); otherwise it returns after about one claim window so that new claims can interleave.
   */
  private async pump(untilEmpty: boolean): Promise<void> {
    const started = performance.now();
    while (this.queue.length > 0 && (this.running || untilEmpty)) {
      if (!untilEmpty && performance.now() - started > this.o.claimWindowSeconds * 1000) return;
      const globalWait = this.governor.globalWait();
      if (globalWait > 0) {
        if (this.governor.paused) await this.releaseQueue();
        await this.waitForCapacity(globalWait);
        continue;
      }
      const index = this.queue.findIndex((job) => this.governor.chatWait(job.row.chatId) === 0);
      if (index < 0) {
        const soonest = Math.min(...this.queue.map((job) => this.governor.chatWait(job.row.chatId)));
        await this.sleep(Math.min(soonest, 100));
        continue;
      }
      const [job] = this.queue.splice(index, 1);
      this.dispatch(job!);
    }
    if (untilEmpty) {
      await Promise.allSettled([...this.inFlight]);
      await this.flush();
    }
  }

  private dispatch(job: Job): void {
    const ticket = this.governor.dispatched(job.row.chatId);
    const task = this.send(job, ticket)
      .catch((err) => this.logError(err, 'could not record a delivery failure'))
      .finally(() => {
        this.governor.completed(ticket);
        this.inFlight.delete(task);
        this.wakeUp?.();
      });
    this.inFlight.add(task);
  }

  private async send(job: Job, ticket: SendTicket): Promise<void> {
    const { row, call } = job;
    const payload = { ...call.payload, chat_id: row.chatId, ...(this.o.paidBroadcast ? { allow_paid_broadcast: true } : {}) };
    try {
      const result = (await this.o.api.raw[call.method](payload as never).finally(() => this.governor.answered(ticket))) as { message_id?: number };
      const messageId = typeof result?.message_id === 'number' ? result.message_id : undefined;
      this.record({ id: row.id, status: 'sent', sentAt: this.o.clock.now(), messageId });
      this.stats.sent++;
      // Calls answered with True (deleteMessage) have no message id: their hook gets 0.
      if (job.afterSend && (messageId !== undefined || (result as unknown) === true)) {
        await job.afterSend(messageId ?? 0).catch((err) => this.logError(err, 'after-send hook failed'));
      }
    } catch (err) {
      await this.handleFailure(row, err, job.afterFailure);
    }
  }

  private async handleFailure(row: OutboxRow, err: unknown, afterFailure?: Job['afterFailure']): Promise<void> {
    const now = this.o.clock.now();
    if (err instanceof GrammyError && err.error_code === 429) {
      const retryAfter = Math.max(1, err.parameters.retry_after ?? 1);
      this.stats.rateLimited++;
      this.o.logger.warn({ retryAfter, worker: this.id }, 'Telegram rate limit (429): pausing all sending');
      this.governor.pauseUntil(performance.now() + retryAfter * 1000);
      await this.sharePause(new Date(now.getTime() + retryAfter * 1000));
      // Not an attempt that failed: send it again after the pause, first in line.
      this.record({ id: row.id, status: 'pending', notBefore: new Date(now.getTime() + retryAfter * 1000) });
      return;
    }
    const description = err instanceof GrammyError ? `${err.error_code} ${err.description}` : err instanceof HttpError ? `network: ${err.message}` : String(err);
    if (row.priority === PRIORITY.channel && err instanceof GrammyError && (err.error_code === 403 || CHANNEL_LOST.test(err.description))) {
      // The channel removed the bot or took a right away: it is marked (coordinators see it in /channels),
      // what is queued for it is dropped, and nobody else is affected.
      this.stats.unreachable++;
      this.record({ id: row.id, status: 'unreachable', error: description });
      this.queue = this.queue.filter((job) => {
        if (job.row.chatId !== row.chatId) return true;
        this.record({ id: job.row.id, status: 'cancelled', error: 'channel lost' });
        return false;
      });
      this.o.logger.warn({ chatId: row.chatId, error: description }, 'channel lost: marked for the coordinators');
      await markChannelLost(this.o.db, this.o.clock, row.chatId, [lostReasonOf(err.description)]).catch((e) => this.logError(e, 'could not mark a channel lost'));
      await recordChannelError(this.o.db, this.o.clock, row.chatId, description).catch((e) => this.logError(e, 'could not record a channel error'));
      return;
    }
    if (err instanceof GrammyError && (err.error_code === 403 || (err.error_code === 400 && UNREACHABLE.test(err.description)))) {
      this.stats.unreachable++;
      this.record({ id: row.id, status: 'unreachable', error: description });
      // Whatever else is queued here for the same person would fail the same way: not attempted.
      const same = this.queue.filter((job) => job.row.userId === row.userId);
      this.queue = this.queue.filter((job) => job.row.userId !== row.userId);
      for (const job of same) {
        this.stats.unreachable++;
        this.record({ id: job.row.id, status: 'unreachable', error: 'recipient blocked the bot' });
      }
      await this.o.db
        .update(users)
        .set({ blockedAt: now })
        .where(eq(users.id, row.userId))
        .catch((e) => this.logError(e, 'could not mark user unreachable'));
      return;
    }
    const transient = err instanceof HttpError || (err instanceof GrammyError && err.error_code >= 500) || !(err instanceof GrammyError);
    if (transient && row.attempts < this.o.maxAttempts) {
      this.stats.retried++;
      const backoffMs = Math.min(300_000, 1_000 * 2 ** Math.max(0, row.attempts - 1));
      this.record({ id: row.id, status: 'pending', error: description, notBefore: new Date(now.getTime() + backoffMs) });
      return;
    }
    this.stats.failed++;
    this.o.logger.warn({ outboxId: row.id, kind: row.kind, error: description }, 'message could not be delivered');
    this.record({ id: row.id, status: 'failed', error: description });
    if (row.priority === PRIORITY.channel && !/message is not modified/i.test(description)) await recordChannelError(this.o.db, this.o.clock, row.chatId, description).catch((e) => this.logError(e, 'could not record a channel error'));
    if (afterFailure) await afterFailure(description).catch((e) => this.logError(e, 'after-failure hook failed'));
  }

  // ------------------------------------------------------------------ database

  /** Milliseconds until the next pending row becomes due, if that is within `withinMs`. */
  private async nextDueWithin(withinMs: number): Promise<number | null> {
    const now = this.o.clock.now();
    const [row] = await queryRows<{ due: Date | string | null }>(
      this.o.db,
      sql`select min(${outbox.notBefore}) as due from ${outbox} where ${outbox.status} = 'pending'`,
    );
    if (!row?.due) return null;
    const wait = new Date(row.due).getTime() - now.getTime();
    return wait <= withinMs ? wait : null;
  }

  private claimSize(): number {
    return Math.max(1, Math.ceil(this.governor.currentRate * this.o.claimWindowSeconds));
  }

  /** Claims up to n due rows, most urgent first, renders them and queues them. Returns how many. */
  private async claim(n: number): Promise<number> {
    if (n <= 0) return 0;
    const now = this.o.clock.now();
    const leaseUntil = new Date(now.getTime() + this.o.leaseMs);
    const rows: OutboxRow[] = [];
    for (const priority of [0, 1, 2]) {
      if (rows.length >= n) break;
      try {
        const claimed = await this.o.db
          .update(outbox)
          .set({ status: 'sending', attempts: sql`${outbox.attempts} + 1`, leaseUntil, leaseOwner: this.id })
          .where(
            inArray(
              outbox.id,
              sql`(select ${outbox.id} from ${outbox} where ${outbox.status} = 'pending' and ${outbox.priority} = ${priority} and ${outbox.notBefore} <= ${now} order by ${outbox.notBefore}, ${outbox.id} limit ${n - rows.length} for update skip locked)`,
            ),
          )
          .returning();
        this.hold(claimed);
        rows.push(...claimed);
      } catch (err) {
        await this.giveBack(rows);
        throw err;
      }
    }
    try {
      // Mirrors into channels and groups last, one per channel whose pace allows it: people never wait for them.
      if (rows.length < n) {
        const intervalMs = this.o.renderEnv.config.CHANNEL_INTERVAL;
        const channelRows = await claimChannelRows(this.o.db, this.o.clock, { limit: n - rows.length, intervalMs, leaseMs: this.o.leaseMs, owner: this.id });
        this.hold(channelRows);
        rows.push(...channelRows);
      }
      if (rows.length === 0) return 0;
      rows.sort((a, b) => a.priority - b.priority || a.notBefore.getTime() - b.notBefore.getTime() || a.id - b.id);
      await this.render(rows);
    } catch (err) {
      // Reading what to render failed (the database went away): nothing of these rows was queued or recorded.
      await this.giveBack(rows);
      throw err;
    }
    return rows.length;
  }

  private hold(rows: OutboxRow[]): void {
    for (const row of rows) this.held.add(row.id);
  }

  /** Rows claimed but not dispatched or recorded: back to pending now, or (database away) once their lease runs out. */
  private async giveBack(rows: OutboxRow[]): Promise<void> {
    await this.release(rows.map((r) => r.id)).catch((err) => this.logError(err, 'could not release rows'));
    for (const row of rows) this.held.delete(row.id);
  }

  private async render(rows: OutboxRow[]): Promise<void> {
    const ids = [...new Set(rows.map((r) => r.userId))];
    const recipients = new Map<number, UserRow>(
      (await this.o.db.select().from(users).where(inArray(users.id, ids))).map((u) => [u.id, u]),
    );
    // The posts and block pairs the rows refer to, in one query each for the whole batch.
    const batch = await RenderBatch.load(this.o.renderEnv.db, rows);
    for (const row of rows) {
      try {
        if (row.priority === PRIORITY.channel) {
          this.queueRendered(row, await renderChannelRow(row, this.o.renderEnv));
          continue;
        }
        const recipient = recipients.get(row.userId);
        if (!recipient || recipient.deletedAt) {
          this.record({ id: row.id, status: 'cancelled', error: 'recipient deleted' });
          this.stats.skipped++;
          continue;
        }
        if (recipient.blockedAt) {
          this.record({ id: row.id, status: 'unreachable', error: 'recipient blocked the bot' });
          this.stats.unreachable++;
          continue;
        }
        // A kind this version does not know may come from a newer one: retried like a render error.
        if (!isOutboxKind(row.kind)) throw new Error(`no renderer for outbox kind "${row.kind}"`);
        const parsed = parseOutboxPayload(row.kind, row.payload);
        if (!parsed.ok) {
          // Written by an older version or by hand: it will never parse, so it is not retried.
          this.o.logger.warn({ outboxId: row.id, kind: row.kind, error: parsed.error }, 'outbox payload does not match its kind');
          this.record({ id: row.id, status: 'failed', error: parsed.error });
          this.stats.failed++;
          continue;
        }
        const locale = recipient.locale as Locale;
        const env: RenderEnv = { ...this.o.renderEnv, recipient, locale, t: this.o.renderEnv.i18n.fixed(locale), batch };
        this.queueRendered(row, await renderRow(this.o.renderers, row.kind, row, parsed.payload, env));
      } catch (err) {
        this.logError(err, 'could not render outbox row');
        this.record({ id: row.id, status: row.attempts < this.o.maxAttempts ? 'pending' : 'failed', error: `render: ${describeError(err).message}`, notBefore: new Date(this.o.clock.now().getTime() + 5_000) });
      }
    }
  }

  /** Queues a rendered row for sending, or records why it is not sent (now). */
  private queueRendered(row: OutboxRow, result: RenderResult): void {
    if ('send' in result) {
      this.queue.push({ row, call: result.send, afterSend: result.afterSend, afterFailure: result.afterFailure });
    } else if ('skip' in result) {
      this.record({ id: row.id, status: result.skip, error: result.reason });
      this.stats.skipped++;
    } else {
      this.record({ id: row.id, status: 'pending', notBefore: result.reschedule, error: result.reason });
      this.stats.skipped++;
    }
  }

  /**
   * Results are written within ~20 ms (or at once when 100 are waiting): a message Telegram accepted
   * but we have not recorded yet would be sent again after a crash, so this window stays small.
   */
  private record(outcome: Outcome): void {
    this.outcomes.push(outcome);
    if (this.outcomes.length >= 100) {
      void this.flush();
    } else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        void this.flush();
      }, 20);
    }
  }

  /** Writes results in one statement; a failure keeps them for the next try. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.outcomes.length === 0) return;
    const batch = this.outcomes.splice(0);
    this.flushing = (async () => {
      try {
        const values = sql.join(
          batch.map(
            (o) =>
              sql`(${o.id}::bigint, ${o.status}::text, ${o.sentAt ?? null}::timestamptz, ${o.messageId ?? null}::int, ${o.error?.slice(0, 500) ?? null}::text, ${o.notBefore ?? null}::timestamptz)`,
          ),
          sql`, `,
        );
        await this.o.db.execute(sql`
          update ${outbox} as o set
            status = v.status,
            sent_at = coalesce(v.sent_at, o.sent_at),
            message_id = coalesce(v.message_id, o.message_id),
            error = v.error,
            not_before = coalesce(v.not_before, o.not_before),
            lease_until = null,
            lease_owner = null
          from (values ${values}) as v(id, status, sent_at, message_id, error, not_before)
          where o.id = v.id and o.status = 'sending'`);
        for (const o of batch) this.held.delete(o.id);
      } catch (err) {
        this.outcomes.unshift(...batch);
        this.logError(err, 'could not record delivery results; will retry');
        await new Promise((r) => setTimeout(r, 500));
      } finally {
        this.flushing = undefined;
      }
    })();
    await this.flushing;
  }

  /** Gives rows back without counting an attempt (they were never dispatched). */
  private async release(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.o.db
      .update(outbox)
      .set({ status: 'pending', leaseUntil: null, leaseOwner: null, attempts: sql`greatest(${outbox.attempts} - 1, 0)` })
      .where(and(inArray(outbox.id, ids), eq(outbox.status, 'sending')));
    for (const id of ids) this.held.delete(id);
  }

  private async releaseQueue(): Promise<void> {
    await this.giveBack(this.queue.splice(0).map((j) => j.row));
  }

  /**
   * Every heartbeat: announce this process, renew our leases, take over rows whose lease ran out (their
   * process died), adopt a pause another process saw, and recompute our share of the rate.
   */
  private async heartbeat(): Promise<void> {
    const now = this.o.clock.now();
    const db = this.o.db;
    await db
      .insert(deliveryWorkers)
      .values({ id: this.id, startedAt: now, heartbeatAt: now })
      .onConflictDoUpdate({ target: deliveryWorkers.id, set: { heartbeatAt: now } });
    // Rows whose result is being written right now are skipped (they are done, not abandoned): waiting
    // for that statement, which locks the same rows in another order, could deadlock with it.
    if (this.held.size > 0) {
      await db
        .update(outbox)
        .set({ leaseUntil: new Date(now.getTime() + this.o.leaseMs) })
        .where(
          inArray(
            outbox.id,
            sql`(select ${outbox.id} from ${outbox} where ${inArray(outbox.id, [...this.held])} and ${outbox.status} = 'sending' and ${outbox.leaseOwner} = ${this.id} for update skip locked)`,
          ),
        );
    }
    const reclaimed = await db
      .update(outbox)
      .set({ status: 'pending', possibleDuplicate: true, leaseUntil: null, leaseOwner: null })
      .where(and(eq(outbox.status, 'sending'), lt(outbox.leaseUntil, now)))
      .returning({ id: outbox.id });
    if (reclaimed.length > 0) {
      this.o.logger.warn({ rows: reclaimed.length }, 'took over messages of a stopped process (they may arrive twice)');
      this.wake();
    }
    const stale = new Date(now.getTime() - this.o.staleMs);
    await db.delete(deliveryWorkers).where(lt(deliveryWorkers.heartbeatAt, new Date(now.getTime() - this.o.staleMs * 10)));
    const [live] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from ${deliveryWorkers} where ${deliveryWorkers.heartbeatAt} >= ${stale}`);
    this.liveWorkers = Math.max(1, live?.n ?? 1);
    const share = Math.max(1, Math.floor(this.o.rate / this.liveWorkers));
    this.governor.setRate(share, this.maxInFlightFor(share));
    const [state] = await db.select().from(deliveryState).where(eq(deliveryState.id, 1));
    if (state?.pausedUntil && state.pausedUntil > now) {
      this.governor.pauseUntil(performance.now() + (state.pausedUntil.getTime() - now.getTime()));
    }
  }

  private async sharePause(until: Date): Promise<void> {
    await this.o.db
      .insert(deliveryState)
      .values({ id: 1, pausedUntil: until, updatedAt: this.o.clock.now() })
      .onConflictDoUpdate({
        target: deliveryState.id,
        set: { pausedUntil: sql`greatest(${deliveryState.pausedUntil}, excluded.paused_until)`, updatedAt: this.o.clock.now() },
      })
      .catch((err) => this.logError(err, 'could not share the pause'));
  }

  private maxInFlightFor(rate: number): number {
    // Enough for ~300 ms per call at full rate; at least a few for low rates.
    return Math.max(4, Math.ceil(rate * 0.3));
  }

  // ------------------------------------------------------------------ waiting

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
    });
  }

  private waitForCapacity(ms: number): Promise<void> {
    // Infinity: the in-flight bound is reached; a completion wakes us.
    return this.sleep(Number.isFinite(ms) ? Math.min(ms, 250) : 250);
  }

  private logError(err: unknown, message: string): void {
    this.o.logger.error({ err: describeError(err), worker: this.id }, message);
  }
}
