import { sequentialize } from '@grammyjs/runner';
import { Bot, type ApiClientOptions, session } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type { Config } from '../config';
import { describeError } from '../logger';
import { createInteractiveRetry, defaultHtml } from './api';
import { canUseWebhookReply, closingCalls } from './closing-calls';
import type { Context, Deps, SessionData } from './context';
import { createErrorHandler } from './errors';
import type { InFlightUpdates } from './in-flight';
import { browseFeature } from './features/browse';
import { cancelFeature } from './features/cancel';
import { channelMembership, channelsFeature } from './features/channels';
import { inlineFeature } from './features/inline';
import { contactsFeature } from './features/contacts';
import { helpFeature } from './features/help';
import { languageFeature } from './features/language';
import { moderationFeature } from './features/moderation';
import { noticesFeature } from './features/notices';
import { postersFeature } from './features/posters';
import { postsFeature } from './features/posts';
import { privacyFeature } from './features/privacy';
import { settingsFeature } from './features/settings';
import { staffFeature } from './features/staff';
import { startFeature } from './features/start';
import { verificationFeature } from './features/verification';
import { statsFeature } from './features/stats';
import { subscribeFeature } from './features/subscribe';
import { unhandledFeature } from './features/unhandled';
import { dashboardFeature } from './features/dashboard';
import { deskFeature } from './features/desk';
import { followUpFeature } from './features/follow-up';
import { wavesFeature } from './features/waves';
import { translationFeature } from './features/translation';
import { createChatLease } from './middleware/chat-lease';
import { injectDeps } from './middleware/deps';
import { privateOnly } from './middleware/private-only';
import { createRateLimiter } from './middleware/rate-limit';
import { replaceNul } from './middleware/sanitize';
import { guessLocale, loadUser } from './middleware/user';
import { DrizzleSessionStorage } from './session-storage';

/** Options that differ between production and tests; production passes none of them. */
export interface CreateBotOptions {
  /** Known bot identity; skips getMe (tests). Production calls bot.init(). */
  botInfo?: UserFromGetMe;
  /** Extra Bot API client options, e.g. a Bot API stand-in's fetch. */
  client?: Partial<ApiClientOptions>;
  /** Webhook mode: a database outage fails the update so that Telegram delivers it again. */
  rethrowTransient?: boolean;
  /**
   * Per-user flood limit; production uses the default. Tests that fire scripted updates faster than
   * any person could raise it, and the flood test sets it explicitly.
   */
  userRateLimit?: { limit: number; timeFrameMs: number };
  /** Counts updates in flight (graceful shutdown waits for them). */
  inFlight?: InFlightUpdates;
}

/** Session key: one session per private chat. */
export function getSessionKey(ctx: { chat?: { id: number; type: string } }): string | undefined {
  return ctx.chat?.type === 'private' ? String(ctx.chat.id) : undefined;
}

/** The bot as production runs it; tests build the very same one. */
export function createBot(config: Config, deps: Omit<Deps, 'config'>, options: CreateBotOptions = {}): Bot<Context> {
  const bot = new Bot<Context>(config.BOT_TOKEN, {
    botInfo: options.botInfo,
    // A hung call to Telegram fails after 30 s (and auto-retry tries again) instead of holding an update.
    client: { apiRoot: config.TELEGRAM_API_ROOT, timeoutSeconds: 30, canUseWebhookReply, ...options.client },
  });
  bot.api.config.use(createInteractiveRetry());
  bot.api.config.use(defaultHtml);

  if (options.inFlight) bot.use(options.inFlight.middleware);
  bot.use(injectDeps({ ...deps, config }));
  bot.use(replaceNul);
  bot.use(sequentialize(getSessionKey));
  const guarded = bot.errorBoundary(createErrorHandler({ rethrowTransient: options.rethrowTransient ?? false }));
  // Telegram telling that the bot was removed from (or demoted in) a connected channel or group.
  guarded.use(channelMembership);
  guarded.use(privateOnly);
  guarded.use(createRateLimiter(options.userRateLimit));
  guarded.use(closingCalls);
  const sessions = new DrizzleSessionStorage<SessionData>(deps.db, deps.clock);
  guarded.use(guessLocale);
  // The lease loads the sender with the chat's session; loadUser covers updates without a private chat.
  guarded.use(createChatLease(getSessionKey, sessions));
  guarded.use(loadUser);
  guarded.use(session<SessionData, Context>({ initial: () => ({}), storage: sessions, getSessionKey }));
  // Order matters: dialogs that consume typed input come before the relay, which takes the rest.
  guarded.use(browseFeature);
  guarded.use(inlineFeature);
  guarded.use(channelsFeature);
  guarded.use(staffFeature);
  guarded.use(verificationFeature);
  guarded.use(startFeature);
  guarded.use(postsFeature);
  guarded.use(noticesFeature);
  guarded.use(moderationFeature);
  guarded.use(contactsFeature);
  guarded.use(wavesFeature);
  guarded.use(translationFeature);
  guarded.use(deskFeature);
  guarded.use(dashboardFeature);
  guarded.use(followUpFeature);
  guarded.use(subscribeFeature);
  guarded.use(settingsFeature);
  guarded.use(privacyFeature);
  guarded.use(statsFeature);
  guarded.use(postersFeature);
  guarded.use(languageFeature);
  guarded.use(helpFeature);
  guarded.use(cancelFeature);
  guarded.use(unhandledFeature);

  // Last resort, outside the boundary (e.g. a rethrown transient error in polling mode): log only.
  bot.catch((err) => {
    deps.logger.error({ update_id: err.ctx.update.update_id, err: describeError(err.error) }, 'update failed');
  });
  return bot;
}
