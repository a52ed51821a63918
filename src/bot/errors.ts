import { BotError, GrammyError, HttpError, type ErrorHandler } from 'grammy';
import { isTransientDatabaseError } from '../db/errors';
import { DomainError } from '../domain/errors';
import { pickLocale, type TFunction } from '../i18n';
import { describeError } from '../logger';
import type { Context } from './context';

/**
 * A refusal in the user's words: the DomainError's locale key rendered with its params ({{max}},
 * {{postId}} …). Every place that shows a DomainError goes through here, so none drops the params.
 */
export function refusalText(t: TFunction, err: DomainError): string {
  return t(err.key, err.params);
}

/**
 * The one error boundary: logs the error with the update id (never the text) and answers the user
 * with a localized apology, so that no failure reaches anyone as silence. When the database is
 * unreachable the apology says "try again in a moment", and with `rethrowTransient` (webhook mode)
 * the error is passed on so that Telegram gets a 5xx and delivers the update again.
 */
export function createErrorHandler(options: { rethrowTransient: boolean; apologies?: ApologyLimiter }): ErrorHandler<Context> {
  const apologies = options.apologies ?? new ApologyLimiter();
  return async (error: BotError<Context>) => {
    const ctx = error.ctx;
    const err = error.error;
    const transient = isTransientDatabaseError(err);
    const log = ctx.log ?? ctx.deps?.logger;
    if (err instanceof DomainError) {
      // Not a failure: a refusal (limit reached, not allowed, already taken) explained to the user.
      log?.info({ key: err.key }, 'request refused');
    } else {
      log?.error(
        { err: summarise(err), update_id: ctx.update.update_id, transient },
        transient ? 'database unavailable while handling update' : 'update failed',
      );
    }
    // While the database is away, Telegram (webhook) and the user (polling) send the same request again
    // and again: one apology per person and outage is enough; a repeated button press is only answered.
    const userId = ctx.from?.id;
    if (transient && userId !== undefined && !apologies.shouldApologise(userId)) {
      if (ctx.callbackQuery) await ctx.answerCallbackQuery().catch(() => undefined);
      if (options.rethrowTransient) throw err;
      return;
    }
    try {
      const deps = ctx.deps;
      const locale = ctx.locale ?? pickLocale(ctx.from?.language_code, deps.config.DEFAULT_LOCALE);
      const text =
        err instanceof DomainError ? refusalText(deps.i18n.fixed(locale), err) : deps.i18n.t(locale, transient ? 'errors.tryAgain' : 'errors.generic');
      // A button press is answered with an alert; if the handler had already answered it, Telegram
      // refuses a second answer and the apology comes as a message instead.
      const alerted = ctx.callbackQuery
        ? await ctx.answerCallbackQuery({ text: stripTags(text), show_alert: true }).then(
            () => true,
            () => false,
          )
        : false;
      if (!alerted && (ctx.chat?.type === 'private' || ctx.callbackQuery?.message?.chat.type === 'private')) {
        await ctx.reply(text);
      }
    } catch (replyError) {
      log?.warn({ err: summarise(replyError) }, 'could not tell the user about the error');
    }
    if (transient && options.rethrowTransient) throw err;
  };
}

/**
 * Remembers, in memory, whom the bot told "try again in a moment" during the last minute. Kept without
 * the database (which is what is missing), bounded in size, and forgotten after the window.
 */
export class ApologyLimiter {
  private readonly told = new Map<number, number>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly maxEntries = 50_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True (and remembered) unless this user was apologised to within the window. */
  shouldApologise(userId: number): boolean {
    const now = this.now();
    const last = this.told.get(userId);
    if (last !== undefined && now - last < this.windowMs) return false;
    this.told.delete(userId);
    this.told.set(userId, now);
    // The map is in insertion order, oldest first: forget what is past the window, and never grow unbounded.
    for (const [id, at] of this.told) {
      if (now - at < this.windowMs && this.told.size <= this.maxEntries) break;
      this.told.delete(id);
    }
    return true;
  }

  get size(): number {
    return this.told.size;
  }
}

/** Errors logged without payloads (which may contain message texts). */
function summarise(err: unknown): Record<string, unknown> {
  if (err instanceof GrammyError) return { type: 'GrammyError', method: err.method, code: err.error_code, description: err.description };
  if (err instanceof HttpError) return { type: 'HttpError', message: err.message };
  return { ...describeError(err, { stack: true }) };
}

function stripTags(text: string): string {
  return text.replace(/<[^>]+>/g, '').slice(0, 190);
}
