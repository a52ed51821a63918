import type { MiddlewareFn } from 'grammy';
import { pickLocale } from '../../i18n';
import type { Context, Deps } from '../context';

/** Puts the dependencies and a child logger (update id, sender id; never texts) on every context. */
export function injectDeps(deps: Deps): MiddlewareFn<Context> {
  return (ctx, next) => {
    ctx.deps = deps;
    ctx.log = deps.logger.child({ update_id: ctx.update.update_id, tg_user: ctx.from?.id });
    // Until the user is loaded, the sender's Telegram language is the best guess for any answer.
    ctx.locale = pickLocale(ctx.from?.language_code, deps.config.DEFAULT_LOCALE);
    ctx.t = deps.i18n.fixed(ctx.locale);
    return next();
  };
}
