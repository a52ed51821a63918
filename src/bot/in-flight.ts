import type { MiddlewareFn } from 'grammy';

/** Counts updates being handled, so that shutdown can let them finish before closing the database. */
export class InFlightUpdates {
  private count = 0;
  private waiters: (() => void)[] = [];

  readonly middleware: MiddlewareFn = async (_ctx, next) => {
    this.count++;
    try {
      await next();
    } finally {
      this.count--;
      if (this.count === 0) {
        const waiters = this.waiters;
        this.waiters = [];
        waiters.forEach((w) => w());
      }
    }
  };

  get size(): number {
    return this.count;
  }

  /** Resolves true when no update is in flight, or false after the timeout. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
