import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { z } from 'zod';

/** The languages Hilfenetz speaks; every user-facing string exists in all three. */
export const LOCALES = ['uk', 'de', 'ru'] as const;
export type Locale = (typeof LOCALES)[number];

const TOKEN_PATTERN = /^\d{3,}:[A-Za-z0-9_-]{10,}$/;

const boolean = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (fallback: number, min: number, max: number) =>
  z.coerce
    .number({ error: `expected a whole number between ${min} and ${max}` })
    .int({ error: `expected a whole number between ${min} and ${max}` })
    .min(min, { error: `expected a whole number between ${min} and ${max}` })
    .max(max, { error: `expected a whole number between ${min} and ${max}` })
    .default(fallback);

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** One reading of `500ms`, `90s`, `30m`, `2h`, `3d` or bare seconds as milliseconds (null if none), for every duration variable. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match) return null;
  const ms = Math.round(Number(match[1]) * UNIT_MS[(match[2] ?? 's') as keyof typeof UNIT_MS]);
  return Number.isSafeInteger(ms) ? ms : null;
}

/** Lets operators write time spans as `90s` or `2h` instead of raw milliseconds; parses to milliseconds within [min, max]. */
export const duration = (fallback: string, min: string, max: string) => {
  const [minMs, maxMs] = [parseDuration(min), parseDuration(max)];
  if (minMs === null || maxMs === null || parseDuration(fallback) === null) {
    throw new Error(`duration(${fallback}, ${min}, ${max}): not a duration`);
  }
  const message = `expected a duration such as 90s, 30m, 2h or 3d (between ${min} and ${max})`;
  return z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === null || ms < minMs || ms > maxMs) {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return ms;
    });
};

const clockTime = /^([01]\d|2[0-3]):[0-5]\d$/;

const quietHours = z
  .string()
  .regex(/^(([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d|off)$/, {
    error: 'expected a range like 22:00-07:00, or off',
  })
  .default('22:00-07:00')
  .transform((v) => {
    if (v === 'off') return null;
    const [from, to] = v.split('-') as [string, string];
    const minutes = (t: string) => {
      if (!clockTime.test(t)) throw new Error('unreachable');
      const [h, m] = t.split(':').map(Number) as [number, number];
      return h * 60 + m;
    };
    return { start: minutes(from), end: minutes(to) };
  });

const telegramIds = z
  .string()
  .default('')
  .transform((v, ctx) => {
    const parts = v
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const ids: number[] = [];
    for (const p of parts) {
      if (!/^\d{1,15}$/.test(p)) {
        ctx.addIssue({ code: 'custom', message: `expected comma-separated numeric Telegram user ids, got "${p}"` });
        return z.NEVER;
      }
      ids.push(Number(p));
    }
    return ids;
  });

/** The environment schema. Every variable is documented in .env.example and the README. */
const baseSchema = z.object({
  BOT_TOKEN: z
    .string({ error: 'required: get a token from @BotFather and put it into .env (see .env.example)' })
    .regex(TOKEN_PATTERN, { error: 'does not look like a bot token from @BotFather (123456:ABC-...)' }),
  TELEGRAM_API_ROOT: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://api.telegram.org' })
    .default('https://api.telegram.org')
    .transform((v) => v.replace(/\/+$/, '')),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, { error: 'expected a postgres:// URL, or leave it empty to use embedded PGlite' })
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  BOT_MODE: z
    .enum(['polling', 'webhook', 'worker'], { error: 'expected polling, webhook or worker' })
    .default('polling'),
  WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'expected the public https URL Telegram should call' }).optional(),
  WEBHOOK_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{16,256}$/, { error: 'expected at least 16 characters of A-Z, a-z, 0-9, _ or -' })
    .optional(),
  PORT: int(8080, 1, 65535),
  TELEGRAM_DEGRADED_AFTER: duration('90s', '1s', '1d'),
  ADMIN_TELEGRAM_IDS: telegramIds,
  DEFAULT_LOCALE: z.enum(LOCALES, { error: 'expected uk, de or ru' }).default('de'),
  CITY_FILE: z.string().min(1).optional(),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'expected fatal, error, warn, info, debug, trace or silent',
    })
    .default('info'),
  // Suche & Biete
  POST_TTL_DAYS: int(14, 3, 365),
  MAX_OPEN_POSTS: int(5, 1, 100),
  MAX_POSTS_PER_DAY: int(10, 1, 1000),
  /** Open needs a Lotse took for other people (/intake), counted apart from MAX_OPEN_POSTS and MAX_POSTS_PER_DAY. */
  INTAKE_MAX_OPEN: int(30, 1, 1000),
  DAILY_NOTIFICATION_CAP: int(20, 1, 1000),
  QUIET_HOURS: quietHours,
  // Waves (needs reach a few helpers at a time, fairly ranked)
  WAVE_SIZE: int(10, 1, 100_000),
  WAVE_INTERVAL: duration('2h', '10s', '7d'),
  HELPER_WEEKLY_CAP: int(15, 1, 1000),
  // The Lotsen desk and the follow-up
  DESK_AFTER: duration('24h', '10s', '30d'),
  FOLLOW_UP_AFTER: duration('24h', '10s', '30d'),
  // Notices and delivery
  BROADCAST_RATE: int(25, 1, 1000),
  PAID_BROADCAST: boolean(false),
  INVITE_TTL_HOURS: int(72, 1, 24 * 30),
  /** The pace of mirrors into one channel or group (Telegram allows about 20 messages a minute per group). */
  CHANNEL_INTERVAL: duration('3s', '1s', '10m'),
  // Safety and privacy
  /** How long an organisation's invite link (verified helpers of a protected category) can be used. */
  ORG_INVITE_TTL: duration('7d', '10s', '90d'),
  PREMODERATE_FIRST_POST: boolean(false),
  RETENTION_DAYS: int(90, 1, 3650),
  SESSION_TTL_DAYS: int(30, 1, 3650),
  // The coordinators' web desk (src/web): off without PUBLIC_URL
  PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'expected the http(s) address people open the web desk at, such as https://hilfe.example.org' })
    .optional()
    .transform((v) => v?.replace(/\/+$/, '')),
  WEB_LOGIN_TTL: duration('10m', '1m', '1d'),
  WEB_SESSION_TTL: duration('12h', '5m', '30d'),
  /** Also offer Telegram's Login Widget on the login page (the bot's domain must be set with @BotFather's /setdomain). */
  WEB_TELEGRAM_LOGIN: boolean(false),
  // Machine translation through a self-hosted, LibreTranslate-compatible engine (unset: no translation)
  TRANSLATE_URL: z
    .url({ protocol: /^https?$/, error: 'expected the http(s) URL of a LibreTranslate-compatible server, e.g. http://libretranslate:5000' })
    .transform((v) => v.replace(/\/+$/, ''))
    .optional(),
  TRANSLATE_API_KEY: z.string().min(1).max(512).optional(),
  TRANSLATE_WAIT: duration('5s', '0s', '60s'),
  TRANSLATE_TIMEOUT: duration('10s', '1s', '2m'),
});

