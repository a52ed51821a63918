import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { createDataDir, createTestDb, type TestDatabase, TEST_DATABASE_URL } from './helpers/db';
import { FakeTelegram } from './helpers/fake-telegram';
import { TEST_TOKEN } from './helpers/harness';
import { spawnBot } from './helpers/spawn-bot';
import { messageUpdate } from './helpers/updates';
import { freePort, sleep, waitFor } from './helpers/wait';

/**
 * The bot as its own process (`src/main.ts`, as `npm start` runs it) against a Bot API stand-in that
 * fails the ways Telegram and networks fail: no answer, 5xx, a refused connection for seconds, 401 and
 * 409; and start-up problems an operator must be able to fix from one line: a taken PORT, an
 * unreachable DATABASE_URL, several bad variables at once.
 */

async function healthz(port: number): Promise<{ status: number; body: { database?: string; telegram?: { state: string } } } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    return { status: res.status, body: (await res.json()) as never };
  } catch {
    return undefined;
  }
}

/** Lines that look like a stack trace: an operator should never need one to fix a start-up problem. */
const STACK_LINE = /^\s+at .+\(.+:\d+:\d+\)$/m;

let db: TestDatabase | undefined;
const dataDirs: string[] = [];
/** The bot's database: a test database on the server, or a DATA_DIR holding a migrated PGlite (starts in ~1 s). */
const databaseEnv = async (): Promise<Record<string, string>> => {
  if (db) return { DATABASE_URL: db.url! };
  const dir = await createDataDir('hn-res-');
  dataDirs.push(dir);
  return { DATA_DIR: dir };
};

