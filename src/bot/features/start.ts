import { Composer, InlineKeyboard } from 'grammy';
import { z } from 'zod';
import type { Locale } from '../../config';
import { LOCALES } from '../../config';
import { WHOLE_CITY } from '../../city';
import type { UserRow } from '../../db/schema';
import { completePosterOnboarding, type PosterOrigin } from '../../domain/posters';
import { completeOnboarding, isSelfChosenRole, setLocale } from '../../domain/users';
import { createCallbackData, keyField } from '../../presentation/callback-data/codec';
import { type DeepLink, parseStartPayload } from '../../presentation/callback-data/deep-link';
import { registerChatCommands } from '../commands';
import { type Context, requireUser } from '../context';
import { answerStale, defineDialog, endDialog, showScreen, underHint } from '../dialog';
import { createDistrictKeyboard, createLanguageRow } from '../../presentation/keyboards';
import { useLocale } from '../middleware/user';
import { showPost } from './browse';
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

/** Where a poster's QR code sent the person: its district becomes their home district, its language theirs. */
const posterOrigin = z.object({ district: keyField, locale: z.enum(LOCALES) });
/** `postId`: the post a card's link (t.me/<bot>?start=post_<id>) opened, shown once onboarding is done. */
const onboardingState = z.object({ role: z.enum(['seeker', 'helper']).nullable(), poster: posterOrigin.optional(), postId: z.number().int().positive().max(2_147_483_647).optional() });
type OnboardingState = z.output<typeof onboardingState>;
const steps = z.enum(['role', 'district']);
type Step = z.output<typeof steps>;
/** The /start dialog: the role (unless staff), then the district. */
const onboarding = defineDialog({ name: 'onboarding', steps, data: onboardingState });

/**
 * /start: greeting → "I need help" / "I want to help" → district → what the bot can do for this role.
 * From a poster's QR code the language and the district are chosen already: the role is the only tap.
 */
export const startFeature = new Composer<Context>();

startFeature.command('start', async (ctx) => {
  const user = requireUser(ctx);
  const link = parseStartPayload(ctx.match);
  // Staff links are handled before this feature; a post link opens the post at once for someone set up
  // (browse feature), and for a newcomer once onboarding is done. Anything unparseable gets a hint.
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
  await beginOnboarding(ctx, await posterOriginOf(ctx, link), link.type === 'post' ? link.postId : undefined);
});

/**
 * The poster a link comes from, with the person's language switched to the poster's. A district the city
 * does not know (an old poster, a forged link) means ordinary onboarding.
 */
async function posterOriginOf(ctx: Context, link: DeepLink): Promise<PosterOrigin | undefined> {
  if (link.type !== 'poster') return undefined;
  const district = link.district ?? WHOLE_CITY;
  if (!ctx.deps.city.isArea(district)) {
    ctx.log.info('poster link names an unknown district');
    return undefined;
  }
  if (ctx.locale !== link.locale) {
    ctx.user = await setLocale(ctx.deps.db, requireUser(ctx).id, link.locale);
    useLocale(ctx, link.locale);
  }
  return { district, locale: link.locale };
}

/**
 * Shows the first onboarding screen as a new message (also used when a dialog needs to start over).
 * With a poster's origin the district step is skipped; staff, who choose no role, are done at once.
 * `postId` (a card's link) is kept through onboarding and the post shown at its end.
 */
export async function beginOnboarding(ctx: Context, poster?: PosterOrigin, postId?: number): Promise<void> {
  const user = requireUser(ctx);
  if (isSelfChosenRole(user.role)) return showStep(ctx, user, 'role', { role: null, poster, postId }, true);
  if (poster) return finishFromPoster(ctx, user, null, poster);
  await showStep(ctx, user, 'district', { role: null, postId }, true);
}

/** Onboarding is done: the post whose card brought the person here, or what is open instead if it closed. */
async function showOpenedPost(ctx: Context, user: UserRow, postId: number | undefined): Promise<void> {
  if (postId === undefined) return;
  ctx.log.info({ postId }, 'onboarded from a post link: showing the post');
  await showPost(ctx, postId, { text: ctx.t('start.postClosed'), keyboard: createMainMenuKeyboard(ctx, user) });
}

/** Onboarding from a poster is complete: the poster's district, the start counted once per person. */
async function finishFromPoster(ctx: Context, user: UserRow, role: 'seeker' | 'helper' | null, poster: PosterOrigin): Promise<void> {
  const { db, clock, i18n, logger } = ctx.deps;
  const done = await completePosterOnboarding(db, clock, user, role, poster);
  ctx.user = done.user;
  ctx.log.info({ district: poster.district, locale: poster.locale, counted: done.counted }, 'onboarded from a poster');
  await onboarding.end(ctx);
  await showScreen(ctx, renderSummary(ctx, done.user), createMainMenuKeyboard(ctx, done.user));
  await registerChatCommands(ctx.api, ctx.chat!.id, done.user, ctx.locale, i18n, logger);
}

