import type { MiddlewareFn } from 'grammy';
import { type Locale } from '../../config';
import type { UserRow } from '../../db/schema';
import { upsertUser } from '../../domain/users';
import { pickLocale } from '../../i18n';
import type { Context } from '../context';

/** Answers in the language Telegram reports for the sender until their profile is read. */
export const guessLocale: MiddlewareFn<Context> = (ctx, next) => {
  const { config, i18n } = ctx.deps;
  ctx.locale = pickLocale(ctx.from?.language_code, config.DEFAULT_LOCALE);
  ctx.t = i18n.fixed(ctx.locale);
  return next();
};

/**
 * Loads (or creates) the sender's profile and switches the translator to their language. `known` is the
 * row already read for this update (the chat lease reads it with the session; null: not found).
 */
export async function applyUser(ctx: Context, known?: UserRow | null): Promise<void> {
  const from = ctx.from;
  if (!from || from.is_bot) return;
  const { config, db, clock, i18n } = ctx.deps;
  const user = await upsertUser(
    db,
    clock,
    { id: from.id, firstName: from.first_name, username: from.username },
    { locale: pickLocale(from.language_code, config.DEFAULT_LOCALE), isAdmin: config.ADMIN_TELEGRAM_IDS.includes(from.id) },
    known,
  );
  ctx.user = user;
  ctx.locale = user.locale as Locale;
  ctx.t = i18n.fixed(ctx.locale);
}

/** The sender's profile for updates the chat lease did not load it for (no private chat to lease). */
export const loadUser: MiddlewareFn<Context> = async (ctx, next) => {
  if (!ctx.user) await applyUser(ctx);
  return next();
};

/** Switches the current update to another language (after /language). */
export function useLocale(ctx: Context, locale: Locale): void {
  ctx.locale = locale;
  ctx.t = ctx.deps.i18n.fixed(locale);
  if (ctx.user) ctx.user = { ...ctx.user, locale };
}
