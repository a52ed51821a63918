/**
 * The baseline of `npm run bench:hostile`: a bare grammY echo bot behind grammY's stock
 * `webhookCallback(bot, 'http')` on a plain node http server, run as its own process. The only addition
 * is the catch every node server needs around an async handler (without it the first malformed body
 * would be an unhandled rejection); it answers 500, as Hilfenetz's server did before its own handler.
 *
 * Usage (by hostile-run.ts only): fork with the environment BOT_TOKEN, TELEGRAM_API_ROOT,
 * WEBHOOK_SECRET and PORT; prints `ready` when it listens.
 */
import { createServer } from 'node:http';
import { Bot, webhookCallback } from 'grammy';

async function main(): Promise<void> {
  const { BOT_TOKEN, TELEGRAM_API_ROOT, WEBHOOK_SECRET, PORT } = process.env;
  if (!BOT_TOKEN || !TELEGRAM_API_ROOT || !WEBHOOK_SECRET || !PORT) throw new Error('echo-bot: BOT_TOKEN, TELEGRAM_API_ROOT, WEBHOOK_SECRET and PORT are required');
  const bot = new Bot(BOT_TOKEN, { client: { apiRoot: TELEGRAM_API_ROOT } });
  bot.on('message:text', (ctx) => ctx.reply(ctx.message.text));
  await bot.init();
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
