import type { Clock } from './clock';
import type { Database } from './db';
import { runSweep, type Sweep } from './domain/sweeps';
import { describeError, type Logger } from './logger';

/** A named periodic job and how often it runs. */
export type ScheduledSweep = {
  name: string;
  everyMs: number;
} & (
  | {
      /** Runs in a transaction that holds the sweep's advisory lock: one process at a time. */
      sweep: Sweep;
    }
  | {
      /**
       * Runs without the lock, in every process at once: it claims its work item by item (`FOR UPDATE SKIP
       * LOCKED`), so that processes share the work and nothing is done twice (the wave job).
       */
      claims: (db: Database, clock: Clock) => Promise<number>;
    }
);

/**
 * Runs the sweeps periodically in every process; each run takes an advisory lock so that two processes
 * never run the same sweep at once, and each sweep is idempotent. State lives in the database, so a
 * restart loses nothing: the next run picks up what is due.
 */
export class Scheduler {
  private timers: NodeJS.Timeout[] = [];
  private running = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly sweeps: ScheduledSweep[],
  ) {}

  start(): void {
    for (const s of this.sweeps) {
      const tick = () => {
        if (this.stopped) return;
        const task = this.runOne(s).finally(() => this.running.delete(task));
        this.running.add(task);
      };
      // A small random offset spreads processes that start together.
      const first = setTimeout(tick, 1_000 + Math.floor(Math.random() * 2_000));
      this.timers.push(first, setInterval(tick, s.everyMs));
    }
  }

  /** Runs every sweep once now (tests, and `now` after a start). */
  async runAll(): Promise<Record<string, number | null>> {
    const results: Record<string, number | null> = {};
    for (const s of this.sweeps) results[s.name] = await this.runOne(s);
    return results;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.forEach((t) => clearTimeout(t));
    this.timers = [];
    await Promise.allSettled([...this.running]);
  }

  private async runOne(s: ScheduledSweep): Promise<number | null> {
    try {
      const started = Date.now();
      const n = 'claims' in s ? await s.claims(this.db, this.clock) : await runSweep(this.db, this.clock, s.name, s.sweep);
      if (n) this.logger.info({ sweep: s.name, n, ms: Date.now() - started }, 'sweep done');
      return n;
    } catch (err) {
      this.logger.error({ sweep: s.name, err: describeError(err) }, 'sweep failed');
      return null;
    }
  }
}
