import { ConfigError, duration, parseConfig, parseDuration, readEnvironment } from '../src/config';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CityDirectory } from '../src/city';
import duisburg from '../src/city/duisburg.json';
import { loadStartup } from '../src/startup';

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

function startupProblems(env: Record<string, string | undefined>): string[] {
  try {
    loadStartup({ env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

function cityFile(name: string, content: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'hn-city-')), name);
  writeFileSync(file, content);
  return file;
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
      WAVE_SIZE: 10,
      WAVE_INTERVAL: 2 * 3_600_000,
      HELPER_WEEKLY_CAP: 15,
    });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('reads the waves of needs with units, and names what is wrong', () => {
    expect(parseConfig({ BOT_TOKEN: TOKEN, WAVE_SIZE: '25', WAVE_INTERVAL: '90m', HELPER_WEEKLY_CAP: '8' })).toMatchObject({
      WAVE_SIZE: 25,
      WAVE_INTERVAL: 90 * 60_000,
      HELPER_WEEKLY_CAP: 8,
    });
    expect(parseConfig({ BOT_TOKEN: TOKEN, WAVE_INTERVAL: '3d' }).WAVE_INTERVAL).toBe(3 * 86_400_000);
    const list = problems({ BOT_TOKEN: TOKEN, WAVE_SIZE: '0', WAVE_INTERVAL: '5s', HELPER_WEEKLY_CAP: 'many' });
    expect(list).toEqual([
      expect.stringMatching(/^WAVE_SIZE: expected a whole number between 1 and 100000/),
      'WAVE_INTERVAL: expected a duration such as 90s, 30m, 2h or 3d (between 10s and 7d)',
      expect.stringMatching(/^HELPER_WEEKLY_CAP: expected a whole number between 1 and 1000/),
    ]);
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

  it('reports a cross-variable rule next to an invalid token', () => {
    const list = problems({ BOT_TOKEN: 'nonsense', BROADCAST_RATE: '100' });
    expect(list).toHaveLength(2);
    expect(list[0]).toMatch(/^BOT_TOKEN: does not look like a bot token/);
    expect(list[1]).toMatch(/^BROADCAST_RATE: .*PAID_BROADCAST=true/);
  });

  it('reports a missing webhook secret next to an invalid port', () => {
    const list = problems({ BOT_TOKEN: TOKEN, BOT_MODE: 'webhook', WEBHOOK_URL: 'https://bot.example.org/telegram', PORT: 'eighty' });
    expect(list).toEqual([
      'PORT: expected a whole number between 1 and 65535',
      'WEBHOOK_SECRET: required when BOT_MODE=webhook (at least 16 characters of A-Z, a-z, 0-9, _ or -)',
    ]);
  });

  it('checks a cross-variable rule only when the variables it reads are valid', () => {
    expect(problems({ BOT_TOKEN: TOKEN, BROADCAST_RATE: 'fast' })).toEqual(['BROADCAST_RATE: expected a whole number between 1 and 1000']);
    expect(problems({ BOT_TOKEN: TOKEN, BROADCAST_RATE: '100', PAID_BROADCAST: 'maybe' })).toEqual(['PAID_BROADCAST: expected true or false']);
    expect(problems({ BOT_TOKEN: TOKEN, BOT_MODE: 'hook' })).toEqual(['BOT_MODE: expected polling, webhook or worker']);
  });

  it('still runs without a token for tools that do not talk to Telegram', () => {
    expect(parseConfig({}, { requireToken: false }).PORT).toBe(8080);
    expect(problems({ BOT_MODE: 'webhook' })).toEqual([
      expect.stringMatching(/^BOT_TOKEN: required/),
      'WEBHOOK_URL: required when BOT_MODE=webhook',
      expect.stringMatching(/^WEBHOOK_SECRET: required when BOT_MODE=webhook/),
    ]);
  });
});

