import { Composer, InlineKeyboard } from 'grammy';
import { z } from 'zod';
import type { Locale } from '../../config';
import { LOCALES } from '../../config';
import type { UserRow } from '../../db/schema';
import { completeOnboarding, isSelfChosenRole, setLocale } from '../../domain/users';
import { createCallbackData, keyField } from '../../presentation/callback-data/codec';
import { parseStartPayload } from '../../presentation/callback-data/deep-link';
import { registerChatCommands } from '../commands';
import { type Context, requireUser } from '../context';
import { answerStale, endDialog, getDialog, isCurrentDialogMessage, setDialog, showScreen } from '../dialog';
import { createDistrictKeyboard, createLanguageRow } from '../../presentation/keyboards';
import { useLocale } from '../middleware/user';
import { createMainMenuKeyboard } from './menu';

/** Buttons of the /start dialog. */
export const onboardingData = createCallbackData(
  'o',
  ['action', 'value'],
  z.discriminatedUnion('action', [
    z.object({ action: z.literal('lang'), value: z.enum(LOCALES) }),
    z.object({ action: z.literal('role'), value: z.enum(['seeker', 'helper']) }),
    z.object({ action: z.literal('dist'), value: keyField }),
    z.object({ action: z.literal('back'), value: z.literal('role') }),
  ]),
);

const DIALOG = 'onboarding';
const onboardingState = z.object({ role: z.enum(['seeker', 'helper']).nullable() });

/** /start: greeting → "I need help" / "I want to help" → district → what the bot can do for this role. */
export const startFeature = new Composer<Context>();

startFeature.command('start', async (ctx) => {
  const user = requireUser(ctx);
  const link = parseStartPayload(ctx.match);
  // Staff links are handled before this feature; a post link opens the post once the user is set up
  // (browse feature), so a new user simply starts here. Anything unparseable gets a hint.
  if (link.type === 'invalid') {
    ctx.log.info('start link not usable');
    await ctx.reply(ctx.t('errors.invalidLink'));
  }
  if (user.onboardedAt) {
    await endDialog(ctx, { removeKeyboard: true });
    await ctx.reply(`${ctx.t('start.welcomeBack', { name: user.firstName ?? '' })}\n\n${renderSummary(ctx, user)}`, {
      reply_markup: createMainMenuKeyboard(ctx, user),
    });
    return;
  }
  await beginOnboarding(ctx);
});

/** Shows the first onboarding screen as a new message (also used when a dialog needs to start over). */
export async function beginOnboarding(ctx: Context): Promise<void> {
  const user = requireUser(ctx);
  if (!isSelfChosenRole(user.role)) {
    const messageId = await showDistrictStep(ctx, user, null, true);
    await setDialog(ctx, { name: DIALOG, step: 'district', messageId, data: { role: null } });
    return;
  }
  const sent = await ctx.reply(renderGreeting(ctx, user), { reply_markup: createRoleKeyboard(ctx) });
  await setDialog(ctx, { name: DIALOG, step: 'role', messageId: sent.message_id, data: { role: null } });
}

