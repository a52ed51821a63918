import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Bot, BotError } from 'grammy';
import type { Update } from 'grammy/types';
import { z } from 'zod';
import type { Context } from '../bot/context';
import { describeError, type Logger } from '../logger';

export interface WebhookHandlerOptions {
  bot: Bot<Context>;
  /** The secret given to setWebhook; Telegram sends it in `X-Telegram-Bot-Api-Secret-Token`. */
  secret: string;
  logger: Logger;
  /** False until the bot has confirmed its identity with Telegram (getMe); default: `bot.isInited()`. */
  isReady?: () => boolean;
  /** Largest body read; Telegram's updates are a few KiB. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Deepest nesting of arrays and objects accepted; Telegram's updates nest about 6 deep. Default 64. */
  maxDepth?: number;
  /** After this long Telegram gets its 200 and the update finishes in the background. Default 25 s. */
  timeoutMs?: number;
}

/** Answers one request Telegram (or anyone else) posts to the webhook path. */
export type WebhookHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_MAX_DEPTH = 64;
// Telegram waits at most ~60 s; a slow update is better finished than delivered twice.
const DEFAULT_TIMEOUT_MS = 25_000;
const RETRY_AFTER_SECONDS = 5;
const SECRET_HEADER = 'x-telegram-bot-api-secret-token';
const JSON_TYPE = { 'content-type': 'application/json' } as const;

/** The one thing every update has; the rest is passed on as it came. */
const updateShape = z.looseObject({ update_id: z.number().int().min(0) });

/**
 * The webhook endpoint. Telegram delivers an update again after a 5xx and never after a 4xx, so
 * whatever cannot become an update (wrong secret, too large, too deeply nested, not JSON, not an
 * update) gets a short 4xx, logged at debug level only, and costs at most `maxBodyBytes` of memory
 * and one linear scan; only a failure while the bot handles a real update (e.g. the database is away
 * and the error boundary rethrows) answers 500 so that Telegram tries again.
 *
 * Status by input:
 * - 503 + `retry-after` while `isReady()` is false (body not read, connection closed);
 * - 401 without the right secret header (compared in constant time; body not read, connection closed);
 * - 413 when content-length declares more than `maxBodyBytes`, or a chunked body grows past it
 *   (reading stops, connection closed);
 * - 400 when the body nests deeper than `maxDepth` (checked before parsing), is no JSON, or is not an
 *   object with an integer `update_id` ≥ 0;
 * - 200 when the bot handled the update, or when it is still running after `timeoutMs`;
 * - 500 when the bot's handling threw: the handler answers and logs it itself (warn, `describeError`)
 *   and never rejects, so a caller's catch stays only as a last resort.
 *
 * The update goes to `bot.handleUpdate` rather than through grammY's `webhookCallback`: with
 * `onTimeout: 'return'`, webhookCallback leaves the update's promise without a rejection handler once
 * it has answered (grammY 1.46, `timeoutIfNecessary`: `task.finally(...)`), so an update that fails after
 * the timeout (the database went away meanwhile) is an unhandled rejection and ends the process. Here the
 * same semantics (answer after the timeout, webhook replies through the envelope) keep a handler on it.
 */
