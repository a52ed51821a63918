import { limit } from '@grammyjs/ratelimiter';
import type { MiddlewareFn } from 'grammy';
import { pickLocale } from '../../i18n';
import type { Context } from '../context';

/** Updates one user may cause within the time frame; more are dropped. */
export const DEFAULT_USER_RATE_LIMIT = { limit: 6, timeFrameMs: 3_000 };
/** Someone who keeps flooding is warned at most this often. */
const WARN_INTERVAL_MS = 60_000;

/**
 * Per-user flood protection with @grammyjs/ratelimiter: beyond 6 updates in 3 seconds a user's updates
 * are dropped (other users are unaffected), and they are told once, in their language, to slow down.
 */
export function createRateLimiter(options = DEFAULT_USER_RATE_LIMIT, now: () => number = Date.now): MiddlewareFn<Context> {
  const warnedAt = new Map<number, number>();
  return limit<Context, never>({
    timeFrame: options.timeFrameMs,
    limit: options.limit,
    keyGenerator: (ctx) => (ctx.from && ctx.chat?.type === 'private' ? String(ctx.from.id) : undefined),
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the limiter returns this promise from its middleware (so grammY awaits it); only its type says void
    onLimitExceeded: async (ctx) => {
      const id = ctx.from?.id;
      if (id === undefined) return;
      const last = warnedAt.get(id) ?? -Infinity;
      const t = now();
      if (t - last < WARN_INTERVAL_MS) return;
      warnedAt.set(id, t);
      if (warnedAt.size > 10_000) warnedAt.clear();
      ctx.log.info({ tg_user: id }, 'rate limit exceeded');
      const locale = pickLocale(ctx.from?.language_code, ctx.deps.config.DEFAULT_LOCALE);
      await ctx.reply(ctx.deps.i18n.t(locale, 'errors.tooFast'));
    },
  });
}