describe('durations', () => {
  it('reads units and bare seconds as milliseconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('30m')).toBe(30 * 60_000);
    expect(parseDuration('2h')).toBe(2 * 3_600_000);
    expect(parseDuration('3d')).toBe(3 * 86_400_000);
    expect(parseDuration('45')).toBe(45_000);
    expect(parseDuration(' 1.5h ')).toBe(5_400_000);
    expect(parseDuration('0')).toBe(0);
  });

  it('rejects anything else', () => {
    for (const text of ['', 'soon', '-5s', '5 minutes', '2w', '1h30m', '5M', 's', '1e3s']) {
      expect(parseDuration(text)).toBeNull();
    }
  });

  it('keeps a duration variable within its bounds, with an example in the message', () => {
    const schema = duration('1m', '5s', '1h');
    expect(schema.parse(undefined)).toBe(60_000);
    expect(schema.parse('10m')).toBe(600_000);
    expect(schema.parse('5s')).toBe(5_000);
    expect(schema.parse('1h')).toBe(3_600_000);
    for (const bad of ['4s', '61m', 'later']) {
      const result = schema.safeParse(bad);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toBe('expected a duration such as 90s, 30m, 2h or 3d (between 5s and 1h)');
    }
    expect(() => duration('1m', 'soon', '1h')).toThrow();
  });

  it('parses TELEGRAM_DEGRADED_AFTER, 90 seconds by default', () => {
    expect(parseConfig({ BOT_TOKEN: TOKEN }).TELEGRAM_DEGRADED_AFTER).toBe(90_000);
    expect(parseConfig({ BOT_TOKEN: TOKEN, TELEGRAM_DEGRADED_AFTER: '5m' }).TELEGRAM_DEGRADED_AFTER).toBe(300_000);
    expect(parseConfig({ BOT_TOKEN: TOKEN, TELEGRAM_DEGRADED_AFTER: '120' }).TELEGRAM_DEGRADED_AFTER).toBe(120_000);
    expect(problems({ BOT_TOKEN: TOKEN, TELEGRAM_DEGRADED_AFTER: '500ms' })).toEqual([
      'TELEGRAM_DEGRADED_AFTER: expected a duration such as 90s, 30m, 2h or 3d (between 1s and 1d)',
    ]);
    expect(problems({ BOT_TOKEN: TOKEN, TELEGRAM_DEGRADED_AFTER: '2d' })).toHaveLength(1);
  });
});

describe('loadStartup', () => {
  it('returns the config and the city', () => {
    const { config, city } = loadStartup({ env: { BOT_TOKEN: TOKEN } });
    expect(config.PORT).toBe(8080);
    expect(city).toBeInstanceOf(CityDirectory);
    expect(city.districtName('hamborn', 'de')).toBe('Hamborn');
  });

  it('reports a city file that is not JSON together with an invalid port', () => {
    const file = cityFile('city.json', '{ "key": ');
    const list = startupProblems({ BOT_TOKEN: TOKEN, PORT: 'eighty', CITY_FILE: file });
    expect(list).toHaveLength(2);
    expect(list[0]).toBe('PORT: expected a whole number between 1 and 65535');
    expect(list[1]?.startsWith(`CITY_FILE: ${file}: not valid JSON: `)).toBe(true);
  });

  it('reports a missing city file with the path it looked for', () => {
    const list = startupProblems({ BOT_TOKEN: 'nonsense', CITY_FILE: './no-such-city.json' });
    expect(list[0]).toMatch(/^BOT_TOKEN/);
    expect(list[1]).toBe(
      `CITY_FILE: ./no-such-city.json: cannot be read: no such file (looked for ${path.resolve('no-such-city.json')})`,
    );
  });

  it('reports every bad entry of a city file next to the other problems', () => {
    const broken = structuredClone(duisburg) as { districts: { key: string; name: Record<string, string> }[] };
    broken.districts[3]!.name.uk = '';
    broken.districts[5]!.key = 'mitte';
    const file = cityFile('broken.json', JSON.stringify(broken));
    const list = startupProblems({ BOT_TOKEN: TOKEN, BROADCAST_RATE: '100', CITY_FILE: file });
    expect(list).toEqual([
      expect.stringMatching(/^BROADCAST_RATE: /),
      `CITY_FILE: ${file}: districts.3.name.uk: missing the uk name`,
      `CITY_FILE: ${file}: districts.5.key: duplicate key "mitte"`,
    ]);
    expect(() => loadStartup({ env: { BOT_TOKEN: TOKEN, CITY_FILE: file } })).toThrow(/Invalid configuration:\n {2}- CITY_FILE: /);
  });
});
