import { BotError, GrammyError, HttpError, type ErrorHandler } from 'grammy';
import { isTransientDatabaseError } from '../db/errors';
import { DomainError } from '../domain/errors';
import { pickLocale } from '../i18n';
import { describeError } from '../logger';
import type { Context } from './context';

/** Refusals with a locale key; see DomainError. */
export { DomainError as UserFacingError };

/**
 * The one error boundary: logs the error with the update id (never the text) and answers the user
 * with a localized apology, so that no failure reaches anyone as silence. When the database is
 * unreachable the apology says "try again in a moment", and with `rethrowTransient` (webhook mode)
 * the error is passed on so that Telegram gets a 5xx and delivers the update again.
 */
export function createErrorHandler(options: { rethrowTransient: boolean }): ErrorHandler<Context> {
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
    try {
      const deps = ctx.deps;
      const locale = ctx.locale ?? pickLocale(ctx.from?.language_code, deps.config.DEFAULT_LOCALE);
      const key =
        err instanceof DomainError ? err.key : transient ? 'errors.tryAgain' : 'errors.generic';
      const text = deps.i18n.t(locale, key, err instanceof DomainError ? err.params : undefined);
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

/** Errors logged without payloads (which may contain message texts). */
function summarise(err: unknown): Record<string, unknown> {
  if (err instanceof GrammyError) return { type: 'GrammyError', method: err.method, code: err.error_code, description: err.description };
  if (err instanceof HttpError) return { type: 'HttpError', message: err.message };
  return { ...describeError(err, { stack: true }) };
}

function stripTags(text: string): string {
  return text.replace(/<[^>]+>/g, '').slice(0, 190);
}
