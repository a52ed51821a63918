import { Composer, InlineKeyboard } from 'grammy';
import { z } from 'zod';
import { LOCALES, type Locale } from '../../config';
import type { UserRow } from '../../db/schema';
import { isSelfChosenRole, markOnboardedIfComplete, setDistrict, setLocale, setSelfChosenRole } from '../../domain/users';
import { createCallbackData, keyField } from '../../presentation/callback-data/codec';
import { registerChatCommands } from '../commands';
import { type Context, requireUser } from '../context';
import { answerStale, showScreen } from '../dialog';
import { createDistrictKeyboard, createLanguageRow } from '../../presentation/keyboards';
import { useLocale } from '../middleware/user';
import { menuButton } from '../../presentation/callback-data/menu';
import { verifyRequestData } from '../../presentation/callback-data/verification';
import { type VerificationState, verificationState } from '../../domain/verification';
import { mayAskForVerification, verificationLine } from './verification';

/** Settings buttons are stateless: an older settings message keeps working and shows current values. */
export const settingsData = createCallbackData(
  's',
  ['action', 'value'],
  z.discriminatedUnion('action', [
    z.object({ action: z.enum(['menu', 'role', 'dist', 'lang']), value: z.literal('-') }),
    z.object({ action: z.literal('setrole'), value: z.enum(['seeker', 'helper']) }),
    z.object({ action: z.literal('setdist'), value: keyField }),
    z.object({ action: z.literal('setlang'), value: z.enum(LOCALES) }),
  ]),
);

/** /settings: role, district, language (and a way to the notification settings). */
export const settingsFeature = new Composer<Context>();

settingsFeature.command('settings', async (ctx) => {
  const user = requireUser(ctx);
  const verification = await verificationState(ctx.deps.db, user);
  await ctx.reply(renderSettings(ctx, user, verification), { reply_markup: createSettingsKeyboard(ctx, user, verification) });
});

settingsFeature.callbackQuery(settingsData.filter, async (ctx) => {
  const data = settingsData.decode(ctx.callbackQuery.data);
  if (!data) return answerStale(ctx);
  const { db, clock, city, i18n, logger } = ctx.deps;
  let user = requireUser(ctx);
  const back = { label: ctx.t('common.buttons.back'), data: settingsData.encode({ action: 'menu', value: '-' }) };

  switch (data.action) {
    case 'menu': {
      await ctx.answerCallbackQuery();
      const verification = await verificationState(db, user);
      await showScreen(ctx, renderSettings(ctx, user, verification), createSettingsKeyboard(ctx, user, verification));
      return;
    }
    case 'role': {
      if (!isSelfChosenRole(user.role)) {
        await ctx.answerCallbackQuery({ text: ctx.t('settings.roleLocked'), show_alert: true });
        return;
      }
      await ctx.answerCallbackQuery();
      const keyboard = new InlineKeyboard()
        .text(ctx.t('start.needHelp'), settingsData.encode({ action: 'setrole', value: 'seeker' }))
        .row()
        .text(ctx.t('start.wantToHelp'), settingsData.encode({ action: 'setrole', value: 'helper' }))
        .row()
        .text(back.label, back.data);
      await showScreen(ctx, ctx.t('settings.chooseRole'), keyboard);
      return;
    }
    case 'dist':
      await ctx.answerCallbackQuery();
      await showScreen(
        ctx,
        ctx.t('settings.chooseDistrict'),
        createDistrictKeyboard(city, ctx.locale, (k) => settingsData.encode({ action: 'setdist', value: k }), {
          back,
          current: user.district,
        }),
      );
      return;
    case 'lang': {
      await ctx.answerCallbackQuery();
      const keyboard = createLanguageRow(new InlineKeyboard(), ctx.t, (l: Locale) => settingsData.encode({ action: 'setlang', value: l }), ctx.locale);
      await showScreen(ctx, ctx.t('language.choose'), keyboard.text(back.label, back.data));
      return;
    }
    case 'setrole':
      if (!isSelfChosenRole(user.role)) {
        await ctx.answerCallbackQuery({ text: ctx.t('settings.roleLocked'), show_alert: true });
        return;
      }
      user = await setSelfChosenRole(db, user, data.value);
      break;
    case 'setdist':
      if (!city.isArea(data.value)) return answerStale(ctx);
      user = await setDistrict(db, user.id, data.value);
      break;
    case 'setlang':
      user = await setLocale(db, user.id, data.value);
      useLocale(ctx, data.value);
      break;
  }
  user = await markOnboardedIfComplete(db, clock, user);
  ctx.user = user;
  await ctx.answerCallbackQuery({ text: ctx.t('settings.saved') });
  const verification = await verificationState(db, user);
  await showScreen(ctx, `${ctx.t('settings.saved')}\n\n${renderSettings(ctx, user, verification)}`, createSettingsKeyboard(ctx, user, verification));
  if (data.action === 'setrole' || data.action === 'setlang') {
    await registerChatCommands(ctx.api, ctx.chat!.id, user, ctx.locale, i18n, logger);
  }
});

/** The current settings as text (with where the user stands with verification, when it is known). */
export function renderSettings(ctx: Context, user: UserRow, verification?: VerificationState): string {
  const lines = [
    ctx.t('settings.title'),
    ctx.t('settings.role', { role: user.role ? ctx.t(`common.roles.${user.role}`) : ctx.t('common.notSet') }),
  ];
  if (user.organisation) lines.push(ctx.t('settings.organisation', { organisation: user.organisation }));
  lines.push(
    ctx.t('settings.district', { district: user.district ? ctx.deps.city.districtName(user.district, ctx.locale) : ctx.t('common.notSet') }),
    ctx.t('settings.language', { language: ctx.t(`common.languages.${ctx.locale}`) }),
  );
  // Only where protected categories exist: elsewhere verification means nothing.
  if (verification && ctx.deps.city.protectedCategories.length > 0) lines.push(verificationLine(ctx, verification));
  return lines.join('\n');
}

function createSettingsKeyboard(ctx: Context, user: UserRow, verification: VerificationState): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  if (isSelfChosenRole(user.role)) keyboard.text(ctx.t('settings.changeRole'), settingsData.encode({ action: 'role', value: '-' })).row();
  keyboard
    .text(ctx.t('settings.changeDistrict'), settingsData.encode({ action: 'dist', value: '-' }))
    .row()
    .text(ctx.t('settings.changeLanguage'), settingsData.encode({ action: 'lang', value: '-' }))
    .row();
  if (user.role === 'seeker' || user.role === 'helper') keyboard.text(ctx.t('menu.subscribe'), menuButton('subscribe')).row();
  if (isSelfChosenRole(user.role) && ctx.deps.city.protectedCategories.length > 0 && mayAskForVerification(verification)) {
    keyboard.text(ctx.t('verification.askButton'), verifyRequestData.encode({ action: 'ask' })).row();
  }
  return keyboard;
}
