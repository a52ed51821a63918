import type { MiddlewareFn } from 'grammy';
import { type Locale } from '../../config';
import { upsertUser } from '../../domain/users';
import { pickLocale } from '../../i18n';
import type { Context } from '../context';

/** Loads (or creates) the sender's profile and switches the translator to their language. */
export const loadUser: MiddlewareFn<Context> = async (ctx, next) => {
  const from = ctx.from;
  if (!from || from.is_bot) return next();
  const { config, db, clock, i18n } = ctx.deps;
  const guess = pickLocale(from.language_code, config.DEFAULT_LOCALE);
  ctx.locale = guess;
  ctx.t = i18n.fixed(guess);
  const user = await upsertUser(
    db,
    clock,
    { id: from.id, firstName: from.first_name, username: from.username },
    { locale: guess, isAdmin: config.ADMIN_TELEGRAM_IDS.includes(from.id) },
  );
  ctx.user = user;
  ctx.locale = user.locale as Locale;
  ctx.t = i18n.fixed(ctx.locale);
  return next();
};

/** Switches the current update to another language (after /language). */
export function useLocale(ctx: Context, locale: Locale): void {
  ctx.locale = locale;
  ctx.t = ctx.deps.i18n.fixed(locale);
  if (ctx.user) ctx.user = { ...ctx.user, locale };
}
