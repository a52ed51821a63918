import { Composer, InlineKeyboard } from 'grammy';
import { z } from 'zod';
import { WHOLE_CITY } from '../../city';
import type { PostKind, UserRow } from '../../db/schema';
import { getSubscriptionSets, isPaused, replaceSubscriptions, setDailyCap, setNotificationsPaused, setQuietHours, type SubscriptionSets } from '../../domain/subscriptions';
import { findUserById } from '../../domain/users';
import { effectiveQuietHours } from '../../domain/time';
import { createCallbackData, keyField } from '../../presentation/callback-data/codec';
import { type Context, requireUser } from '../context';
import { answerStale, defineDialog, showScreen } from '../dialog';
import { createCategoryKeyboard, createDistrictKeyboard } from '../../presentation/keyboards';
import { formatDate, formatMinutes } from '../../presentation/format';
import { menuData } from '../../presentation/callback-data/menu';

/** Daily caps a user can choose; `0` stands for the configured default. */
const CAPS = [5, 10, 20, 50] as const;
/** Quiet-hour presets (minutes after midnight); `def` is the configured default, `off` none. */
const QUIET_PRESETS: Record<string, { start: number; end: number } | null> = {
  q2207: { start: 22 * 60, end: 7 * 60 },
  q2108: { start: 21 * 60, end: 8 * 60 },
  q2306: { start: 23 * 60, end: 6 * 60 },
  off: { start: 0, end: 0 },
};

/** Buttons of /subscribe. */
export const subscribeData = createCallbackData(
  'sb',
  ['action', 'value'],
  z.discriminatedUnion('action', [
    z.object({ action: z.enum(['home', 'cats', 'dists', 'pause', 'resume', 'cap', 'quiet', 'done', 'allc', 'nonec']), value: z.literal('-') }),
    z.object({ action: z.enum(['tc', 'td']), value: keyField }),
    z.object({ action: z.literal('setcap'), value: z.enum(['def', ...CAPS.map(String)] as [string, ...string[]]) }),
    z.object({ action: z.literal('setq'), value: z.enum(['def', ...Object.keys(QUIET_PRESETS)] as [string, ...string[]]) }),
  ]),
);

const setsSchema = z.object({ kind: z.enum(['need', 'offer']), categories: z.array(z.string()), districts: z.array(z.string()) });
/** The selection while /subscribe is open; the step names the screen shown (none is read back). */
const screens = z.enum(['overview', 'cats', 'allc', 'nonec', 'tc', 'dists', 'td', 'cap', 'quiet']);
const subscribeDialog = defineDialog({ name: 'subscribe', steps: screens, data: setsSchema });

/** Which posts a user hears about: helpers (and staff) needs, seekers offers. */
export function subscriptionKind(user: UserRow): PostKind {
  return user.role === 'seeker' || user.role === null ? 'offer' : 'need';
}

/** /subscribe: categories × districts to hear about, pause/resume, daily cap, quiet hours. */
export const subscribeFeature = new Composer<Context>();

/** What the user hears about now; no district stored yet means their own (or the whole city). */
async function storedSets(ctx: Context, user: UserRow): Promise<SubscriptionSets & { kind: PostKind }> {
  const kind = subscriptionKind(user);
  const stored = await getSubscriptionSets(ctx.deps.db, user.id, kind);
  return { kind, categories: stored.categories, districts: stored.districts.length > 0 ? stored.districts : [user.district ?? WHOLE_CITY] };
}

async function open(ctx: Context, asNewMessage: boolean): Promise<void> {
  const user = requireUser(ctx);
  const sets = await storedSets(ctx, user);
  const text = renderOverview(ctx, user, sets);
  const keyboard = overviewKeyboard(ctx, user);
  const messageId = asNewMessage ? (await ctx.reply(text, { reply_markup: keyboard })).message_id : await showScreen(ctx, text, keyboard);
  await subscribeDialog.remember(ctx, 'overview', sets, messageId);
}

subscribeFeature.command('subscribe', (ctx) => open(ctx, true));
subscribeFeature.callbackQuery(menuData.filter, async (ctx, next) => {
  if (menuData.decode(ctx.callbackQuery.data)?.action !== 'subscribe') return next();
  await ctx.answerCallbackQuery();
  return open(ctx, true);
});

