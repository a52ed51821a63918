import { eq } from 'drizzle-orm';
import { createDatabase, type DatabaseHandle } from '../src/db';
import { runMigrations } from '../src/db/migrate';
import { users } from '../src/db/schema';
import { FakeTelegram } from './helpers/fake-telegram';
import { TEST_TOKEN } from './helpers/harness';
import { PrivatePostgres } from './helpers/private-postgres';
import { spawnBot } from './helpers/spawn-bot';
import { callbackUpdate, messageUpdate } from './helpers/updates';
import { freePort, waitFor } from './helpers/wait';

/**
 * The database goes away while updates arrive (a real PostgreSQL server of the test's own, stopped and
 * started again): the update fails without half-written data, the user is asked to try again in their
 * language, Telegram gets a 5xx so that it delivers the update again, /healthz says the database is
 * down, and the bot reconnects by itself.
 */

const describeIfPossible = PrivatePostgres.available() ? describe : describe.skip;

describeIfPossible('database outage in webhook mode', () => {
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

  it('answers 5xx and "try again" while PostgreSQL restarts, then carries on by itself', async () => {
    const telegram = new FakeTelegram();
    const api = await telegram.listen();
    const port = await freePort();
    const secret = 'a_webhook_secret_of_enough_length';
    const bot = spawnBot({
      BOT_TOKEN: TEST_TOKEN,
      TELEGRAM_API_ROOT: api.url,
      DATABASE_URL: pg.url,
      BOT_MODE: 'webhook',
      WEBHOOK_URL: 'https://hilfenetz.example.org/telegram',
      WEBHOOK_SECRET: secret,
      PORT: String(port),
    });
    const post = (update: unknown) =>
      fetch(`http://127.0.0.1:${port}/telegram`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
        body: JSON.stringify(update),
      });
    const health = async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
      } catch {
        return undefined;
      }
    };
    try {
      await waitFor('the bot to listen', async () => ((await health()) === 200 ? true : undefined), 40_000, bot.output);
      const olena = { id: 380_777, first_name: 'Олена', language_code: 'uk' };
      const jonas = { id: 490_777, first_name: 'Jonas', language_code: 'de' };
      expect((await post(messageUpdate(olena, telegram.recordUserMessage(olena.id, '/start').messageId, { text: '/start' }))).status).toBe(200);
      const greeting = telegram.messages(olena.id)[0]!;
      expect(greeting.text).toContain('Вітаємо в Hilfenetz');

      pg.stop();
      expect(await health()).toBe(503);
      const jonasStart = messageUpdate(jonas, telegram.recordUserMessage(jonas.id, '/start').messageId, { text: '/start' });
      expect((await post(jonasStart)).status).toBe(500);
      expect(telegram.messages(jonas.id).map((m) => m.text)).toEqual([
        '⏳ Der Dienst ist gerade kurz nicht erreichbar. Bitte versuchen Sie es in einem Moment noch einmal – es ist nichts verloren gegangen.',
      ]);
      const press = callbackUpdate(olena, { message_id: greeting.messageId, date: 0, chat: { id: olena.id, type: 'private', first_name: 'Олена' } } as never, 'o:role:seeker');
      expect((await post(press.update)).status).toBe(500);
      expect(telegram.answers.find((a) => a.callbackQueryId === press.id)).toEqual({
        callbackQueryId: press.id,
        text: expect.stringContaining('Сервіс на хвилинку недоступний'),
        showAlert: true,
      });

      pg.start();
      await waitFor('the database to be back', async () => ((await health()) === 200 ? true : undefined), 20_000, bot.output);
      // Telegram delivers the failed update again: now it works, once.
      expect((await post(jonasStart)).status).toBe(200);
      expect(telegram.messages(jonas.id).at(-1)?.text).toContain('Willkommen bei Hilfenetz, Jonas!');
      expect(await db.db.select().from(users).where(eq(users.telegramId, jonas.id))).toHaveLength(1);
      expect(await db.db.select().from(users).where(eq(users.telegramId, olena.id))).toHaveLength(1);
      expect(bot.child.exitCode).toBeNull();
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
    } finally {
      bot.child.kill('SIGKILL');
      await api.close();
    }
  }, 120_000);
});
