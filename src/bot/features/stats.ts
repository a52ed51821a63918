import { Composer, InlineKeyboard, InputFile } from 'grammy';
import { z } from 'zod';
import type { CityDirectory } from '../../city';
import { LOCALES, type Locale } from '../../config';
import { actorOf, can } from '../../domain/permissions';
import { collectStats, exportStats, type LoopStats, type PosterStarts, RESPONSE_WINDOW_DAYS, type StatsOverview, statsAreas, statsCategories, UNANSWERED_AFTER_DAYS } from '../../domain/stats';
import { localDay } from '../../domain/time';
import { INTL_LOCALE, type TFunction } from '../../i18n';
import { createCallbackData } from '../../presentation/callback-data/codec';
import type { Context } from '../context';
import { answerStale, showScreen } from '../dialog';
import { formatAge, formatDate } from '../../presentation/format';
import { type Authorized, gate } from '../permissions';
import { menuData } from '../../presentation/callback-data/menu';

/** Telegram's limit for one text message. */
const MESSAGE_LIMIT = 4096;
/** How many district × category cells with open needs the overview lists. */
const TOP_CELLS = 10;
/** Buttons under the overview; every press is authorized again. */
export const statsData = createCallbackData('st', ['action'], z.object({ action: z.enum(['refresh', 'csv']) }));

/** /stats (staff, coordinators) and /export (coordinators): open posts, waiting needs, response time. */
export const statsFeature = new Composer<Context>();

/** The overview: /stats, its main-menu button and "refresh". */
const viewers = gate(statsFeature, 'stats.view', {
  commands: ['stats'],
  buttons: (data) => menuData.decode(data)?.action === 'stats' || statsData.decode(data)?.action === 'refresh',
});
/** The CSV: /export and its button under the overview. */
const exporters = gate(statsFeature, 'stats.export', { commands: ['export'], buttons: (data) => statsData.decode(data)?.action === 'csv' });

viewers.command('stats', (ctx) => replyWithOverview(ctx));

viewers.callbackQuery(menuData.filter, async (ctx, next) => {
  if (menuData.decode(ctx.callbackQuery.data)?.action !== 'stats') return next();
  await ctx.answerCallbackQuery();
  await replyWithOverview(ctx);
});

viewers.callbackQuery(statsData.filter, async (ctx, next) => {
  const data = statsData.decode(ctx.callbackQuery.data);
  if (!data) return answerStale(ctx);
  if (data.action !== 'refresh') return next();
  await ctx.answerCallbackQuery();
  await showScreen(ctx, await createOverviewText(ctx), createOverviewKeyboard(ctx));
});

exporters.command('export', (ctx) => sendExport(ctx));

exporters.callbackQuery(statsData.filter, async (ctx, next) => {
  if (statsData.decode(ctx.callbackQuery.data)?.action !== 'csv') return next();
  await ctx.answerCallbackQuery();
  await sendExport(ctx);
});

async function loadOverview(ctx: Authorized): Promise<StatsOverview> {
  const { db, clock, city } = ctx.deps;
  const started = Date.now();
  const overview = await collectStats(db, clock, actorOf(ctx.user), city.timezone);
  ctx.log.info({ cells: overview.cells.length, ms: Date.now() - started }, 'stats collected');
  return overview;
}

async function createOverviewText(ctx: Authorized): Promise<string> {
  return renderOverview({ t: ctx.t, locale: ctx.locale, city: ctx.deps.city }, await loadOverview(ctx));
}

async function replyWithOverview(ctx: Authorized): Promise<void> {
  await ctx.reply(await createOverviewText(ctx), { reply_markup: createOverviewKeyboard(ctx), link_preview_options: { is_disabled: true } });
}

function createOverviewKeyboard(ctx: Authorized): InlineKeyboard {
  const keyboard = new InlineKeyboard().text(ctx.t('stats.buttons.refresh'), statsData.encode({ action: 'refresh' }));
  if (can(actorOf(ctx.user), 'stats.export')) keyboard.text(ctx.t('stats.buttons.csv'), statsData.encode({ action: 'csv' }));
  return keyboard;
}