function renderOverview(ctx: Context, user: UserRow, sets: SubscriptionSets & { kind: PostKind }): string {
  const { city, config } = ctx.deps;
  const names = (keys: string[], name: (k: string) => string) => (keys.length === 0 ? ctx.t('subscribe.none') : keys.map(name).join(', '));
  const quiet = effectiveQuietHours(user, config.QUIET_HOURS);
  const lines = [
    ctx.t(`subscribe.title.${sets.kind}`),
    '',
    ctx.t('subscribe.categories', { list: names(sets.categories, (k) => city.categoryName(k, ctx.locale)) }),
    ctx.t('subscribe.districts', { list: names(sets.districts, (k) => city.districtName(k, ctx.locale)) }),
    user.notificationsPaused
      ? ctx.t('subscribe.paused')
      : isPaused(user, ctx.deps.clock.now())
        ? ctx.t('subscribe.pausedUntil', { date: formatDate(user.pausedUntil!, ctx.locale, city.timezone) })
        : ctx.t('subscribe.active'),
    ctx.t('subscribe.cap', { count: user.dailyCap ?? config.DAILY_NOTIFICATION_CAP }),
    quiet ? ctx.t('subscribe.quiet', { from: formatMinutes(quiet.start), to: formatMinutes(quiet.end) }) : ctx.t('subscribe.noQuiet'),
  ];
  if (sets.categories.length === 0) lines.push('', ctx.t(`subscribe.hintCategories.${sets.kind}`));
  else if (sets.districts.length === 0) lines.push('', ctx.t('subscribe.hintDistricts'));
  return lines.join('\n');
}

function overviewKeyboard(ctx: Context, user: UserRow): InlineKeyboard {
  const e = (action: 'cats' | 'dists' | 'pause' | 'resume' | 'cap' | 'quiet' | 'done') => subscribeData.encode({ action, value: '-' });
  const paused = isPaused(user, ctx.deps.clock.now());
  return new InlineKeyboard()
    .text(ctx.t('subscribe.chooseCategories'), e('cats'))
    .text(ctx.t('subscribe.chooseDistricts'), e('dists'))
    .row()
    .text(ctx.t(paused ? 'subscribe.resume' : 'subscribe.pause'), e(paused ? 'resume' : 'pause'))
    .row()
    .text(ctx.t('subscribe.capButton'), e('cap'))
    .text(ctx.t('subscribe.quietButton'), e('quiet'))
    .row()
    .text(ctx.t('common.buttons.done'), e('done'));
}

