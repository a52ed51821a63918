import { Composer, InlineKeyboard } from 'grammy';
import { z } from 'zod';
import { LOCALES, type Locale } from '../../config';
import { setLocale } from '../../domain/users';
import { createCallbackData } from '../../presentation/callback-data/codec';
import { registerChatCommands } from '../commands';
import { type Context, requireUser } from '../context';
import { answerStale, showScreen } from '../dialog';
import { createLanguageRow } from '../../presentation/keyboards';
import { useLocale } from '../middleware/user';

/** Buttons of /language. */
export const languageData = createCallbackData('l', ['locale'], z.object({ locale: z.enum(LOCALES) }));

/** /language: change the interface language at any time; the command menu follows. */
export const languageFeature = new Composer<Context>();

languageFeature.command('language', async (ctx) => {
  const keyboard = createLanguageRow(new InlineKeyboard(), ctx.t, (l: Locale) => languageData.encode({ locale: l }), ctx.locale);
  await ctx.reply(ctx.t('language.choose'), { reply_markup: keyboard });
});

languageFeature.callbackQuery(languageData.filter, async (ctx) => {
  const data = languageData.decode(ctx.callbackQuery.data);
  if (!data) return answerStale(ctx);
  const user = await setLocale(ctx.deps.db, requireUser(ctx).id, data.locale);
  useLocale(ctx, data.locale);
  await ctx.answerCallbackQuery();
  await showScreen(ctx, ctx.t('language.changed'));
  await registerChatCommands(ctx.api, ctx.chat!.id, user, data.locale, ctx.deps.i18n, ctx.deps.logger);
});
