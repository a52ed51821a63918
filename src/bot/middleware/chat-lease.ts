import { randomUUID } from 'node:crypto';
import type { MiddlewareFn } from 'grammy';
import { describeError } from '../../logger';
import { DomainError } from '../../domain/errors';
import { type ChatState, renewSessionLease, takeChat } from '../../domain/sessions';
import type { Context } from '../context';
import type { DrizzleSessionStorage } from '../session-storage';
import { applyUser } from './user';

/** Timings of the per-chat lease; production uses the defaults. */
export interface ChatLeaseOptions {
  /** How long a lease lasts without renewal: a process that died holds a chat at most this long. */
  leaseMs: number;
  /** Renewal interval while an update is handled (three chances within one lease). */
  renewEveryMs: number;
  /**
   * How long an update waits for the chat before the person is asked to try again. Longer than a lease,
   * so that a chat left behind by a process that died is taken over, never refused.
   */
  waitMs: number;
}

export const DEFAULT_CHAT_LEASE: ChatLeaseOptions = { leaseMs: 5_000, renewEveryMs: 1_500, waitMs: 6_000 };

/**
 * Handles the updates of one chat one after another across all processes (`sequentialize` does so only
 * within one): an update first takes the chat's lease row (`session_leases`), waiting briefly while
 * another process holds it, and gives it back when it is done. Each step is one short statement on a
 * pooled connection: no transaction and no connection is held while the handler talks to Telegram.
 * The session's compare-and-set (session-storage.ts) still guards the rare case of a lease that ran out.
 *
 * Two round trips to the database frame an update: the lease together with the sender's row and the
 * chat's session (the session handed to `storage`, the sender loaded as `loadUser` would), and at the end
 * the changed session written with the lease's release (`storage.finish`). The lease and the reads are one
 * call but two statements (the database function `take_chat`, see takeChat): in a single statement the
 * reads would see the database as of the statement's start, which can be before the release (with the
 * session written) of the process that held the chat, so the session would be an older one and its write
 * refused (sessions-multiprocess.test.ts showed it).
 */
export function createChatLease(
  getKey: (ctx: Context) => string | undefined,
  storage: Pick<DrizzleSessionStorage<unknown>, 'prime' | 'finish' | 'hasPendingWrite'>,
  options: ChatLeaseOptions = DEFAULT_CHAT_LEASE,
): MiddlewareFn<Context> {
  // One owner per bot instance; within an instance, `sequentialize` already orders a chat's updates.
  const owner = randomUUID();
  return async (ctx, next) => {
    const key = getKey(ctx);
    if (key === undefined) return next();
    const { db, clock } = ctx.deps;
    const started = performance.now();
    let pause = 10;
    let state: ChatState | null;
    while (!(state = await takeChat(db, clock, key, owner, options.leaseMs, ctx.from?.id ?? 0))) {
      if (performance.now() - started >= options.waitMs) throw new DomainError('errors.sessionBusy');
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 100);
    }
    const waitedMs = Math.round(performance.now() - started);
    if (waitedMs >= 100) ctx.log.debug({ ms: waitedMs }, 'waited for the chat lease');
    let renewal: NodeJS.Timeout | undefined;
    let ok = false;
    try {
      storage.prime(key, state.session);
      await applyUser(ctx, state.user);
      renewal = setInterval(() => {
        renewSessionLease(db, clock, key, owner, options.leaseMs).then(
          (held) => {
            // The session's compare-and-set now decides whether this update's changes are kept.
            if (!held) ctx.log.warn('chat lease lost while handling an update');
          },
          (err: unknown) => ctx.log.warn({ err: describeError(err) }, 'could not renew the chat lease'),
        );
      }, options.renewEveryMs);
      await next();
      ok = true;
    } finally {
      clearInterval(renewal);
      if (ok && storage.hasPendingWrite(key)) {
        // The update's session goes out with the release; its failure is the update's.
        await storage.finish(key, owner, true);
      } else {
        // A failed release (the database went away) only delays the chat's next update until the lease
        // runs out; this instance takes its own lease back at once.
        await storage
          .finish(key, owner, false)
          .catch((err: unknown) => ctx.log.warn({ err: describeError(err) }, 'could not release the chat lease'));
      }
    }
  };
}
