import { ConfigError, parseConfig, readEnvironment } from '../src/config';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const TOKEN = '123456789:AAbbCCddEEffGGhh_ii-jj';

function problems(env: Record<string, string | undefined>): string[] {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('uses documented defaults when only the token is set', () => {
    const config = parseConfig({ BOT_TOKEN: TOKEN });
    expect(config).toMatchObject({
      TELEGRAM_API_ROOT: 'https://api.telegram.org',
      DATA_DIR: './data',
      BOT_MODE: 'polling',
      PORT: 8080,
      DEFAULT_LOCALE: 'de',
      LOG_LEVEL: 'info',
      ADMIN_TELEGRAM_IDS: [],
      POST_TTL_DAYS: 14,
      BROADCAST_RATE: 25,
      PAID_BROADCAST: false,
      RETENTION_DAYS: 90,
      QUIET_HOURS: { start: 22 * 60, end: 7 * 60 },
    });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('names the missing token and where to get one', () => {
    const [problem] = problems({});
    expect(problem).toMatch(/^BOT_TOKEN: required/);
    expect(problem).toContain('@BotFather');
    expect(problem).toContain('.env');
  });

  it('treats empty variables as unset, like a copied .env.example', () => {
    const config = parseConfig({ BOT_TOKEN: TOKEN, DATABASE_URL: '', PORT: '', DEFAULT_LOCALE: '  ', ADMIN_TELEGRAM_IDS: '' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.PORT).toBe(8080);
    expect(config.DEFAULT_LOCALE).toBe('de');
  });

  it('reports every invalid variable in one go', () => {
    const list = problems({
      BOT_TOKEN: 'nonsense',
      PORT: 'eighty',
      DEFAULT_LOCALE: 'en',
      BOT_MODE: 'webhook',
      ADMIN_TELEGRAM_IDS: '12,abc',
      DATABASE_URL: 'mysql://x',
      LOG_LEVEL: 'loud',
    });
    const names = list.map((p) => p.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining(['BOT_TOKEN', 'PORT', 'DEFAULT_LOCALE', 'ADMIN_TELEGRAM_IDS', 'DATABASE_URL', 'LOG_LEVEL']),
    );
    expect(list.find((p) => p.startsWith('DEFAULT_LOCALE'))).toContain('uk, de or ru');
  });

  it('requires a webhook URL and a long enough secret in webhook mode', () => {
    const list = problems({ BOT_TOKEN: TOKEN, BOT_MODE: 'webhook', WEBHOOK_SECRET: 'short' });
    expect(list.some((p) => p.startsWith('WEBHOOK_URL: required'))).toBe(true);
    expect(list.some((p) => p.startsWith('WEBHOOK_SECRET') && p.includes('16'))).toBe(true);
    const ok = parseConfig({ BOT_TOKEN: TOKEN, BOT_MODE: 'webhook', WEBHOOK_URL: 'https://bot.example.org/telegram', WEBHOOK_SECRET: 'a'.repeat(16) });
    expect(ok.BOT_MODE).toBe('webhook');
  });

  it('parses admin ids, quiet hours and booleans', () => {
    const config = parseConfig({ BOT_TOKEN: TOKEN, ADMIN_TELEGRAM_IDS: ' 11, 22 ,33', QUIET_HOURS: 'off', PAID_BROADCAST: 'true', BROADCAST_RATE: '300' });
    expect(config.ADMIN_TELEGRAM_IDS).toEqual([11, 22, 33]);
    expect(config.QUIET_HOURS).toBeNull();
    expect(config.PAID_BROADCAST).toBe(true);
    expect(problems({ BOT_TOKEN: TOKEN, BROADCAST_RATE: '300' })[0]).toMatch(/^BROADCAST_RATE: .*PAID_BROADCAST/);
    expect(problems({ BOT_TOKEN: TOKEN, QUIET_HOURS: '25:00-07:00' })[0]).toMatch(/^QUIET_HOURS/);
  });

  it('reads .env, with the real environment taking precedence', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hn-env-'));
    const file = path.join(dir, '.env');
    writeFileSync(file, `BOT_TOKEN=${TOKEN}\nPORT=9000\nDEFAULT_LOCALE=uk\n# comment\nLOG_LEVEL=\n`);
    const env = readEnvironment({ PORT: '9100' }, file);
    const config = parseConfig(env);
    expect(config.BOT_TOKEN).toBe(TOKEN);
    expect(config.PORT).toBe(9100);
    expect(config.DEFAULT_LOCALE).toBe('uk');
    expect(config.LOG_LEVEL).toBe('info');
  });
});
