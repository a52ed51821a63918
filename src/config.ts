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
  DAILY_NOTIFICATION_CAP: int(20, 1, 1000),
  QUIET_HOURS: quietHours,
  // Notices and delivery
  BROADCAST_RATE: int(25, 1, 1000),
  PAID_BROADCAST: boolean(false),
  INVITE_TTL_HOURS: int(72, 1, 24 * 30),
  // Safety and privacy
  PREMODERATE_FIRST_POST: boolean(false),
  RETENTION_DAYS: int(90, 1, 3650),
});

const configSchema = baseSchema.superRefine((c, ctx) => {
  if (c.BOT_MODE === 'webhook') {
    if (!c.WEBHOOK_URL) {
      ctx.addIssue({ code: 'custom', path: ['WEBHOOK_URL'], message: 'required when BOT_MODE=webhook' });
    }
    if (!c.WEBHOOK_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['WEBHOOK_SECRET'],
        message: 'required when BOT_MODE=webhook (at least 16 characters of A-Z, a-z, 0-9, _ or -)',
      });
    }
  }
  if (!c.PAID_BROADCAST && c.BROADCAST_RATE > 30) {
    ctx.addIssue({
      code: 'custom',
      path: ['BROADCAST_RATE'],
      message: 'Telegram allows about 30 messages per second; set PAID_BROADCAST=true for up to 1000',
    });
  }
});

/** The validated configuration; parsed once at start and passed down. */
export type Config = z.output<typeof configSchema>;

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

/**
 * Parses the environment into a Config. Empty variables count as unset (as in a copied .env.example).
 * `requireToken: false` lets tools such as `npm run db:migrate` run without a bot token.
 */
export function parseConfig(
  env: Record<string, string | undefined>,
  options: { requireToken?: boolean } = {},
): Config {
  const input = withoutEmpty(env);
  if (options.requireToken === false && input.BOT_TOKEN === undefined) {
    input.BOT_TOKEN = '0000000:not-needed-for-this-command';
  }
  const result = configSchema.safeParse(input);
  if (!result.success) throw new ConfigError(describe(result.error.issues));
  return result.data;
}

/** Shorthand for the entry points: `.env` + process.env, parsed. */
export function loadConfig(options: { requireToken?: boolean } = {}): Config {
  return parseConfig(readEnvironment(), options);
}
