import { eq, sql } from 'drizzle-orm';
import { ManualClock } from '../src/clock';
import { createDatabase, type DatabaseHandle } from '../src/db';
import { runMigrations } from '../src/db/migrate';
import { notices, users } from '../src/db/schema';
import { noticeProgress, sendNotice } from '../src/domain/notices';
import { actorOf } from '../src/domain/permissions';
import { FakeTelegram } from './helpers/fake-telegram';
import { TEST_TOKEN } from './helpers/harness';
import { PrivatePostgres } from './helpers/private-postgres';
import { spawnBot } from './helpers/spawn-bot';
import { messageUpdate } from './helpers/updates';
import { freePort, sleep, waitFor } from './helpers/wait';

/**
 * Failover under load: a real PostgreSQL server of the test's own is restarted (a fast shutdown ends
 * every connection, as a failover does) three times while a notice is being sent and while people write
 * to the bot. The first restart hits while the notice's progress edit waits for a slow Telegram — the
 * moment that used to kill the process (a connection held across the call, ended by the server, with
 * no listener for its 'error' event). The process must live through all of it, finish the notice with
 * nobody skipped, answer every update once Telegram delivers it again, and apologise at most once per
 * person for the whole outage.
 */
const RECIPIENTS = 120;
const AUTHOR_CHAT = 900_100;
const TEXT = 'Das Bürgerbüro Mitte ist am Montag geschlossen.';

const describeIfPossible = PrivatePostgres.available() ? describe : describe.skip;

