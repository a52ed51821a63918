import { autoRetry } from '@grammyjs/auto-retry';
import type { Transformer } from 'grammy';

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

/**
 * Retries for answers to the acting user (@grammyjs/auto-retry): a 429 or a 5xx from Telegram waits and
 * tries again instead of failing the update, but never longer than a person would wait.
 */
export function createInteractiveRetry(): Transformer {
  return autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 20 });
}
