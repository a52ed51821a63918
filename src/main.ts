/**
 * Composition root: config + city → logger → HTTP server (/healthz from the first second) → database
 * (+ migrations) → bot → the bot's identity from Telegram → background work → polling | webhook |
 * worker, and a clean shutdown on SIGINT/SIGTERM. Every failure at start ends in one line that names
 * the variable to fix and exit code 1.
 */
import { run, type RunnerHandle } from '@grammyjs/runner';
import { GrammyError, HttpError } from 'grammy';
import { createBot } from './bot';
import { registerDefaultCommands, registerMenuButton } from './bot/commands';
import { InFlightUpdates } from './bot/in-flight';
import { systemClock } from './clock';
import { ConfigError } from './config';
import { createDatabase, type DatabaseHandle } from './db';
import { createDeliveryPort } from './delivery/port';
import { runMigrations } from './db/migrate';
import { createTranslator } from './i18n';
import { createLogger, describeError, type Logger } from './logger';
import { startBackgroundWork, type BackgroundWork } from './background';
import { createTranslationService } from './translate/service';
import { type RunningServer, startServer } from './server';
import { createWebhookHandler } from './server/webhook';
import { createWebHandler } from './web';
import { loadStartup } from './startup';
import { describeDatabaseStartError, describeListenError } from './startup-errors';
import { confirmIdentity, createProbeApi, identityRetryDelayMs, pollingStoppedMessage, TelegramHealth } from './telegram-health';

/** The update types Hilfenetz handles; Telegram sends nothing else. */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query', 'my_chat_member'] as const;

const SHUTDOWN_GRACE_MS = 10_000;
/** getUpdates is tried again this often while Telegram or the network is away (a few seconds at most). */
const POLL_RETRY_MS = 1_000;

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

