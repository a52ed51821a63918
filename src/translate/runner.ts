import { eq } from 'drizzle-orm';
import type { Clock } from '../clock';
import type { Locale } from '../config';
import type { Database } from '../db';
import { posts, relayMessages, translations, users, type TranslationJobRow } from '../db/schema';
import {
  claimTranslationJobs,
  finishTranslationJob,
  relayTextHash,
  releaseWaitingMessages,
  retryTranslationJob,
  storeTranslation,
  type TranslationSubject,
} from '../domain/translations';
import { describeError, type Logger } from '../logger';
import { detectLanguage, isTranslatable, type SourceLanguage } from './detect';
import { TranslationError, type TranslationEngine } from './engine';

export interface TranslationRunnerOptions {
  db: Database;
  clock: Clock;
  logger: Logger;
  engine: TranslationEngine;
  /** Called when messages that waited for a translation became due (wakes the delivery worker). */
  onReleased?: () => void;
  /** Jobs translated at the same time by this process (default 4). */
  concurrency?: number;
  /** A claimed job is ours this long; a process that dies gives it up after it (default 2 min). */
  leaseMs?: number;
  /** Sleep when nothing is due (kick() cuts it short; default 1 s). */
  idleMs?: number;
  /** Tries before a job is given up (default 8, over about 8 minutes). */
  maxAttempts?: number;
}

/** What one job came to. */
type Outcome = { status: 'done' } | { status: 'retry'; error: string; circuit: boolean };

/**
 * The translation job of every process: claims due jobs (SKIP LOCKED under a lease), detects the
 * language, asks the engine for each missing target, stores what it got, and then lets the messages
 * that waited for it go (and the edits of those that did not wait). A failing engine makes the job retry
 * with backoff (after the circuit's cooldown while it is open); after `maxAttempts` it is given up and
 * the messages stay in their original language.
 */
export class TranslationRunner {
  private readonly o: Required<Omit<TranslationRunnerOptions, 'onReleased'>> & Pick<TranslationRunnerOptions, 'onReleased'>;
  private running = false;
  private loop?: Promise<void>;
  private wakeUp?: () => void;

  constructor(options: TranslationRunnerOptions) {
    this.o = { concurrency: 4, leaseMs: 120_000, idleMs: 1_000, maxAttempts: 8, ...options };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    await this.loop;
  }

  /** A job was just queued or a message waits: look now instead of after the idle sleep. */
  kick(): void {
    this.wakeUp?.();
  }

  /** Works off every job that is due now (tests and benchmarks); returns how many were handled. */
  async runDue(): Promise<number> {
    let handled = 0;
    for (;;) {
      const jobs = await claimTranslationJobs(this.o.db, this.o.clock, this.o.concurrency, this.o.leaseMs);
      if (jobs.length === 0) return handled;
      await Promise.all(jobs.map((job) => this.handle(job)));
      handled += jobs.length;
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const handled = await this.runDue();
        if (handled === 0) await this.sleep(this.o.idleMs);
      } catch (err) {
        this.o.logger.error({ err: describeError(err) }, 'translation job loop error; retrying');
        await this.sleep(1_000);
      }
    }
  }

  private async handle(job: TranslationJobRow): Promise<void> {
    const started = performance.now();
    const subject: TranslationSubject = job.postId !== null ? { postId: job.postId } : { relayMessageId: job.relayMessageId! };
    let outcome: Outcome;
    try {
      outcome = await this.translate(job, subject);
    } catch (err) {
      outcome = { status: 'retry', error: `job: ${describeError(err).message}`, circuit: false };
    }
    const { db, clock, logger } = this.o;
    try {
      if (outcome.status === 'done') {
        await finishTranslationJob(db, clock, job.id, 'done');
      } else if (job.attempts >= this.o.maxAttempts) {
        await finishTranslationJob(db, clock, job.id, 'failed', outcome.error);
        logger.warn({ jobId: job.id, ...subject, attempts: job.attempts, error: outcome.error }, 'translation given up; messages stay in their original language');
      } else {
        // While the circuit is open the engine is known to be down: no point in asking before it may be back.
        const backoff = Math.max(outcome.circuit ? 10_000 : 0, Math.min(300_000, 2_000 * 2 ** Math.max(0, job.attempts - 1)));
        await retryTranslationJob(db, job.id, new Date(clock.now().getTime() + backoff), outcome.error);
        logger.info({ jobId: job.id, ...subject, attempt: job.attempts, retryInMs: backoff, error: outcome.error }, 'translation failed; will retry');
      }
      // What waited for this job goes now: translated where it worked, with the original (and an edit
      // later, while the job is still pending) where it did not.
      const released = await releaseWaitingMessages(db, clock, subject);
      if (released > 0) this.o.onReleased?.();
      logger.debug({ jobId: job.id, ...subject, status: outcome.status, released, ms: Math.round(performance.now() - started) }, 'translation job');
    } catch (err) {
      logger.error({ err: describeError(err), jobId: job.id }, 'could not record a translation job');
    }
  }

  /** Makes the missing translations of one job; 'done' when nothing is left to try. */
  private async translate(job: TranslationJobRow, subject: TranslationSubject): Promise<Outcome> {
    const { db, clock, engine } = this.o;
    const original = await this.original(subject);
    if (!original) return { status: 'done' };
    const existing = await db
      .select({ target: translations.target, sourceHash: translations.sourceHash })
      .from(translations)
      .where(subject.postId !== undefined ? eq(translations.postId, subject.postId) : eq(translations.relayMessageId, subject.relayMessageId));
    const have = new Set(existing.filter((t) => t.sourceHash === original.hash).map((t) => t.target));
    const missing = job.targets.filter((target) => target !== original.source && !have.has(target));
    const errors: string[] = [];
    let circuit = false;
    for (const target of missing) {
      try {
        const text = await engine.translate(original.text, original.source, target as SourceLanguage);
        await storeTranslation(db, clock, subject, { source: original.source, target, sourceHash: original.hash, text, engine: engine.name });
      } catch (err) {
        if (!(err instanceof TranslationError)) throw err;
        circuit ||= err.kind === 'circuit';
        errors.push(`${target}: ${err.message}`);
      }
    }
    return errors.length === 0 ? { status: 'done' } : { status: 'retry', error: errors.join('; '), circuit };
  }

  /** The text to translate, its language and hash; null when there is nothing (erased, not translatable). */
  private async original(subject: TranslationSubject): Promise<{ text: string; source: SourceLanguage; hash: string } | null> {
    const { db } = this.o;
    if (subject.postId !== undefined) {
      const [post] = await db.select({ text: posts.text, language: posts.language, hash: posts.textHash }).from(posts).where(eq(posts.id, subject.postId));
      if (!post?.text || !post.hash) return null;
      const detection = detectLanguage(post.text, post.language as Locale);
      if (!isTranslatable(detection)) return null;
      return { text: post.text, source: post.language as SourceLanguage, hash: post.hash };
    }
    const [message] = await db
      .select({ text: relayMessages.text, senderLocale: users.locale })
      .from(relayMessages)
      .innerJoin(users, eq(users.id, relayMessages.senderId))
      .where(eq(relayMessages.id, subject.relayMessageId));
    if (!message?.text) return null;
    const detection = detectLanguage(message.text, message.senderLocale as Locale);
    if (!isTranslatable(detection)) return null;
    return { text: message.text, source: detection.language, hash: relayTextHash(message.text) };
  }

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
}