/** Sends the overview as a CSV file (UTF-8 with byte order mark, so that Excel shows umlauts and Cyrillic). */
async function sendExport(ctx: Authorized): Promise<void> {
  const { db, clock, city } = ctx.deps;
  const started = Date.now();
  const { overview, csv, postersCsv } = await exportStats(db, clock, actorOf(ctx.user), city);
  ctx.log.info({ cells: overview.cells.length, ms: Date.now() - started }, 'stats exported');
  const day = localDay(overview.generatedAt, city.timezone);
  const file = new InputFile(Buffer.from(`\uFEFF${csv}`, 'utf8'), `hilfenetz-stats-${day}.csv`);
  await ctx.replyWithDocument(file, {
    caption: ctx.t('stats.export.caption', {
      date: formatDate(overview.generatedAt, ctx.locale, city.timezone, true),
      week: formatDate(overview.weekStart, ctx.locale, city.timezone),
      days: UNANSWERED_AFTER_DAYS,
    }),
  });
  if (postersCsv === null) return;
  await ctx.replyWithDocument(new InputFile(Buffer.from(`\uFEFF${postersCsv}`, 'utf8'), `hilfenetz-posters-${day}.csv`), {
    caption: ctx.t('stats.exportPosters.caption'),
  });
}

/** What rendering the overview needs: the reader's language and the city's names. */
export interface OverviewEnv {
  t: TFunction;
  locale: Locale;
  city: CityDirectory;
}

/**
 * The overview as one Telegram HTML message. City names go through t() (which escapes them). A city
 * with very many districts lists only the busiest ones, so that the message always fits.
 */
export function renderOverview(env: OverviewEnv, overview: StatsOverview): string {
  for (const districtLimit of [Infinity, 15, 5]) {
    const text = renderWith(env, overview, districtLimit);
    if (text.length <= MESSAGE_LIMIT) return text;
  }
  // Without district lines the rest is bounded (TOP_CELLS and OLDEST_UNANSWERED_LIMIT lines).
  return renderWith(env, overview, 0);
}

function renderWith({ t, locale, city }: OverviewEnv, s: StatsOverview, districtLimit: number): string {
  const area = (key: string) => city.districtName(key, locale);
  const category = (key: string) => city.categoryLabel(key, locale);
  const lines: string[] = [t('stats.title', { date: formatDate(s.generatedAt, locale, city.timezone, true) }), ''];

  // Open needs and offers per district.
  const areas = statsAreas(city, s.cells);
  const open = new Map(areas.map((a) => [a, { need: 0, offer: 0 }]));
  for (const cell of s.cells) open.get(cell.district)![cell.kind] += cell.open;
  const total = (a: string) => open.get(a)!.need + open.get(a)!.offer;
  const busy = areas.filter((a) => total(a) > 0);
  const idle = areas.filter((a) => total(a) === 0);
  // The busiest districts when not all fit, still in the city's order.
  const busiest = new Set([...busy].sort((a, b) => total(b) - total(a)).slice(0, districtLimit));
  const shown = busy.filter((a) => busiest.has(a));
  lines.push(t('stats.open.title'));
  for (const a of shown) lines.push(t('stats.open.line', { district: area(a), needs: open.get(a)!.need, offers: open.get(a)!.offer }));
  if (shown.length < busy.length) lines.push(t('stats.open.more', { count: busy.length - shown.length }));
  if (idle.length > 0 && districtLimit === Infinity) lines.push(t('stats.open.idle', { districts: idle.map(area).join(', ') }));
  lines.push(t('stats.open.total', { needs: s.totals.need.open, offers: s.totals.offer.open }), '');

  // Where most needs are waiting.
  const categories = statsCategories(city, s.cells);
  const top = s.cells
    .filter((c) => c.kind === 'need' && c.open > 0)
    .sort((a, b) => b.open - a.open || areas.indexOf(a.district) - areas.indexOf(b.district) || categories.indexOf(a.category) - categories.indexOf(b.category))
    .slice(0, TOP_CELLS);
  lines.push(t('stats.top.title'));
  if (top.length === 0) lines.push(t('stats.top.none'));
  top.forEach((c, i) => lines.push(t('stats.top.line', { rank: i + 1, category: category(c.category), district: area(c.district), count: c.open })));
  lines.push('');

  // Needs nobody answered.
  const unanswered = s.totals.need.unanswered;
  if (unanswered === 0) {
    lines.push(t('stats.unanswered.none', { days: UNANSWERED_AFTER_DAYS }));
  } else {
    lines.push(t('stats.unanswered.title', { count: unanswered, days: UNANSWERED_AFTER_DAYS }));
    for (const need of s.oldestUnanswered) {
      lines.push(t('stats.unanswered.line', { category: category(need.category), district: area(need.district), age: formatAge(need.publishedAt, s.generatedAt, locale), id: need.id }));
    }
  }
  lines.push('');

  // How fast help comes, and what was fulfilled.
  const { medianFirstResponseMs: median, answered } = s.totals.need;
  lines.push(
    median === null
      ? t('stats.median.none', { days: RESPONSE_WINDOW_DAYS })
      : t('stats.median.value', { duration: formatDuration(t, locale, median), count: answered, days: RESPONSE_WINDOW_DAYS }),
  );
  lines.push(
    t('stats.fulfilled', {
      date: formatDate(s.weekStart, locale, city.timezone),
      needs: t('stats.count.needs', { count: s.totals.need.fulfilledThisWeek }),
      offers: t('stats.count.offers', { count: s.totals.offer.fulfilledThisWeek }),
    }),
  );
  if (s.loop) lines.push('', ...renderLoop(t, locale, s.loop));
  // Only once posters are in use: an installation without posters sees no empty section.
  if (s.posters && s.posters.length > 0) lines.push('', ...renderPosters(t, area, statsAreas(city, s.posters), s.posters));
  return lines.join('\n');
}

