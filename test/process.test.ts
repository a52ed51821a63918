import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDb, type TestDatabase, TEST_DATABASE_URL } from './helpers/db';
import { FakeTelegram } from './helpers/fake-telegram';
import { TEST_TOKEN } from './helpers/harness';
import { ROOT, spawnBot } from './helpers/spawn-bot';
import { messageUpdate } from './helpers/updates';
import { freePort, waitFor } from './helpers/wait';

/**
 * The real wiring: the bot runs as its own process as `npm start` runs it (src/launch.cjs → main), talks HTTP to a Bot API
 * stand-in through TELEGRAM_API_ROOT, and stores data in PGlite on disk or in PostgreSQL.
 */

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startBot(env: Record<string, string>, cwd = mkdtempSync(path.join(tmpdir(), 'hn-proc-'))): Running {
  return spawnBot(env, cwd);
}

async function health(port: number): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    return res.status;
  } catch {
    return undefined;
  }
}

let db: TestDatabase | undefined;
let databaseEnv: Record<string, string>;

beforeAll(async () => {
  if (TEST_DATABASE_URL) {
    db = await createTestDb();
    databaseEnv = { DATABASE_URL: db.url! };
  } else {
    databaseEnv = { DATA_DIR: mkdtempSync(path.join(tmpdir(), 'hn-data-')) };
  }
});

afterAll(async () => {
  await db?.close();
});

