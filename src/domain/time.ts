import { sql, type SQL } from 'drizzle-orm';

/** Local wall-clock parts of an instant in a time zone. */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time of `instant` in `timeZone`. */
export function localParts(instant: Date, timeZone: string): LocalParts {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(instant).map((p) => [p.type, p.value]));
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour), minute: Number(parts.minute) };
}

/** The local calendar day (YYYY-MM-DD) of an instant; the daily cap counts per local day. */
export function localDay(instant: Date, timeZone: string): string {
  const p = localParts(instant, timeZone);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** The instant at which the wall clock in `timeZone` shows the given local time (DST-safe). */
export function zonedTime(year: number, month: number, day: number, minutes: number, timeZone: string): Date {
  const wanted = Date.UTC(year, month - 1, day, Math.floor(minutes / 60), minutes % 60);
  let guess = wanted;
  for (let i = 0; i < 3; i++) {
    const p = localParts(new Date(guess), timeZone);
    const shown = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
    const diff = wanted - shown;
    if (diff === 0) break;
    guess += diff;
  }
  return new Date(guess);
}

/** Quiet hours as minutes after local midnight; equal start and end mean "off". */
export interface QuietHours {
  start: number;
  end: number;
}

/** The quiet hours that apply to a user: their own choice, else the configured default (null = off). */
export function effectiveQuietHours(user: { quietStart: number | null; quietEnd: number | null }, fallback: QuietHours | null): QuietHours | null {
  if (user.quietStart !== null && user.quietEnd !== null) {
    return user.quietStart === user.quietEnd ? null : { start: user.quietStart, end: user.quietEnd };
  }
  return fallback;
}

/** When quiet hours are in effect at `now`, the instant they end; otherwise null. */
export function quietUntil(now: Date, timeZone: string, quiet: QuietHours | null): Date | null {
  if (!quiet || quiet.start === quiet.end) return null;
  const p = localParts(now, timeZone);
  const m = p.hour * 60 + p.minute;
  const inQuiet = quiet.start < quiet.end ? m >= quiet.start && m < quiet.end : m >= quiet.start || m < quiet.end;
  if (!inQuiet) return null;
  const base = Date.UTC(p.year, p.month - 1, p.day) + (m >= quiet.end ? 86_400_000 : 0);
  const d = new Date(base);
  return zonedTime(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), quiet.end, timeZone);
}

/** The next local morning (the end of quiet hours, or 08:00 without them) after `now`. */
export function nextMorning(now: Date, timeZone: string, quiet: QuietHours | null): Date {
  const minutes = quiet ? quiet.end : 8 * 60;
  const p = localParts(now, timeZone);
  const today = zonedTime(p.year, p.month, p.day, minutes, timeZone);
  if (today > now) return today;
  const d = new Date(Date.UTC(p.year, p.month - 1, p.day) + 86_400_000);
  return zonedTime(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), minutes, timeZone);
}

/**
 * The same as quietUntil() in SQL, per row, for the matcher's single statement: `start`/`end` are the
 * user's columns (null = default). Everything that depends only on `now` is computed here and passed
 * as parameters.
 */
export function quietUntilSql(now: Date, timeZone: string, fallback: QuietHours | null, start: SQL, end: SQL): SQL {
  return quietUntilSqlOf(quietUntilValues(now, timeZone, fallback), start, end);
}

/** What quietUntilSql binds: everything that depends only on `now`, the time zone and the default quiet hours. */
export interface QuietUntilValues {
  now: Date;
  /** Local minute of the day at `now`, and the local date (YYYY-MM-DD). */
  minute: number;
  day: string;
  timeZone: string;
  fallbackStart: number | null;
  fallbackEnd: number | null;
}

export function quietUntilValues(now: Date, timeZone: string, fallback: QuietHours | null): QuietUntilValues {
  const p = localParts(now, timeZone);
  return { now, minute: p.hour * 60 + p.minute, day: localDay(now, timeZone), timeZone, fallbackStart: fallback?.start ?? null, fallbackEnd: fallback?.end ?? null };
}

/**
 * quietUntilSql over values given as SQL: parameters, or the placeholders of a statement whose text is
 * built once (the wave's, src/domain/waves.ts).
 */
export function quietUntilSqlOf(v: { [K in keyof QuietUntilValues]: unknown }, start: SQL, end: SQL): SQL {
  const s = sql`coalesce(${start}, ${v.fallbackStart}::int)`;
  const e = sql`coalesce(${end}, ${v.fallbackEnd}::int)`;
  const minute = sql`${v.minute}::int`;
  return sql`(case
    when ${s} is null or ${e} is null or ${s} = ${e} then ${v.now}::timestamptz
    when (case when ${s} < ${e} then ${minute} >= ${s} and ${minute} < ${e} else ${minute} >= ${s} or ${minute} < ${e} end)
      then ((${v.day}::date + make_interval(mins => ${e}) + (case when ${minute} >= ${e} then interval '1 day' else interval '0 day' end)) at time zone ${v.timeZone})
    else ${v.now}::timestamptz end)`;
}
