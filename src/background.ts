import { deleteExpiredWebAccess } from './domain/web-auth';
import { Api } from 'grammy';
import type { Deps } from './bot/context';
import type { Config } from './config';
import type { DatabaseHandle } from './db';
import { describeError } from './logger';
import { createRenderers } from './delivery';
import { updateNoticeProgress } from './delivery/notice-progress';
import { DeliveryWorker } from './delivery/worker';
import { createRetentionSweep } from './domain/privacy';
import { announceDesk, deskContext, moveOverdueNeedsToDesk } from './domain/desk';
import { askDueFollowUps } from './domain/follow-up';
import { syncChannelMirrors } from './domain/channels';
import { announceModerationQueue } from './domain/moderation';
import { createSessionSweep } from './domain/sessions';
import { expirePosts, remindExpiringPosts } from './domain/sweeps';
import { catchUpHelperStats, sendDueWaves, waveJobPeriodMs, waveSettings } from './domain/waves';
import type { CityDirectory } from './city';
import { Scheduler, type ScheduledSweep } from './scheduler';
import type { TelegramHealth } from './telegram-health';
import { createTranslationService, type TranslationService } from './translate/service';

/** What runs besides update handling: the outbox sender and the periodic sweeps. */
export interface BackgroundWork {
  worker: DeliveryWorker;
  scheduler: Scheduler;
  /** Machine translation (TRANSLATE_URL), null when off. */
  translation: TranslationService | null;
  stop(): Promise<void>;
}

export interface BackgroundOptions {
  config: Config;
  database: DatabaseHandle;
  deps: Omit<Deps, 'config'>;
  /** The bot's API client; its options (API root, fetch) are reused, its transformers are not. */
  api: Api;
  botUsername: string;
  /** Watches the sender's calls to Telegram too. */
  health?: TelegramHealth;
  /** The process's translation service when main built it already (it also serves the bot); else built here from the config. */
  translation?: TranslationService | null;
  /** Overrides for tests: per-chat spacing, timings. */
  worker?: Partial<ConstructorParameters<typeof DeliveryWorker>[0]>;
}

/** The periodic sweeps every process runs (each guarded by an advisory lock, or claiming its work row by row). */
export function createSweeps(
  config: Pick<Config, 'RETENTION_DAYS' | 'SESSION_TTL_DAYS' | 'WAVE_SIZE' | 'WAVE_INTERVAL' | 'HELPER_WEEKLY_CAP' | 'QUIET_HOURS' | 'DESK_AFTER' | 'FOLLOW_UP_AFTER'>,
  city: CityDirectory,
): ScheduledSweep[] {
  const waves = { timeZone: city.timezone, quietHours: config.QUIET_HOURS, waves: waveSettings(config, city), isProtected: (c: string) => city.isProtected(c) };
  return [
    // Often enough that a due wave goes out within 5 s or 10% of WAVE_INTERVAL; an index scan when nothing is due.
    { name: 'send-due-waves', everyMs: waveJobPeriodMs(config.WAVE_INTERVAL), claims: (db, clock) => sendDueWaves(db, { ...waves, clock }) },
    // Helpers told, answering or erased since the last run (and those whose windows moved on) get their
    // statistics written onto their subscriptions: the rankings count them afresh until then, so the fewer
    // the cheaper. Off the path of publishing.
    { name: 'catch-up-helper-stats', everyMs: 5_000, sweep: (db, clock) => catchUpHelperStats(db, clock.now()) },
    // Same promise for the desk and the follow-up: within 5 s or 10% of DESK_AFTER / FOLLOW_UP_AFTER. Each
    // claims its rows with a conditional UPDATE … RETURNING (SKIP LOCKED for the follow-up), in every process.
    {
      name: 'move-needs-to-desk',
      everyMs: waveJobPeriodMs(config.DESK_AFTER),
      claims: (db, clock) => moveOverdueNeedsToDesk(db, deskContext(config, clock, city.timezone)),
    },
    { name: 'ask-follow-ups', everyMs: waveJobPeriodMs(config.FOLLOW_UP_AFTER), claims: (db, clock) => askDueFollowUps(db, clock) },
    // New desk items at most every two minutes, in one message; unclaimed ones again daily.
    { name: 'announce-desk', everyMs: 120_000, sweep: announceDesk },
    // Cards in the city's channels follow their posts within seconds (sent at each channel's pace).
    { name: 'sync-channel-mirrors', everyMs: 5_000, sweep: syncChannelMirrors },
    { name: 'remind-expiring-posts', everyMs: 60_000, sweep: remindExpiringPosts },
    { name: 'expire-posts', everyMs: 60_000, sweep: expirePosts },
    // Coordinators hear about new reports at most every two minutes, in one message.
    { name: 'announce-moderation', everyMs: 120_000, sweep: announceModerationQueue },
    // Retention counts in days: once an hour is precise enough and keeps the scans rare.
    { name: 'erase-expired-texts', everyMs: 3_600_000, sweep: createRetentionSweep(config.RETENTION_DAYS) },
    { name: 'delete-stale-sessions', everyMs: 3_600_000, sweep: createSessionSweep(config.SESSION_TTL_DAYS) },
    // Web desk login links and sessions a day past their end open nothing; they go.
    { name: 'delete-expired-web-access', everyMs: 3_600_000, sweep: deleteExpiredWebAccess },
  ];
}

