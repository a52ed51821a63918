import { Api, type ApiClientOptions, GrammyError, HttpError, type Transformer } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type { Logger } from './logger';

/** What /healthz says about Telegram. */
export interface TelegramState {
  /** connecting: no call has succeeded yet; degraded: no call succeeded for TELEGRAM_DEGRADED_AFTER. */
  state: 'up' | 'degraded' | 'connecting';
  lastOkAt: string | null;
  silentForSeconds: number | null;
  /** Why the last call failed, while Telegram is not answering. */
  lastError?: string;
}

export interface TelegramHealthOptions {
  logger: Logger;
  /** TELEGRAM_DEGRADED_AFTER in milliseconds. */
  degradedAfterMs: number;
  /** While Telegram is unreachable, a reminder is logged this often. */
  remindEveryMs?: number;
  now?: () => number;
}

/**
 * Watches every call to Telegram (as an API transformer on each client) and keeps the time of the last
 * answer. It logs an outage once when it starts, a reminder every minute while it lasts and the
 * recovery with its length, and tells /healthz whether Telegram answered recently. Any answer counts
 * as contact (a 400 or a 429 comes from a reachable Telegram); a network error, a timeout or a 5xx
 * does not.
 */
export class TelegramHealth {
  private lastOk: number | undefined;
  private downSince: number | undefined;
  private lastReminder = 0;
  private lastError: string | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing: Promise<unknown> | undefined;
  private readonly now: () => number;
  private readonly remindEveryMs: number;

  constructor(private readonly options: TelegramHealthOptions) {
    this.now = options.now ?? Date.now;
    this.remindEveryMs = options.remindEveryMs ?? 60_000;
  }

  /** Install on every Bot API client: `api.config.use(health.transformer)`. */
  readonly transformer: Transformer = async (prev, method, payload, signal) => {
    try {
      const result = await prev(method, payload, signal);
      if (result.ok || result.error_code < 500) this.succeeded();
      else this.failed(method, `${result.error_code} ${result.description}`);
      return result;
    } catch (err) {
      // A request cancelled on purpose (shutdown, runner stop) says nothing about Telegram.
      if (!signal?.aborted) this.failed(method, err instanceof Error ? err.message.slice(0, 200) : String(err));
      throw err;
    }
  };

  /** The state for /healthz. */
  state(): TelegramState {
    if (this.lastOk === undefined) return { state: 'connecting', lastOkAt: null, silentForSeconds: null, ...(this.lastError ? { lastError: this.lastError } : {}) };
    const silentFor = this.now() - this.lastOk;
    return {
      state: silentFor > this.options.degradedAfterMs ? 'degraded' : 'up',
      lastOkAt: new Date(this.lastOk).toISOString(),
      silentForSeconds: Math.floor(silentFor / 1000),
      ...(this.downSince !== undefined && this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** True while the last call to Telegram failed. */
  get isDown(): boolean {
    return this.downSince !== undefined;
  }

  /**
   * Keeps the state honest when the bot has nothing to say (a quiet night in webhook mode): whenever no
   * call succeeded for half of TELEGRAM_DEGRADED_AFTER, a getMe through `api` asks Telegram directly.
   */
  startProbing(api: Api): void {
    const half = Math.max(500, Math.floor(this.options.degradedAfterMs / 2));
    this.probeTimer = setInterval(() => {
      const silentFor = this.now() - (this.lastOk ?? 0);
      if (this.probing || silentFor < half) return;
      this.probing = api
        .getMe()
        .catch(() => undefined)
        .finally(() => (this.probing = undefined));
    }, Math.min(10_000, Math.max(250, Math.floor(half / 2))));
    this.probeTimer.unref();
  }

  stopProbing(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  private succeeded(): void {
    const now = this.now();
    if (this.downSince !== undefined) {
      this.options.logger.info({ downForSeconds: Math.round((now - this.downSince) / 1000) }, 'Telegram reachable again');
    }
    this.downSince = undefined;
    this.lastError = undefined;
    this.lastOk = now;
  }

  private failed(method: string, reason: string): void {
    const now = this.now();
    this.lastError = reason;
    if (this.downSince === undefined) {
      this.downSince = now;
      this.lastReminder = now;
      this.options.logger.warn({ method, reason }, 'Telegram cannot be reached; retrying');
    } else if (now - this.lastReminder >= this.remindEveryMs) {
      this.lastReminder = now;
      this.options.logger.warn({ method, reason, downForSeconds: Math.round((now - this.downSince) / 1000) }, 'Telegram still cannot be reached; retrying');
    }
  }
}

/** A client for getMe at start and for probes: no retries of its own, and an answer within 5 s or a failure. */
export function createProbeApi(token: string, health: TelegramHealth, client: Partial<ApiClientOptions>): Api {
  const api = new Api(token, { ...client, timeoutSeconds: 5 });
  api.config.use(health.transformer);
  return api;
}

/** The outcome of confirming the bot's identity with getMe. */
export type IdentityResult = { ok: true; me: UserFromGetMe } | { ok: false; rejected: true };

/** Backoff between getMe attempts at start: 1, 2, 4, 8, then every 15 seconds. */
export function identityRetryDelayMs(attempt: number): number {
  return Math.min(15_000, 1_000 * 2 ** Math.max(0, attempt - 1));
}

/**
 * Asks Telegram who the bot is until it answers. A rejected token (401, or 404 for a token of the
 * wrong shape) ends the attempts at once; anything else is retried with a bounded backoff, each
 * attempt logged, until `stopped()` says to give up.
 */
export async function confirmIdentity(api: Api, logger: Logger, stopped: () => boolean, sleep = defaultSleep): Promise<IdentityResult | undefined> {
  for (let attempt = 1; !stopped(); attempt++) {
    try {
      return { ok: true, me: await api.getMe() };
    } catch (err) {
      if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404)) return { ok: false, rejected: true };
      const delay = identityRetryDelayMs(attempt);
      const reason = err instanceof GrammyError ? `${err.error_code} ${err.description}` : err instanceof HttpError ? err.message : String(err);
      logger.warn({ attempt, retryInSeconds: delay / 1000, reason: reason.slice(0, 200) }, 'Telegram did not confirm the bot (getMe); retrying');
      await sleep(delay);
    }
  }
  return undefined;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** What an operator should do when Telegram ends long polling for good (401, 409). */
export function pollingStoppedMessage(err: unknown): string {
  if (err instanceof GrammyError && err.error_code === 409) {
    return 'Telegram refused long polling (409 Conflict): another process is polling with this token, or a webhook is set. Stop the other process (or run this one with BOT_MODE=worker), then start again.';
  }
  if (err instanceof GrammyError && err.error_code === 401) {
    return 'Telegram rejected BOT_TOKEN while polling (401 Unauthorized): the token was revoked. Get a new one from @BotFather and put it into .env.';
  }
  return 'long polling stopped';
}
