/**
 * The baseline of `npm run bench:hostile`: a bare grammY echo bot behind grammY's stock
 * `webhookCallback(bot, 'http')` on a plain node http server, run as its own process. The only addition
 * is the catch every node server needs around an async handler (without it the first malformed body
 * would be an unhandled rejection); it answers 500, as Hilfenetz's server did before its own handler.
 *
 * `npm run bench:updates` uses it as its baseline too, and with POLLING=1 as grammY's own `bot.start()`.
 * With SESSION_DATABASE_URL it is the second baseline there: the same echo bot keeping a session per chat
 * in PostgreSQL (grammY's session plugin with a storage of one table through pg, 10 connections like
 * Hilfenetz's pool; it counts the chat's updates, so every update reads and writes its session) — the least
 * any bot does that remembers where a person is between updates and across restarts.
 *
 * Usage (by bot-process.ts only): fork with the environment BOT_TOKEN, TELEGRAM_API_ROOT and either
 * WEBHOOK_SECRET and PORT, or POLLING=1 (and optionally SESSION_DATABASE_URL); prints `ready` when it
 * listens (or polls).
 */
import { createServer } from 'node:http';
import { Bot, type Context, type SessionFlavor, session, webhookCallback } from 'grammy';
import { Pool } from 'pg';

async function main(): Promise<void> {
  const { BOT_TOKEN, TELEGRAM_API_ROOT, WEBHOOK_SECRET, PORT, POLLING } = process.env;
  if (!BOT_TOKEN || !TELEGRAM_API_ROOT) throw new Error('echo-bot: BOT_TOKEN and TELEGRAM_API_ROOT are required');
  const bot = new Bot<Context & SessionFlavor<{ updates: number }>>(BOT_TOKEN, { client: { apiRoot: TELEGRAM_API_ROOT } });
  if (process.env.SESSION_DATABASE_URL) {
    const pool = new Pool({ connectionString: process.env.SESSION_DATABASE_URL, max: 10 });
    await pool.query('create table if not exists echo_sessions (key text primary key, value jsonb not null)');
    bot.use(
      session({
        initial: () => ({ updates: 0 }),
        storage: {
          read: async (key) => (await pool.query<{ value: { updates: number } }>('select value from echo_sessions where key = $1', [key])).rows[0]?.value,
          write: async (key, value) => void (await pool.query('insert into echo_sessions (key, value) values ($1, $2) on conflict (key) do update set value = excluded.value', [key, value])),
          delete: async (key) => void (await pool.query('delete from echo_sessions where key = $1', [key])),
        },
      }),
    );
    bot.use((ctx, next) => {
      ctx.session.updates++;
      return next();
    });
  }
  bot.on('message:text', (ctx) => ctx.reply(ctx.message.text));
  bot.on('callback_query:data', (ctx) => ctx.answerCallbackQuery());
  await bot.init();
  if (POLLING) {
    process.once('SIGTERM', () => void bot.stop().then(() => process.exit(0)));
    await bot.start({
      onStart: () => {
        process.stdout.write('ready\n');
      },
    });
    return;
  }
  if (!WEBHOOK_SECRET || !PORT) throw new Error('echo-bot: WEBHOOK_SECRET and PORT (or POLLING=1) are required');
  const handle = webhookCallback(bot, 'http', { secretToken: WEBHOOK_SECRET, onTimeout: 'return', timeoutMilliseconds: 25_000 });
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(Number(PORT), '127.0.0.1', resolve));
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
