/**
 * Composition root: config → logger → city → database (+ migrations) → bot → background work →
 * HTTP server → polling | webhook | worker, and a clean shutdown on SIGINT/SIGTERM.
 */
import { run, type RunnerHandle } from '@grammyjs/runner';
import { GrammyError } from 'grammy';
import { createBot } from './bot';
import { registerDefaultCommands } from './bot/commands';
import { InFlightUpdates } from './bot/in-flight';
import { CityDirectory, CityFileError, loadCity } from './city';
import { systemClock } from './clock';
import { type Config, ConfigError, loadConfig } from './config';
import { createDatabase, type DatabaseHandle } from './db';
import { runMigrations } from './db/migrate';
import { createTranslator } from './i18n';
import { createLogger, type Logger } from './logger';
import { startBackgroundWork, type BackgroundWork } from './background';
import { startServer } from './server';

/** The update types Hilfenetz handles; Telegram sends nothing else. */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query', 'my_chat_member'] as const;

const SHUTDOWN_GRACE_MS = 10_000;

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(`${err.message}\n\nSee .env.example and the README for every variable.`);
    throw err;
  }
  const logger = createLogger(config.LOG_LEVEL);
  let city: CityDirectory;
  try {
    city = new CityDirectory(loadCity(config.CITY_FILE));
  } catch (err) {
    if (err instanceof CityFileError) fail(err.message);
    throw err;
  }
  const i18n = createTranslator(config.DEFAULT_LOCALE);

  const database = await createDatabase({ ...config, logger });
  await runMigrations(database);
  logger.info({ driver: database.driver }, 'database ready');

  const inFlight = new InFlightUpdates();
  let background: BackgroundWork | undefined;
  const deps = { db: database.db, logger, clock: systemClock, city, i18n, wakeDelivery: () => background?.worker.wake() };
  const bot = createBot(config, deps, { rethrowTransient: config.BOT_MODE === 'webhook', inFlight });

  let stopping = false;
  let runner: RunnerHandle | undefined;
  let server: Awaited<ReturnType<typeof startServer>> | undefined;

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.warn('shutdown took too long, exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS * 3);
    force.unref();
    try {
      if (runner?.isRunning()) await runner.stop();
      const idle = await inFlight.idle(SHUTDOWN_GRACE_MS);
      if (!idle) logger.warn({ inFlight: inFlight.size }, 'updates still running at shutdown');
      await background?.stop();
      await server?.close();
      await database.close();
      logger.info('stopped');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  await initBot(bot, logger, () => stopping);
  if (stopping) return;
  logger.info({ username: bot.botInfo.username, mode: config.BOT_MODE }, 'bot identity confirmed');
  void registerDefaultCommands(bot.api, i18n, config.DEFAULT_LOCALE, logger);

  background = startBackgroundWork({ config, database, deps, api: bot.api, botUsername: bot.botInfo.username });

  const webhookPath = config.WEBHOOK_URL ? new URL(config.WEBHOOK_URL).pathname : '/telegram';
  server = await startServer({
    port: config.PORT,
    logger,
    mode: config.BOT_MODE,
    pingDatabase: () => database.ping(),
    webhook:
      config.BOT_MODE === 'webhook' ? { bot, path: webhookPath, secret: config.WEBHOOK_SECRET ?? '' } : undefined,
  });

  if (config.BOT_MODE === 'polling') {
    await bot.api.deleteWebhook().catch((err) => logger.warn({ err: (err as Error).message }, 'could not remove an old webhook'));
    runner = run(bot, {
      runner: { fetch: { allowed_updates: [...ALLOWED_UPDATES], timeout: 30 }, retryInterval: 'exponential', maxRetryTime: Infinity },
    });
    logger.info('long polling started');
    runner.task()?.catch((err) => {
      logger.fatal({ err }, 'polling stopped');
      void shutdown('runner-error');
    });
  } else if (config.BOT_MODE === 'webhook') {
    await bot.api.setWebhook(config.WEBHOOK_URL!, {
      secret_token: config.WEBHOOK_SECRET,
      allowed_updates: [...ALLOWED_UPDATES],
    });
    logger.info({ path: webhookPath }, 'webhook registered');
  } else {
    logger.info('worker mode: delivering and sweeping only, not receiving updates');
  }
}

/**
 * Confirms the token with getMe. A rejected token ends the process with a clear message; an
 * unreachable Telegram is retried with backoff (the process stays up and healthy otherwise).
 */
async function initBot(bot: ReturnType<typeof createBot>, logger: Logger, isStopping: () => boolean): Promise<void> {
  for (let attempt = 1; !isStopping(); attempt++) {
    try {
      await bot.init();
      return;
    } catch (err) {
      if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404)) {
        fail('BOT_TOKEN was rejected by Telegram (401 Unauthorized). Get a valid token from @BotFather and put it into .env.');
      }
      const delay = Math.min(30_000, 1_000 * 2 ** Math.min(attempt, 5));
      logger.warn({ attempt, delayMs: delay, err: (err as Error).message }, 'Telegram not reachable yet, retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Exported for the CLI and tests. */
export type { DatabaseHandle };

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