describe('npm start (src/main.ts as a process)', () => {
  it('exits 1 within seconds without BOT_TOKEN, naming the variable and @BotFather', async () => {
    const started = Date.now();
    const bot = startBot({});
    const code = await bot.exited;
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(bot.output()).toContain('BOT_TOKEN: required');
    expect(bot.output()).toContain('@BotFather');
    expect(bot.output()).toContain('.env');
  });

  it('compiles the sources once: the next start runs the compiled tree without compiling', async () => {
    const first = startBot({});
    expect(await first.exited).toBe(1);
    const second = startBot({});
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain('BOT_TOKEN: required');
    expect(second.output()).not.toContain('compiled');
  });

  it('names the file and line of a source that does not compile, and exits 1', async () => {
    // A copy of the checkout's sources with one broken file; node_modules shared.
    const project = mkdtempSync(path.join(tmpdir(), 'hn-launch-'));
    cpSync(path.join(ROOT, 'src'), path.join(project, 'src'), { recursive: true });
    cpSync(path.join(ROOT, 'package.json'), path.join(project, 'package.json'));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(project, 'node_modules'));
    writeFileSync(path.join(project, 'src', 'clock.ts'), 'export const broken = (;\n');
    const child = spawn(process.execPath, [path.join(project, 'src', 'launch.cjs')], { cwd: project, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(output).toMatch(/src[/\\]clock\.ts:1/);
    expect(output).toContain('Hilfenetz could not be compiled');
  });

  it('reports every invalid variable at once and a broken city file by its entry', async () => {
    const bad = startBot({ BOT_TOKEN: TEST_TOKEN, PORT: 'x', DEFAULT_LOCALE: 'fr' });
    expect(await bad.exited).toBe(1);
    expect(bad.output()).toContain('PORT:');
    expect(bad.output()).toContain('DEFAULT_LOCALE: expected uk, de or ru');

    const dir = mkdtempSync(path.join(tmpdir(), 'hn-city-'));
    const cityFile = path.join(dir, 'city.json');
    writeFileSync(cityFile, JSON.stringify({ key: 'x', name: { de: 'X', uk: 'X', ru: 'X' }, wholeCity: { de: 'X', uk: 'X', ru: 'X' }, timezone: 'Europe/Berlin', districts: [{ key: 'Bad Key', name: { de: 'a', uk: 'b', ru: 'c' } }], categories: [] }));
    const city = startBot({ BOT_TOKEN: TEST_TOKEN, CITY_FILE: cityFile });
    expect(await city.exited).toBe(1);
    expect(city.output()).toContain('districts.0.key');
  });

  it('reads .env from the working directory', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'hn-envfile-'));
    writeFileSync(path.join(cwd, '.env'), 'BOT_TOKEN=\nDEFAULT_LOCALE=xx\n');
    const bot = startBot({}, cwd);
    expect(await bot.exited).toBe(1);
    expect(bot.output()).toContain('BOT_TOKEN: required');
    expect(bot.output()).toContain('DEFAULT_LOCALE');
  });

  it('serves users over long polling, survives a failing setMyCommands and setChatMenuButton, reports health and stops cleanly', async () => {
    const telegram = new FakeTelegram();
    // Command registration fails at start: logged, not fatal.
    telegram.failNext('setMyCommands', 400, 'Bad Request: simulated', { times: 4 });
    telegram.failNext('setChatMenuButton', 400, 'Bad Request: simulated');
    const api = await telegram.listen();
    const port = await freePort();
    const bot = startBot({ BOT_TOKEN: TEST_TOKEN, TELEGRAM_API_ROOT: api.url, PORT: String(port), ...databaseEnv });
    try {
      await waitFor('healthz', async () => ((await health(port)) === 200 ? true : undefined), 40_000, bot.output);
      const olena = { id: 380_900, first_name: 'Олена', language_code: 'uk' };
      const jonas = { id: 490_900, first_name: 'Jonas', language_code: 'de' };
      telegram.pushUpdate(messageUpdate(olena, telegram.recordUserMessage(olena.id, '/start').messageId, { text: '/start' }));
      telegram.pushUpdate(messageUpdate(jonas, telegram.recordUserMessage(jonas.id, '/help').messageId, { text: '/help' }));
      const greeting = await waitFor('greeting', () => telegram.messages(olena.id)[0], 20_000, bot.output);
      expect(greeting.text).toContain('Вітаємо в Hilfenetz, Олена!');
      const help = await waitFor('help', () => telegram.messages(jonas.id)[0], 20_000, bot.output);
      expect(help.text).toContain('Hilfenetz – so funktioniert es');
      expect(bot.output()).toContain('could not register command menus');
      expect(bot.output()).toContain('could not set the menu button');
      expect(telegram.callsOf('setChatMenuButton')).toHaveLength(1);
      expect(telegram.callsOf('deleteWebhook').length).toBeGreaterThan(0);

      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
      expect(bot.output()).toContain('stopped');
    } finally {
      bot.child.kill('SIGKILL');
      await api.close();
    }
  });

  it('in webhook mode registers the secret and refuses requests without it', async () => {
    const telegram = new FakeTelegram();
    const api = await telegram.listen();
    const port = await freePort();
    const secret = 'webhook_secret_0123456789';
    const bot = startBot({
      BOT_TOKEN: TEST_TOKEN,
      TELEGRAM_API_ROOT: api.url,
      PORT: String(port),
      BOT_MODE: 'webhook',
      WEBHOOK_URL: 'https://hilfenetz.example.org/telegram/updates',
      WEBHOOK_SECRET: secret,
      ...databaseEnv,
    });
    try {
      const setWebhook = await waitFor('setWebhook', () => telegram.callsOf('setWebhook')[0], 40_000, bot.output);
      expect(setWebhook.payload).toMatchObject({ url: 'https://hilfenetz.example.org/telegram/updates', secret_token: secret });
      // The menu button beside the message field opens the command list.
      expect(await waitFor('the menu button', () => telegram.menuButton, 20_000, bot.output)).toEqual({ type: 'commands' });
      const irina = { id: 370_900, first_name: 'Ирина', language_code: 'ru' };
      const update = messageUpdate(irina, telegram.recordUserMessage(irina.id, '/help').messageId, { text: '/help' });
      const post = (headers: Record<string, string>) =>
        fetch(`http://127.0.0.1:${port}/telegram/updates`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(update) });
      expect((await post({})).status).toBe(401);
      expect((await post({ 'x-telegram-bot-api-secret-token': 'wrong_secret_0123456789' })).status).toBe(401);
      expect(telegram.messages(irina.id)).toHaveLength(0);
      expect((await post({ 'x-telegram-bot-api-secret-token': secret })).status).toBe(200);
      const help = await waitFor('help', () => telegram.messages(irina.id)[0], 10_000, bot.output);
      expect(help.text).toContain('Hilfenetz — как это работает');
      expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
    } finally {
      bot.child.kill('SIGKILL');
      await api.close();
    }
  });
});
