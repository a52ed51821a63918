/**
 * The baseline of `npm run bench:hostile`: a bare grammY echo bot behind grammY's stock
 * `webhookCallback(bot, 'http')` on a plain node http server, run as its own process. The only addition
 * is the catch every node server needs around an async handler (without it the first malformed body
 * would be an unhandled rejection); it answers 500, as Hilfenetz's server did before its own handler.
 *
 * `npm run bench:updates` uses it as its baseline too, and with POLLING=1 as grammY's own `bot.start()`.
 *
 * Usage (by bot-process.ts only): fork with the environment BOT_TOKEN, TELEGRAM_API_ROOT and either
 * WEBHOOK_SECRET and PORT, or POLLING=1; prints `ready` when it listens (or polls).
 */
import { createServer } from 'node:http';
import { Bot, webhookCallback } from 'grammy';

async function main(): Promise<void> {
  const { BOT_TOKEN, TELEGRAM_API_ROOT, WEBHOOK_SECRET, PORT, POLLING } = process.env;
  if (!BOT_TOKEN || !TELEGRAM_API_ROOT) throw new Error('echo-bot: BOT_TOKEN and TELEGRAM_API_ROOT are required');
  const bot = new Bot(BOT_TOKEN, { client: { apiRoot: TELEGRAM_API_ROOT } });
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