/** Whether help arrives: offers within 24 h, time to the first offer, the desk, the helpers' load. */
function renderLoop(t: TFunction, locale: Locale, loop: LoopStats): string[] {
  const percent = (part: number, whole: number) => (whole === 0 ? '—' : `${Math.round((100 * part) / whole)} %`);
  const lines = [t('stats.loop.title', { days: RESPONSE_WINDOW_DAYS })];
  lines.push(t('stats.loop.within24h', { share: percent(loop.offeredWithin24h, loop.needsOver24h), count: loop.needsOver24h }));
  lines.push(
    loop.medianFirstOfferMs === null || loop.p90FirstOfferMs === null
      ? t('stats.loop.firstOfferNone')
      : t('stats.loop.firstOffer', { median: formatDuration(t, locale, loop.medianFirstOfferMs), p90: formatDuration(t, locale, loop.p90FirstOfferMs) }),
  );
  lines.push(t('stats.loop.desk', { share: percent(loop.reachedDesk, loop.needs), count: loop.reachedDesk }));
  // Only once Lotsen take needs for people without Telegram: an installation without /intake sees no empty line.
  if (loop.intakeNeeds > 0) lines.push(t('stats.loop.intake', { share: percent(loop.intakeNeeds, loop.needs), count: loop.intakeNeeds }));
  lines.push(t('stats.loop.load', { median: loop.loadMedian ?? 0, p99: loop.loadP99 ?? 0, helpers: loop.helpers }));
  return lines;
}

/** How many started through each poster, busiest first (then in the city's order of districts and languages). */
function renderPosters(t: TFunction, area: (key: string) => string, areas: string[], posters: readonly PosterStarts[]): string[] {
  const sorted = [...posters].sort(
    (a, b) => b.started - a.started || areas.indexOf(a.district) - areas.indexOf(b.district) || LOCALES.indexOf(a.locale) - LOCALES.indexOf(b.locale),
  );
  return [
    t('stats.posters.title'),
    ...sorted.map((p) => t('stats.posters.line', { district: area(p.district), language: t(`common.languageNames.${p.locale}`), count: p.started })),
    t('stats.posters.total', { count: posters.reduce((sum, p) => sum + p.started, 0) }),
  ];
}

const numbers = new Map<Locale, Intl.NumberFormat>();

/** "45 Minuten", "5,5 Stunden", "2,5 дня": minutes below an hour, hours below two days, then days. */
export function formatDuration(t: TFunction, locale: Locale, ms: number): string {
  let f = numbers.get(locale);
  if (!f) {
    f = new Intl.NumberFormat(INTL_LOCALE[locale], { maximumFractionDigits: 1 });
    numbers.set(locale, f);
  }
  const say = (unit: 'minutes' | 'hours' | 'days', amount: number) => {
    // One decimal below ten ("2,5 Tage"), whole numbers above; the plural follows the rounded number.
    const count = amount < 10 && unit !== 'minutes' ? Math.round(amount * 10) / 10 : Math.round(amount);
    return t(`stats.duration.${unit}`, { count, value: f.format(count) });
  };
  const minutes = ms / 60_000;
  if (minutes < 59.5) return say('minutes', Math.max(1, minutes));
  const hours = minutes / 60;
  if (hours < 48) return say('hours', hours);
  return say('days', hours / 24);
}