startFeature.callbackQuery(onboardingData.filter, async (ctx) => {
  const data = onboardingData.decode(ctx.callbackQuery.data);
  const dialog = getDialog(ctx, DIALOG);
  if (!data || !isCurrentDialogMessage(ctx, dialog)) return answerStale(ctx);
  const state = onboardingState.safeParse(dialog.data);
  if (!state.success) return answerStale(ctx);
  let user = requireUser(ctx);
  const { db, clock, i18n, city, logger } = ctx.deps;

  switch (data.action) {
    case 'lang': {
      user = await setLocale(db, user.id, data.value);
      useLocale(ctx, data.value);
      await ctx.answerCallbackQuery();
      if (dialog.step === 'role') await showScreen(ctx, renderGreeting(ctx, user), createRoleKeyboard(ctx));
      else await showDistrictStep(ctx, user, state.data.role, false);
      return;
    }
    case 'role': {
      await ctx.answerCallbackQuery();
      const messageId = await showDistrictStep(ctx, user, data.value, false);
      await setDialog(ctx, { ...dialog, step: 'district', messageId, data: { role: data.value } });
      return;
    }
    case 'back': {
      await ctx.answerCallbackQuery();
      await showScreen(ctx, renderGreeting(ctx, user), createRoleKeyboard(ctx));
      await setDialog(ctx, { ...dialog, step: 'role', data: { role: null } });
      return;
    }
    case 'dist': {
      if (dialog.step !== 'district' || !city.isArea(data.value)) return answerStale(ctx);
      user = await completeOnboarding(db, clock, user, { role: state.data.role, district: data.value });
      ctx.user = user;
      await endDialog(ctx);
      await ctx.answerCallbackQuery();
      await showScreen(ctx, renderSummary(ctx, user), createMainMenuKeyboard(ctx, user));
      await registerChatCommands(ctx.api, ctx.chat!.id, user.role, ctx.locale, i18n, logger);
      return;
    }
  }
});

function renderGreeting(ctx: Context, user: UserRow): string {
  return ctx.t('start.greeting', { name: user.firstName ?? '', city: ctx.deps.city.city.name[ctx.locale] });
}

function createRoleKeyboard(ctx: Context): InlineKeyboard {
  const keyboard = new InlineKeyboard()
    .text(ctx.t('start.needHelp'), onboardingData.encode({ action: 'role', value: 'seeker' }))
    .row()
    .text(ctx.t('start.wantToHelp'), onboardingData.encode({ action: 'role', value: 'helper' }))
    .row();
  return createLanguageRow(keyboard, ctx.t, (l: Locale) => onboardingData.encode({ action: 'lang', value: l }), ctx.locale);
}

async function showDistrictStep(ctx: Context, user: UserRow, role: 'seeker' | 'helper' | null, asNewMessage: boolean): Promise<number> {
  const effectiveRole = role ?? user.role;
  const key = effectiveRole === 'helper' ? 'start.districtHelper' : effectiveRole === 'seeker' ? 'start.districtSeeker' : 'start.districtStaff';
  const keyboard = createDistrictKeyboard(ctx.deps.city, ctx.locale, (k) => onboardingData.encode({ action: 'dist', value: k }), {
    back: isSelfChosenRole(user.role) ? { label: ctx.t('common.buttons.back'), data: onboardingData.encode({ action: 'back', value: 'role' }) } : undefined,
  });
  createLanguageRow(keyboard.row(), ctx.t, (l: Locale) => onboardingData.encode({ action: 'lang', value: l }), ctx.locale);
  if (asNewMessage) {
    const sent = await ctx.reply(ctx.t(key), { reply_markup: keyboard });
    return sent.message_id;
  }
  return showScreen(ctx, ctx.t(key), keyboard);
}

/** What the bot can do for this user's role. */
export function renderSummary(ctx: Context, user: UserRow): string {
  const role = user.role ?? 'seeker';
  return ctx.t(`start.summary.${role}`, {
    district: ctx.deps.city.districtName(user.district, ctx.locale),
    organisation: user.organisation ?? '',
  });
}

// Typing during onboarding: the buttons may have scrolled away, so the current step comes again.
startFeature.on('message', async (ctx, next) => {
  const dialog = getDialog(ctx, DIALOG);
  if (!dialog || ctx.message.text?.startsWith('/')) return next();
  const user = requireUser(ctx);
  const state = onboardingState.safeParse(dialog.data);
  const role = state.success ? state.data.role : null;
  await ctx.reply(ctx.t('errors.buttonsExpected'));
  if (dialog.step === 'district') {
    const messageId = await showDistrictStep(ctx, user, role, true);
    await setDialog(ctx, { ...dialog, messageId });
  } else {
    const sent = await ctx.reply(renderGreeting(ctx, user), { reply_markup: createRoleKeyboard(ctx) });
    await setDialog(ctx, { ...dialog, messageId: sent.message_id });
  }
});