export function createWebhookHandler(options: WebhookHandlerOptions): WebhookHandler {
  const { bot, logger } = options;
  const isReady = options.isReady ?? (() => bot.isInited());
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const expectedSecret = digest(options.secret);

  const refuse = (res: ServerResponse, status: number, error: string, closeConnection: boolean, headers: Record<string, string> = {}) => {
    logger.debug({ status, error }, 'webhook request refused');
    if (res.headersSent) return;
    // Closing the connection is what lets us leave an unread body unread: on a kept-alive connection
    // Node would read (and discard) the rest of it to get to the next request.
    res.writeHead(status, { ...JSON_TYPE, ...headers, ...(closeConnection ? { connection: 'close' } : {}) });
    res.end(JSON.stringify({ error }));
  };

  return async (req, res) => {
    if (!isReady()) {
      refuse(res, 503, 'starting, try again', true, { 'retry-after': String(RETRY_AFTER_SECONDS) });
      return;
    }
    const header = req.headers[SECRET_HEADER];
    if (typeof header !== 'string' || !timingSafeEqual(digest(header), expectedSecret)) {
      refuse(res, 401, 'unauthorized', true);
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      refuse(res, 413, 'body too large', true);
      return;
    }
    const body = await readBody(req, maxBodyBytes);
    if (body === 'too-large') {
      refuse(res, 413, 'body too large', true);
      return;
    }
    if (body === 'aborted') return; // the client went away; nobody to answer
    const parsed = parseUpdate(body.toString('utf8'), maxDepth);
    if (typeof parsed === 'string') {
      refuse(res, 400, parsed, false);
      return;
    }
    await handOver(parsed, res);
  };

  async function handOver(update: Update, res: ServerResponse): Promise<void> {
    let webhookReplied = false;
    // grammY uses the envelope while it has `send`: once Telegram has been answered (the timeout below),
    // it goes, and a closing call that would have been the reply becomes a request of its own.
    const envelope: { send?: (json: string) => Promise<void> } = {
      async send(json: string) {
        webhookReplied = true;
        if (!res.headersSent) res.writeHead(200, JSON_TYPE).end(json);
      },
    };
    const task = bot.handleUpdate(update, envelope);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, 'timeout');
    });
    try {
      const outcome = await Promise.race([task.then(() => 'done' as const), timedOut]);
      if (outcome === 'timeout') {
        envelope.send = undefined;
        logger.warn({ update_id: update.update_id, timeoutMs }, 'update still running; answered Telegram so that it is not delivered twice');
        task.catch((err: unknown) => {
          logger.warn({ update_id: update.update_id, err: describeError(unwrap(err)) }, 'update failed after Telegram was answered');
        });
      }
      if (!webhookReplied && !res.headersSent) res.writeHead(200).end();
    } catch (err) {
      logger.warn({ update_id: update.update_id, err: describeError(unwrap(err)) }, 'webhook update failed; Telegram will retry');
      if (!res.headersSent) res.writeHead(500, JSON_TYPE).end('{"error":"update failed, please retry"}');
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The body as JSON text decoded into an update, or the reason it is none. Nesting is measured before
 * JSON.parse so that no later recursive walk over the update (ours or a library's) can overflow the stack.
 */
export function parseUpdate(text: string, maxDepth: number): Update | 'too deeply nested' | 'not json' | 'not an update' {
  if (nestingDepthExceeds(text, maxDepth)) return 'too deeply nested';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not json';
  }
  // The original object goes on (zod would hand back a copy); the parse only vouches for its shape.
  return updateShape.safeParse(value).success ? (value as Update) : 'not an update';
}

/**
 * Whether arrays and objects in the JSON text nest deeper than `maxDepth`: one pass over the characters
 * with a counter, skipping string contents (a bracket or an escaped quote inside a string does not count).
 * Malformed text is left to JSON.parse.
 */
export function nestingDepthExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++; // the escaped character, whatever it is, does not end the string
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

/**
 * The request body, unless it grows past `maxBytes` (reading stops there) or the client goes away first.
 * Nothing of the request is kept once this settles.
 */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: Buffer | 'too-large' | 'aborted') => {
      req.off('data', onData).off('end', onEnd).off('error', onAbort).off('close', onAbort);
      chunks.length = 0;
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.pause();
        finish('too-large');
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = () => finish(Buffer.concat(chunks, size));
    const onAbort = () => finish('aborted');
    req.on('data', onData).once('end', onEnd).once('error', onAbort).once('close', onAbort);
  });
}

function digest(value: string): Buffer {
  // Hashing first gives both sides the same length, so the comparison leaks neither content nor length.
  return createHash('sha256').update(value, 'utf8').digest();
}

function unwrap(err: unknown): unknown {
  return err instanceof BotError ? err.error : err;
}