beforeAll(async () => {
  if (TEST_DATABASE_URL) db = await createTestDb();
});
afterAll(async () => {
  await db?.close();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

describe('Telegram away at start', () => {
  it('serves /healthz at once, logs within 10 s, retries with a bounded backoff, then serves users', async () => {
    const telegram = new FakeTelegram();
    telegram.setUnresponsive(true);
    const api = await telegram.listen();
    const port = await freePort();
    const bot = spawnBot({ BOT_TOKEN: TEST_TOKEN, TELEGRAM_API_ROOT: api.url, PORT: String(port), ...(await databaseEnv()) });
    try {
      // The HTTP server is up before Telegram answered: the database is fine, Telegram is not yet.
      const early = await waitFor('healthz while Telegram is silent', async () => {
        const h = await healthz(port);
        return h?.body.database === 'up' ? h : undefined;
      }, 20_000, bot.output);
      expect(early.status).toBe(503);
      expect(early.body.telegram?.state).toBe('connecting');
      // getMe is asked right after the database is ready; an operator hears about it within 10 s.
      await waitFor('the database', () => bot.output().includes('database ready'), 30_000, bot.output);
      const asked = Date.now();
      await waitFor('a log line about Telegram', () => bot.output().includes('Telegram did not confirm the bot'), 15_000, bot.output);
      expect(Date.now() - asked).toBeLessThan(10_000);
      // Telegram answers again (the held requests get a 502 first).
      telegram.setUnresponsive(false);
      await waitFor('healthz 200', async () => ((await healthz(port))?.status === 200 ? true : undefined), 30_000, bot.output);
      const attempts = bot.output().split('\n').filter((l) => l.includes('Telegram did not confirm the bot'));
      for (const line of attempts) expect((JSON.parse(line) as { retryInSeconds: number }).retryInSeconds).toBeLessThanOrEqual(15);
      const olena = { id: 380_950, first_name: 'Олена', language_code: 'uk' };
      telegram.pushUpdate(messageUpdate(olena, telegram.recordUserMessage(olena.id, '/start').messageId, { text: '/start' }));
      const greeting = await waitFor('greeting', () => telegram.messages(olena.id)[0], 20_000, bot.output);
      expect(greeting.text).toContain('Вітаємо в Hilfenetz');
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
    } finally {
      bot.child.kill('SIGKILL');
      await api.close();
    }
  });

  it('exits 1 with a clear message when Telegram rejects the token', async () => {
    const telegram = new FakeTelegram();
    telegram.failNext('getMe', 401, 'Unauthorized');
    const api = await telegram.listen();
    const bot = spawnBot({ BOT_TOKEN: TEST_TOKEN, TELEGRAM_API_ROOT: api.url, PORT: String(await freePort()), ...(await databaseEnv()) });
    try {
      expect(await bot.exited).toBe(1);
      expect(bot.output()).toContain('BOT_TOKEN was rejected by Telegram');
    } finally {
      bot.child.kill('SIGKILL');
      await api.close();
    }
  });
});

describe('long polling', () => {
  it.each([
    [409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running', 'another process is polling with this token'],
    [401, 'Unauthorized', 'the token was revoked'],
  ])('exits non-zero when getUpdates answers %i, saying what to do', async (code, description, advice) => {
    const telegram = new FakeTelegram();
    telegram.failNext('getUpdates', code, description);
    const api = await telegram.listen();
    const bot = spawnBot({ BOT_TOKEN: TEST_TOKEN, TELEGRAM_API_ROOT: api.url, PORT: String(await freePort()), ...(await databaseEnv()) });
    try {
      expect(await bot.exited).toBe(1);
      expect(bot.output()).toContain(advice);
    } finally {
      bot.child.kill('SIGKILL');
      await api.close();
    }
  });

  it('logs a network outage, reports it in /healthz, and resumes within seconds when the network is back', async () => {
    const telegram = new FakeTelegram();
    const telegramPort = await freePort();
    let api = await telegram.listen(telegramPort);
    const port = await freePort();
    const bot = spawnBot({ BOT_TOKEN: TEST_TOKEN, TELEGRAM_API_ROOT: api.url, PORT: String(port), TELEGRAM_DEGRADED_AFTER: '2s', ...(await databaseEnv()) });
    try {
      await waitFor('healthz 200', async () => ((await healthz(port))?.status === 200 ? true : undefined), 40_000, bot.output);
      // The network goes away: every connection to Telegram is refused.
      await api.close();
      const jonas = { id: 490_950, first_name: 'Jonas', language_code: 'de' };
      telegram.pushUpdate(messageUpdate(jonas, telegram.recordUserMessage(jonas.id, '/help').messageId, { text: '/help' }));
      await waitFor('the outage in the log', () => bot.output().includes('Telegram cannot be reached'), 10_000, bot.output);
      const degraded = await waitFor('healthz to say degraded', async () => {
        const h = await healthz(port);
        return h?.body.telegram?.state === 'degraded' ? h : undefined;
      }, 10_000, bot.output);
      expect(degraded.status).toBe(503);
      expect(degraded.body.database).toBe('up');
      // Long enough that an exponential backoff would have grown well past a few seconds.
      await sleep(8_000);
      api = await telegram.listen(telegramPort);
      const back = Date.now();
      const help = await waitFor('the waiting update to be answered', () => telegram.messages(jonas.id)[0], 30_000, bot.output);
      expect(help.text).toContain('Hilfenetz – so funktioniert es');
      expect(Date.now() - back).toBeLessThan(10_000);
      await waitFor('the recovery in the log', () => bot.output().includes('Telegram reachable again'), 10_000, bot.output);
      await waitFor('healthz 200 again', async () => ((await healthz(port))?.status === 200 ? true : undefined), 10_000, bot.output);
      // The runner's own error printing stays off: the outage is one line, plus a reminder a minute.
      expect(bot.output()).not.toContain('[grammY runner]');
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
    } finally {
      bot.child.kill('SIGKILL');
      await api.close();
    }
  }, 90_000);
});

describe('start-up problems in one line', () => {
  it('a taken PORT, in polling mode too', async () => {
    const blocker: Server = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, () => resolve((blocker.address() as { port: number }).port)));
    try {
      const bot = spawnBot({ BOT_TOKEN: TEST_TOKEN, TELEGRAM_API_ROOT: 'http://127.0.0.1:9', PORT: String(port), ...(await databaseEnv()) });
      expect(await bot.exited).toBe(1);
      expect(bot.output()).toContain(`PORT: port ${port} is already in use`);
      expect(bot.output()).not.toMatch(STACK_LINE);
    } finally {
      blocker.close();
    }
  });

  it('an unreachable DATABASE_URL names the variable, the host and the reason, never the password', async () => {
    const dbPort = await freePort();
    const bot = spawnBot({
      BOT_TOKEN: TEST_TOKEN,
      TELEGRAM_API_ROOT: 'http://127.0.0.1:9',
      PORT: String(await freePort()),
      DATABASE_URL: `postgres://hilfenetz:s3cret-pw@127.0.0.1:${dbPort}/hilfenetz`,
    });
    expect(await bot.exited).toBe(1);
    expect(bot.output()).toContain(`DATABASE_URL: cannot connect to 127.0.0.1:${dbPort}`);
    expect(bot.output()).toContain('refused');
    expect(bot.output()).not.toContain('s3cret-pw');
    expect(bot.output()).not.toMatch(STACK_LINE);
  });

  it('every bad variable, the cross-checks and the city file in one message', async () => {
    const bot = spawnBot({
      BOT_TOKEN: 'not-a-token',
      BROADCAST_RATE: '100',
      BOT_MODE: 'webhook',
      CITY_FILE: '/nonexistent/city.json',
    });
    expect(await bot.exited).toBe(1);
    const output = bot.output();
    expect(output).toContain('BOT_TOKEN:');
    expect(output).toContain('BROADCAST_RATE:');
    expect(output).toContain('WEBHOOK_URL:');
    expect(output).toContain('WEBHOOK_SECRET:');
    expect(output).toContain('CITY_FILE:');
    expect(output).not.toMatch(STACK_LINE);
  });
});