/**
 * A Bot API client for the sender: same server and options as the bot, but without auto-retry, because
 * the sender handles 429 for all messages at once instead of letting each call sleep.
 */
export function createDeliveryApi(config: Config, api: Api, health?: TelegramHealth): Api {
  const delivery = new Api(config.BOT_TOKEN, { ...api.options, timeoutSeconds: 30 });
  if (health) delivery.config.use(health.transformer);
  return delivery;
}

/** Starts the background work of one process. */
export function startBackgroundWork(options: BackgroundOptions): BackgroundWork {
  const { config, deps } = options;
  // The translation job wakes the sender when messages that waited for a translation became due.
  const translation =
    options.translation !== undefined ? options.translation : createTranslationService(config, { db: deps.db, clock: deps.clock, logger: deps.logger, onReleased: () => worker.wake() });
  const worker = new DeliveryWorker({
    db: deps.db,
    api: createDeliveryApi(config, options.api, options.health),
    clock: deps.clock,
    logger: deps.logger.child({ component: 'delivery' }),
    renderers: createRenderers(),
    renderEnv: { db: deps.db, clock: deps.clock, config, city: deps.city, i18n: deps.i18n, botUsername: options.botUsername, ...(translation ? { translation } : {}) },
    rate: config.BROADCAST_RATE,
    paidBroadcast: config.PAID_BROADCAST,
    ...options.worker,
  });
  const scheduler = new Scheduler(deps.db, deps.clock, deps.logger.child({ component: 'scheduler' }), createSweeps(config, deps.city));
  void worker.start();
  scheduler.start();
  translation?.runner.start();
  const progressEnv = { db: deps.db, api: options.api, clock: deps.clock, i18n: deps.i18n, city: deps.city, logger: deps.logger, rate: config.BROADCAST_RATE };
  let progressRunning: Promise<unknown> | undefined;
  const progressTimer = setInterval(() => {
    progressRunning ??= updateNoticeProgress(progressEnv)
      .catch((err) => deps.logger.warn({ err: describeError(err) }, 'notice progress failed'))
      .finally(() => (progressRunning = undefined));
  }, 1_000);
  return {
    worker,
    scheduler,
    translation,
    async stop() {
      clearInterval(progressTimer);
      await progressRunning;
      await translation?.runner.stop();
      await scheduler.stop();
      await worker.stop();
    },
  };
}
