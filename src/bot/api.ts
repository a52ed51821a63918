import { autoRetry } from '@grammyjs/auto-retry';
import { HttpError, type Transformer } from 'grammy';

/** Methods whose text or caption we always write as Telegram HTML. */
const HTML_METHODS = new Set([
  'sendMessage',
  'editMessageText',
  'sendPhoto',
  'sendDocument',
  'copyMessage',
  'editMessageCaption',
]);

/**
 * Every text the bot writes is Telegram HTML (translations use <b>/<i>; values are escaped by the
 * translator), so parse_mode is set once here instead of at each call.
 */
export const defaultHtml: Transformer = (prev, method, payload) => {
  if (HTML_METHODS.has(method) && payload && typeof payload === 'object' && !('parse_mode' in payload)) {
    const p = payload as Record<string, unknown>;
    const hasText = method === 'sendMessage' || method === 'editMessageText' || p.caption !== undefined;
    if (hasText) return prev(method, { ...payload, parse_mode: 'HTML' } as typeof payload);
  }
  return prev(method, payload);
};

/** Pauses between attempts after a network error (no answer from Telegram at all). */
const NETWORK_RETRY_DELAYS_MS = [1_000, 2_000, 4_000];

/**
 * Retries for answers to the acting user: a 429 or a 5xx from Telegram waits and tries again
 * (@grammyjs/auto-retry) instead of failing the update, and so does a network error, a few times
 * within seconds. Never longer than a person would wait: auto-retry alone would retry a network error
 * forever, doubling its pause up to an hour, while the update (and that chat) waits. getUpdates is not
 * retried here: the runner retries it every second and the health watch logs the outage.
 */
export function createInteractiveRetry(delaysMs: readonly number[] = NETWORK_RETRY_DELAYS_MS): Transformer {
  const retryAnswers = autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 20, rethrowHttpErrors: true });
  return async (prev, method, payload, signal) => {
    if (method === 'getUpdates') return prev(method, payload, signal);
    for (let attempt = 0; ; attempt++) {
      try {
        return await retryAnswers(prev, method, payload, signal);
      } catch (err) {
        const delay = delaysMs[attempt];
        if (!(err instanceof HttpError) || delay === undefined || signal?.aborted) throw err;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };
}