subscribeFeature.callbackQuery(subscribeData.filter, async (ctx) => {
  const data = subscribeData.decode(ctx.callbackQuery.data);
  if (!data) return answerStale(ctx);
  const { db, city, config } = ctx.deps;
  let user = requireUser(ctx);
  // The selection lives in the session while the screen is open; a button on an older /subscribe
  // message simply starts from what is stored.
  let sets = subscribeDialog.forButton(ctx)?.data ?? (await storedSets(ctx, user));
  const back = { label: ctx.t('common.buttons.back'), data: subscribeData.encode({ action: 'home', value: '-' }) };
  const save = async () => {
    await replaceSubscriptions(db, user.id, sets.kind, sets);
  };
  const toggle = (list: string[], key: string) => (list.includes(key) ? list.filter((k) => k !== key) : [...list, key].sort());
  let screen: { step: z.output<typeof screens>; text: string; keyboard: InlineKeyboard } | undefined;

  switch (data.action) {
    case 'home':
      break;
    case 'cats':
    case 'allc':
    case 'nonec':
    case 'tc': {
      if (data.action === 'tc') {
        if (!city.isCategory(data.value)) return answerStale(ctx);
        sets = { ...sets, categories: toggle(sets.categories, data.value) };
      } else if (data.action === 'allc') {
        sets = { ...sets, categories: city.categories.map((c) => c.key).sort() };
      } else if (data.action === 'nonec') {
        sets = { ...sets, categories: [] };
      }
      if (data.action !== 'cats') await save();
      const keyboard = createCategoryKeyboard(city, ctx.locale, (k) => subscribeData.encode({ action: 'tc', value: k }), { selected: new Set(sets.categories) });
      keyboard
        .text(ctx.t('subscribe.all'), subscribeData.encode({ action: 'allc', value: '-' }))
        .text(ctx.t('subscribe.clear'), subscribeData.encode({ action: 'nonec', value: '-' }))
        .row()
        .text(back.label, back.data);
      screen = { step: data.action, text: ctx.t(`subscribe.pickCategories.${sets.kind}`), keyboard };
      break;
    }
    case 'dists':
    case 'td': {
      if (data.action === 'td') {
        if (!city.isArea(data.value)) return answerStale(ctx);
        sets = { ...sets, districts: toggle(sets.districts, data.value) };
        await save();
      }
      screen = {
        step: data.action,
        text: ctx.t('subscribe.pickDistricts'),
        keyboard: createDistrictKeyboard(city, ctx.locale, (k) => subscribeData.encode({ action: 'td', value: k }), { selected: new Set(sets.districts), back }),
      };
      break;
    }
    case 'pause':
    case 'resume':
      await setNotificationsPaused(db, user.id, data.action === 'pause');
      await ctx.answerCallbackQuery({ text: ctx.t(data.action === 'pause' ? 'subscribe.pausedToast' : 'subscribe.resumedToast') });
      break;
    case 'cap': {
      const current = user.dailyCap ?? config.DAILY_NOTIFICATION_CAP;
      const keyboard = new InlineKeyboard();
      for (const cap of CAPS) keyboard.text(cap === current ? `• ${cap}` : String(cap), subscribeData.encode({ action: 'setcap', value: String(cap) }));
      keyboard.row().text(ctx.t('subscribe.default', { value: config.DAILY_NOTIFICATION_CAP }), subscribeData.encode({ action: 'setcap', value: 'def' })).row().text(back.label, back.data);
      screen = { step: 'cap', text: ctx.t('subscribe.pickCap'), keyboard };
      break;
    }
    case 'setcap':
      await setDailyCap(db, user.id, data.value === 'def' ? null : Number(data.value));
      break;
    case 'quiet': {
      const keyboard = new InlineKeyboard();
      const label = (q: { start: number; end: number }) => `🌙 ${formatMinutes(q.start)}–${formatMinutes(q.end)}`;
      for (const [key, q] of Object.entries(QUIET_PRESETS)) {
        if (key !== 'off') keyboard.text(label(q!), subscribeData.encode({ action: 'setq', value: key })).row();
      }
      keyboard.text(ctx.t('subscribe.quietOff'), subscribeData.encode({ action: 'setq', value: 'off' })).row();
      if (config.QUIET_HOURS) keyboard.text(ctx.t('subscribe.default', { value: `${formatMinutes(config.QUIET_HOURS.start)}–${formatMinutes(config.QUIET_HOURS.end)}` }), subscribeData.encode({ action: 'setq', value: 'def' })).row();
      keyboard.text(back.label, back.data);
      screen = { step: 'quiet', text: ctx.t('subscribe.pickQuiet'), keyboard };
      break;
    }
    case 'setq':
      await setQuietHours(db, user.id, data.value === 'def' ? null : (QUIET_PRESETS[data.value] ?? null));
      break;
    case 'done': {
      await subscribeDialog.end(ctx);
      await ctx.answerCallbackQuery({ text: ctx.t('settings.saved') });
      user = (await findUserById(db, user.id))!;
      await showScreen(ctx, `${renderOverview(ctx, user, sets)}\n\n${ctx.t('subscribe.doneHint')}`);
      return;
    }
  }
  user = (await findUserById(db, user.id))!;
  ctx.user = user;
  const shown = screen ?? { text: renderOverview(ctx, user, sets), keyboard: overviewKeyboard(ctx, user) };
  const messageId = await showScreen(ctx, shown.text, shown.keyboard);
  await subscribeDialog.remember(ctx, screen?.step ?? 'overview', { ...sets }, messageId);
});