startFeature.callbackQuery(onboardingData.filter, async (ctx) => {
  const data = onboardingData.decode(ctx.callbackQuery.data);
  const dialog = onboarding.forButton(ctx);
  if (!data || !dialog) return answerStale(ctx);
  let user = requireUser(ctx);
  const { db, clock, i18n, city, logger } = ctx.deps;

  switch (data.action) {
    case 'lang': {
      user = await setLocale(db, user.id, data.value);
      useLocale(ctx, data.value);
      await ctx.answerCallbackQuery();
      return showStep(ctx, user, dialog.step, dialog.data, false);
    }
    case 'role':
      await ctx.answerCallbackQuery();
      if (dialog.data.poster) return finishFromPoster(ctx, user, data.value, dialog.data.poster);
      return showStep(ctx, user, 'district', { ...dialog.data, role: data.value }, false);
    case 'back':
      await ctx.answerCallbackQuery();
      return showStep(ctx, user, 'role', { ...dialog.data, role: null }, false);
    case 'dist': {
      if (dialog.step !== 'district' || !city.isArea(data.value)) return answerStale(ctx);
      user = await completeOnboarding(db, clock, user, { role: dialog.data.role, district: data.value });
      ctx.user = user;
      await onboarding.end(ctx);
      await ctx.answerCallbackQuery();
      await showScreen(ctx, renderSummary(ctx, user), createMainMenuKeyboard(ctx, user));
      await registerChatCommands(ctx.api, ctx.chat!.id, user, ctx.locale, i18n, logger);
      await showOpenedPost(ctx, user, dialog.data.postId);
      return;
    }
  }
});

function renderGreeting(ctx: Context, user: UserRow, state: OnboardingState): string {
  const greeting = ctx.t('start.greeting', { name: user.firstName ?? '', city: ctx.deps.city.city.name[ctx.locale] });
  const { poster, postId } = state;
  if (postId !== undefined) return `${greeting}\n\n${ctx.t('start.fromCard', { id: postId })}`;
  if (!poster) return greeting;
  return `${greeting}

${ctx.t('start.fromPoster', { district: ctx.deps.city.districtName(poster.district, ctx.locale) })}`;
}

function createRoleKeyboard(ctx: Context): InlineKeyboard {
  const keyboard = new InlineKeyboard()
    .text(ctx.t('start.needHelp'), onboardingData.encode({ action: 'role', value: 'seeker' }))
    .row()
    .text(ctx.t('start.wantToHelp'), onboardingData.encode({ action: 'role', value: 'helper' }))
    .row();
  return createLanguageRow(keyboard, ctx.t, (l: Locale) => onboardingData.encode({ action: 'lang', value: l }), ctx.locale);
}

/**
 * Shows an onboarding step and remembers it: in place for button presses, as a new message at the
 * start or after the user typed something.
 */
async function showStep(ctx: Context, user: UserRow, step: Step, state: OnboardingState, asNewMessage: boolean, lead?: string): Promise<void> {
  const { text: stepText, keyboard } = screens[step](ctx, user, state);
  const text = underHint(lead, stepText);
  const messageId = asNewMessage ? (await ctx.reply(text, { reply_markup: keyboard })).message_id : await showScreen(ctx, text, keyboard);
  await onboarding.remember(ctx, step, state, messageId);
}

/** Each step's screen; a step without one does not compile. */
const screens: Record<Step, (ctx: Context, user: UserRow, state: OnboardingState) => { text: string; keyboard: InlineKeyboard }> = {
  role: (ctx, user, state) => ({ text: renderGreeting(ctx, user, state), keyboard: createRoleKeyboard(ctx) }),
  district: (ctx, user, state) => ({ text: districtText(ctx, user, state), keyboard: createDistrictStepKeyboard(ctx, user) }),
};

function districtText(ctx: Context, user: UserRow, state: OnboardingState): string {
  const effectiveRole = state.role ?? user.role;
  const text = ctx.t(effectiveRole === 'helper' ? 'start.districtHelper' : effectiveRole === 'seeker' ? 'start.districtSeeker' : 'start.districtStaff');
  return state.postId === undefined ? text : `${text}\n\n${ctx.t('start.fromCard', { id: state.postId })}`;
}

function createDistrictStepKeyboard(ctx: Context, user: UserRow): InlineKeyboard {
  const keyboard = createDistrictKeyboard(ctx.deps.city, ctx.locale, (k) => onboardingData.encode({ action: 'dist', value: k }), {
    back: isSelfChosenRole(user.role) ? { label: ctx.t('common.buttons.back'), data: onboardingData.encode({ action: 'back', value: 'role' }) } : undefined,
  });
  return createLanguageRow(keyboard.row(), ctx.t, (l: Locale) => onboardingData.encode({ action: 'lang', value: l }), ctx.locale);
}

/** What the bot can do for this user's role. */
export function renderSummary(ctx: Context, user: UserRow): string {
  const role = user.role ?? 'seeker';
  return ctx.t(`start.summary.${role}`, {
    district: ctx.deps.city.districtName(user.district, ctx.locale),
    organisation: user.organisation ?? '',
  });
}

// Typing during onboarding: the buttons may have scrolled away, so the current step comes again, in one
// message under the hint.
startFeature.on('message', async (ctx, next) => {
  const dialog = onboarding.current(ctx);
  if (!dialog || ctx.message.text?.startsWith('/')) return next();
  await showStep(ctx, requireUser(ctx), dialog.step, dialog.data, true, ctx.t('errors.buttonsExpected'));
});