async function main(): Promise<void> {
  let startup: ReturnType<typeof loadStartup>;
  try {
    startup = loadStartup();
  } catch (err) {
    if (err instanceof ConfigError) fail(`${err.message}\n\nSee .env.example and the README for every variable.`);
    throw err;
  }
  const { config, city } = startup;
  const logger = createLogger(config.LOG_LEVEL);
  // The last line of defence: a promise nobody awaited must not end the service for everyone.
  process.on('unhandledRejection', (err) => logger.error({ err: describeError(err, { stack: true }) }, 'unhandled rejection (the process keeps running)'));
  const i18n = createTranslator(config.DEFAULT_LOCALE);
  const health = new TelegramHealth({ logger: logger.child({ component: 'telegram' }), degradedAfterMs: config.TELEGRAM_DEGRADED_AFTER });

  let database: DatabaseHandle | undefined;
  /** The translation engine's state once background work runs (for /healthz). */
  let translationState: (() => unknown) | undefined;
  const webhookPath = config.WEBHOOK_URL ? new URL(config.WEBHOOK_URL).pathname : '/telegram';
  let server: RunningServer;
  try {
    server = await startServer({
      port: config.PORT,
      logger,
      mode: config.BOT_MODE,
      pingDatabase: () => (database ? database.ping() : Promise.reject(new Error('not open yet'))),
      telegram: () => health.state(),
      translation: () => translationState?.() ?? { state: config.TRANSLATE_URL ? 'starting' : 'off' },
      webhookPath: config.BOT_MODE === 'webhook' ? webhookPath : undefined,
    });
  } catch (err) {
    fail(describeListenError(err, config.PORT));
  }

  try {
    database = await createDatabase({ ...config, logger, seedPglite: true });
    await database.ping();
  } catch (err) {
    fail(describeDatabaseStartError(err, config.DATABASE_URL, config.DATA_DIR));
  }
  try {
    await runMigrations(database);
  } catch (err) {
    const summary = describeError(err);
    fail(`The database migrations failed (${summary.code ? `${summary.code}: ` : ''}${summary.message}). Nothing was changed by the failed step; see the README on migrations.`);
  }
  logger.info({ driver: database.driver }, 'database ready');

  const inFlight = new InFlightUpdates();
  let background: BackgroundWork | undefined;
  const delivery = createDeliveryPort(
    () => ({ db: database.db, api: bot.api, clock: systemClock, i18n, city, logger, rate: config.BROADCAST_RATE }),
    () => background?.worker.wake(),
  );
  // One translation service per process: the bot asks it for staff's notice texts, background work runs its job.
  const translation = createTranslationService(config, { db: database.db, clock: systemClock, logger, onReleased: () => background?.worker.wake() });
  if (translation) translationState = () => translation.state();
  const deps = { db: database.db, logger, clock: systemClock, city, i18n, delivery, ...(translation ? { translator: translation.engine } : {}) };
  const bot = createBot(config, deps, { rethrowTransient: config.BOT_MODE === 'webhook', inFlight });
  bot.api.config.use(health.transformer);
  if (config.PUBLIC_URL) {
    // The coordinators' web desk on the same server as /healthz and the webhook; off without PUBLIC_URL.
    server.setWebHandler(createWebHandler({ db: database.db, clock: systemClock, city, i18n, logger: logger.child({ component: 'web' }), config, wake: () => background?.worker.wake(), botUsername: () => (bot.isInited() ? bot.botInfo.username : undefined) }));
    logger.info({ url: `${config.PUBLIC_URL}/web/` }, 'web desk enabled');
  }
  if (config.BOT_MODE === 'webhook') {
    server.setWebhookHandler(createWebhookHandler({ bot, secret: config.WEBHOOK_SECRET ?? '', logger, isReady: () => bot.isInited() }));
  }

  let stopping = false;
  let runner: RunnerHandle | undefined;

  const shutdown = async (reason: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    const force = setTimeout(() => {
      logger.warn('shutdown took too long, exiting');
      process.exit(exitCode || 1);
    }, SHUTDOWN_GRACE_MS * 3);
    force.unref();
    try {
      health.stopProbing();
      if (runner?.isRunning()) await runner.stop();
      const idle = await inFlight.idle(SHUTDOWN_GRACE_MS);
      if (!idle) logger.warn({ inFlight: inFlight.size }, 'updates still running at shutdown');
      await background?.stop();
      await server.close();
      await database?.close();
      logger.info('stopped');
      process.exit(exitCode);
    } catch (err) {
      logger.error({ err: describeError(err) }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  const probe = createProbeApi(config.BOT_TOKEN, health, { apiRoot: config.TELEGRAM_API_ROOT, ...bot.api.options });
  const identity = await confirmIdentity(probe, logger, () => stopping);
  if (!identity) return;
  if (!identity.ok) {
    fail('BOT_TOKEN was rejected by Telegram (401 Unauthorized). Get a valid token from @BotFather and put it into .env.');
  }
  bot.botInfo = identity.me;
  health.startProbing(probe);
  logger.info({ username: identity.me.username, mode: config.BOT_MODE }, 'bot identity confirmed');
  void registerDefaultCommands(bot.api, i18n, config.DEFAULT_LOCALE, logger);
  void registerMenuButton(bot.api, logger);

  background = startBackgroundWork({ config, database, deps, api: bot.api, botUsername: identity.me.username, health, translation });

  if (config.BOT_MODE === 'polling') {
    await bot.api.deleteWebhook().catch((err) => logger.warn({ err: describeError(err) }, 'could not remove an old webhook'));
    runner = run(bot, {
      runner: {
        fetch: { allowed_updates: [...ALLOWED_UPDATES], timeout: 30 },
        // A constant, short pause: after an outage, updates flow again within a second or two. The
        // health watch logs the outage and its end; the runner itself stays silent.
        retryInterval: POLL_RETRY_MS,
        maxRetryTime: Infinity,
        silent: true,
      },
    });
    logger.info('long polling started');
    runner.task()?.catch((err) => {
      logger.fatal({ err: describeError(err) }, pollingStoppedMessage(err));
      void shutdown('polling stopped', 1);
    });
  } else if (config.BOT_MODE === 'webhook') {
    await registerWebhook(bot, config.WEBHOOK_URL!, config.WEBHOOK_SECRET!, logger, () => stopping);
  } else {
    logger.info('worker mode: delivering and sweeping only, not receiving updates');
  }
}

/** Registers the webhook; Telegram being away is retried like getMe, a refused URL ends the start. */
async function registerWebhook(bot: ReturnType<typeof createBot>, url: string, secret: string, logger: Logger, stopped: () => boolean): Promise<void> {
  for (let attempt = 1; !stopped(); attempt++) {
    try {
      await bot.api.setWebhook(url, { secret_token: secret, allowed_updates: [...ALLOWED_UPDATES] });
      logger.info({ path: new URL(url).pathname }, 'webhook registered');
      return;
    } catch (err) {
      if (err instanceof GrammyError && err.error_code === 401) fail('BOT_TOKEN was rejected by Telegram (401 Unauthorized) when setting the webhook.');
      if (err instanceof GrammyError && err.error_code === 400) fail(`WEBHOOK_URL: Telegram refused it (${err.description}). It must be a public https URL.`);
      if (!(err instanceof GrammyError || err instanceof HttpError)) throw err;
      const delay = identityRetryDelayMs(attempt);
      logger.warn({ attempt, retryInSeconds: delay / 1000, err: describeError(err) }, 'could not register the webhook; retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

main().catch((err) => {
  const summary = describeError(err, { stack: true });
  console.error(`Hilfenetz stopped unexpectedly: ${summary.type}: ${summary.message}\n${summary.stack ?? ''}`);
  process.exit(1);
});