/** The validated configuration; parsed once at start and passed down. */
export type Config = z.output<typeof baseSchema>;

/** Thrown with every invalid variable listed, so an operator fixes all of them in one go. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads `.env` (when present) under the real environment; the real environment wins. */
export function readEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  envFile: string | null = '.env',
): Record<string, string | undefined> {
  const merged: Record<string, string | undefined> = {};
  if (envFile && existsSync(envFile)) {
    Object.assign(merged, parseEnv(readFileSync(envFile, 'utf8')));
  }
  Object.assign(merged, env);
  return merged;
}

function withoutEmpty(env: Record<string, string | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') result[key] = value.trim();
  }
  return result;
}

function describe(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`);
}

type Shape = typeof baseSchema.shape;

/**
 * The chosen variables parsed on their own, or null when one of them is invalid (that one is reported
 * elsewhere); lets a check that reads a few variables run while other, unrelated variables are invalid.
 */
export function parseVariables<M extends { [K in keyof Shape]?: true }>(
  env: Record<string, string | undefined>,
  variables: M & Record<Exclude<keyof M, keyof Shape>, never>,
) {
  const result = baseSchema.pick(variables).safeParse(withoutEmpty(env));
  return result.success ? result.data : null;
}

// Rules that span variables; each runs when the variables it reads are valid, whatever else is not.
function crossVariableProblems(input: Record<string, string>): string[] {
  const problems: string[] = [];
  const webhookUrl = parseVariables(input, { BOT_MODE: true, WEBHOOK_URL: true });
  if (webhookUrl?.BOT_MODE === 'webhook' && !webhookUrl.WEBHOOK_URL) {
    problems.push('WEBHOOK_URL: required when BOT_MODE=webhook');
  }
  const webhookSecret = parseVariables(input, { BOT_MODE: true, WEBHOOK_SECRET: true });
  if (webhookSecret?.BOT_MODE === 'webhook' && !webhookSecret.WEBHOOK_SECRET) {
    problems.push('WEBHOOK_SECRET: required when BOT_MODE=webhook (at least 16 characters of A-Z, a-z, 0-9, _ or -)');
  }
  const broadcast = parseVariables(input, { BROADCAST_RATE: true, PAID_BROADCAST: true });
  if (broadcast && !broadcast.PAID_BROADCAST && broadcast.BROADCAST_RATE > 30) {
    problems.push('BROADCAST_RATE: Telegram allows about 30 messages per second; set PAID_BROADCAST=true for up to 1000');
  }
  const widget = parseVariables(input, { WEB_TELEGRAM_LOGIN: true, PUBLIC_URL: true });
  if (widget?.WEB_TELEGRAM_LOGIN && !widget.PUBLIC_URL) {
    problems.push('WEB_TELEGRAM_LOGIN: needs PUBLIC_URL (the web desk is off without it)');
  }
  return problems;
}

/**
 * Parses the environment into a Config. Empty variables count as unset (as in a copied .env.example).
 * `requireToken: false` lets tools such as `npm run db:migrate` run without a bot token.
 * Throws one ConfigError with every problem: each invalid variable and each broken cross-variable rule.
 */
export function parseConfig(
  env: Record<string, string | undefined>,
  options: { requireToken?: boolean } = {},
): Config {
  const input = withoutEmpty(env);
  if (options.requireToken === false && input.BOT_TOKEN === undefined) {
    input.BOT_TOKEN = '0000000:not-needed-for-this-command';
  }
  const result = baseSchema.safeParse(input);
  const problems = [...(result.success ? [] : describe(result.error.issues)), ...crossVariableProblems(input)];
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  return result.data;
}

/** Shorthand for the entry points: `.env` + process.env, parsed. */
export function loadConfig(options: { requireToken?: boolean } = {}): Config {
  return parseConfig(readEnvironment(), options);
}
