import type { Locale } from '../config';
import { INTL_LOCALE } from '../i18n';

const relative = new Map<Locale, Intl.RelativeTimeFormat>();
const dates = new Map<string, Intl.DateTimeFormat>();

/** "vor 3 Stunden" / "3 години тому" / "3 часа назад", with each language's plural rules. */
export function formatAge(from: Date, now: Date, locale: Locale): string {
  let f = relative.get(locale);
  if (!f) {
    f = new Intl.RelativeTimeFormat(INTL_LOCALE[locale], { numeric: 'auto', style: 'long' });
    relative.set(locale, f);
  }
  const seconds = Math.round((from.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return f.format(0, 'minute');
  if (abs < 3600) return f.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return f.format(Math.round(seconds / 3600), 'hour');
  return f.format(Math.round(seconds / 86_400), 'day');
}

/** A date in the city's time zone, e.g. "16.03.2026" / "16.03.2026 р.". */
export function formatDate(date: Date, locale: Locale, timeZone: string, withTime = false): string {
  const key = `${locale}|${timeZone}|${withTime}`;
  let f = dates.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(INTL_LOCALE[locale], {
      timeZone,
      day: '2-digit',
      month: '2-digit',
      year: 'numeric',
      ...(withTime ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' as const } : {}),
    });
    dates.set(key, f);
  }
  return f.format(date);
}

/** Shortens a user's text for lists, on a word boundary, with an ellipsis. */
export function shorten(text: string, max: number): string {
  const chars = [...text.replace(/\s+/g, ' ').trim()];
  if (chars.length <= max) return chars.join('');
  const cut = chars.slice(0, max).join('');
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/**
 * The length Telegram counts for a text the bot writes as HTML: tags do not count, an entity
 * (`&amp;`, `&lt;`, …) counts as the one character it stands for, and characters are Unicode code points.
 */
export function telegramLength(html: string): number {
  const plain = html.replace(/<[^>]*>/g, '').replace(/&(?:#\d+|#x[\da-f]+|[a-z]+);/gi, '.');
  return [...plain].length;
}

/** Minutes after midnight as "22:00". */
export function formatMinutes(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

const UNITS = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1_000],
] as const;

/**
 * A configured duration such as WAVE_INTERVAL for a sentence: "2 Std." / "2 год" / "2 ч", in the largest
 * unit that divides it. Short units read the same in every grammatical case (uk/ru decline "hours").
 */
export function formatDuration(ms: number, locale: Locale): string {
  const [unit, size] = UNITS.find(([, size]) => ms % size === 0 && ms >= size) ?? UNITS[UNITS.length - 1]!;
  return new Intl.NumberFormat(INTL_LOCALE[locale], { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 1 }).format(ms / size);
}