describeIfPossible('PostgreSQL restarts while a notice is sent and updates arrive', () => {
  let pg: PrivatePostgres;
  let db: DatabaseHandle;
  beforeAll(async () => {
    pg = await PrivatePostgres.create(await freePort());
    db = await createDatabase({ DATABASE_URL: pg.url, poolSize: 2 });
    await runMigrations(db);
  });
  afterAll(async () => {
    await db?.close();
    pg?.destroy();
  });

  it('keeps the process alive, finishes the notice and answers everyone, with one apology per person', async () => {
    // Telegram answers every call after 150 ms, as in the report that found the crash.
    const telegram = new FakeTelegram({ latencyMs: 150 });
    const api = await telegram.listen();
    const clock = new ManualClock(new Date());
    const now = clock.now();
    const [author] = await db.db
      .insert(users)
      .values({ telegramId: AUTHOR_CHAT, firstName: 'Amt', locale: 'de', role: 'staff', organisation: 'Bürgerbüro', createdAt: now, lastSeenAt: now })
      .returning();
    await db.db.execute(sql`insert into ${users} (telegram_id, first_name, locale, role, district, created_at, last_seen_at)
      select 7100000 + g, 'P' || g, (array['uk','de','ru'])[1 + g % 3], 'seeker', 'mitte', ${now}, ${now} from generate_series(1, ${RECIPIENTS}) g`);
    const progressMessage = (await telegram.call('sendMessage', { chat_id: AUTHOR_CHAT, text: 'preview' })) as { result: { message_id: number } };
    const notice = await sendNotice(db.db, clock, actorOf(author!), { audience: 'everyone', districts: [], languages: [], texts: { de: TEXT } }, { chatId: AUTHOR_CHAT, messageId: progressMessage.result.message_id });

    const port = await freePort();
    const secret = 'failover_secret_0123456789';
    const bot = spawnBot({
      BOT_TOKEN: TEST_TOKEN,
      TELEGRAM_API_ROOT: api.url,
      DATABASE_URL: pg.url,
      BOT_MODE: 'webhook',
      WEBHOOK_URL: 'https://hilfenetz.example.org/telegram',
      WEBHOOK_SECRET: secret,
      PORT: String(port),
      // Slow enough that all three restarts fall into the broadcast.
      BROADCAST_RATE: '8',
    });
    const post = async (update: unknown) => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/telegram`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
          body: JSON.stringify(update),
        });
        return res.status;
      } catch {
        return 0;
      }
    };
    const health = async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
      } catch {
        return undefined;
      }
    };

    // People write while the database comes and goes; like Telegram, every update is delivered again
    // until the bot answers it with 200.
    const people = [
      { id: 381_001, first_name: 'Олена', language_code: 'uk', greeting: 'Вітаємо в Hilfenetz' },
      { id: 381_002, first_name: 'Ірина', language_code: 'uk', greeting: 'Вітаємо в Hilfenetz' },
      { id: 491_001, first_name: 'Jonas', language_code: 'de', greeting: 'Willkommen bei Hilfenetz' },
      { id: 491_002, first_name: 'Petra', language_code: 'de', greeting: 'Willkommen bei Hilfenetz' },
      { id: 371_001, first_name: 'Дмитрий', language_code: 'ru', greeting: 'Добро пожаловать в Hilfenetz' },
      { id: 371_002, first_name: 'Анна', language_code: 'ru', greeting: 'Добро пожаловать в Hilfenetz' },
    ];
    const statuses: number[] = [];
    let writing = true;
    const deliverUntilAccepted = async (update: unknown) => {
      for (let attempt = 0; attempt < 150; attempt++) {
        const status = await post(update);
        statuses.push(status);
        if (status === 200) return true;
        // Slower than the per-user flood limit (6 updates in 3 s), like Telegram's own redelivery.
        await sleep(700);
      }
      return false;
    };
    const writers = people.map(async (person, index) => {
      await sleep(index * 70);
      const results: boolean[] = [];
      for (let round = 0; writing || round === 0; round++) {
        const text = round === 0 ? '/start' : '/help';
        results.push(await deliverUntilAccepted(messageUpdate(person, telegram.recordUserMessage(person.id, text).messageId, { text })));
        await sleep(700);
      }
      return results;
    });

    try {
      await waitFor('the bot to be healthy', async () => ((await health()) === 200 ? true : undefined), 40_000, bot.output);
      await waitFor('the broadcast to start', () => telegram.callsOf('sendMessage').some((c) => String(c.payload.text).includes(TEXT)), 20_000, bot.output);

      // Restart 1: while the progress edit waits for Telegram.
      const editsBefore = telegram.callsOf('editMessageText').length;
      telegram.delayNext('editMessageText', 2_500);
      await waitFor('a progress edit in flight', () => telegram.callsOf('editMessageText').length > editsBefore, 20_000, bot.output);
      await sleep(300);
      pg.stop();
      await sleep(1_500);
      expect(bot.child.exitCode).toBeNull();
      pg.start();

      // Restarts 2 and 3: while messages go out and updates arrive.
      for (let i = 0; i < 2; i++) {
        await sleep(2_000);
        pg.stop();
        await sleep(1_000);
        expect(bot.child.exitCode).toBeNull();
        pg.start();
      }

      await waitFor('the database to be back', async () => ((await health()) === 200 ? true : undefined), 20_000, bot.output);
      await waitFor('the notice to be finished', async () => ((await db.db.select().from(notices).where(eq(notices.id, notice.id)))[0]?.status === 'done' ? true : undefined), 90_000, bot.output);
      writing = false;
      const results = await Promise.all(writers);

      // The process lived through all of it and says so.
      expect(bot.child.exitCode).toBeNull();
      expect(bot.output()).not.toMatch(/Unhandled|uncaught/i);
      // Every update was answered in the end; during the outages Telegram got 5xx (never a 4xx, which it
      // would not deliver again), and the bot did notice the outages.
      expect(results.flat().every(Boolean)).toBe(true);
      expect(statuses.filter((s) => s >= 400 && s < 500)).toEqual([]);
      expect(statuses.filter((s) => s >= 500).length).toBeGreaterThan(0);
      for (const person of people) {
        const texts = telegram.messages(person.id).map((m) => m.text);
        expect(texts.some((t) => t.includes(person.greeting))).toBe(true);
        // One apology for all three outages: they fall within one minute.
        expect(texts.filter((t) => t.startsWith('⏳')).length).toBeLessThanOrEqual(1);
      }
      expect(people.some((p) => telegram.messages(p.id).some((m) => m.text.startsWith('⏳')))).toBe(true);

      // Nobody skipped, and the sender got the final report.
      const received = new Set(telegram.callsOf('sendMessage').filter((c) => String(c.payload.text).includes(TEXT)).map((c) => Number(c.payload.chat_id)));
      expect(received.size).toBe(RECIPIENTS);
      expect(await noticeProgress(db.db, notice.id)).toMatchObject({ delivered: RECIPIENTS, remaining: 0 });
      await waitFor('the final report', () => telegram.messages(AUTHOR_CHAT).some((m) => m.text.includes(`Zugestellt: ${RECIPIENTS} von ${RECIPIENTS}`) && m.editCount === 0), 15_000, bot.output);

      // A lost connection is one short log line: code and message, never the client object.
      const lost = bot
        .output()
        .split('\n')
        .filter((line) => line.includes('database connection lost'));
      expect(lost.length).toBeGreaterThan(0);
      for (const line of lost) {
        expect(line.length).toBeLessThan(400);
        expect(Object.keys((JSON.parse(line) as { err: object }).err).sort()).toEqual(expect.arrayContaining(['message']));
        expect(line).not.toContain('connectionParameters');
      }

      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
    } finally {
      writing = false;
      bot.child.kill('SIGKILL');
      await api.close();
    }
  }, 150_000);
});
