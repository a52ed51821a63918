import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type Bot, webhookCallback } from 'grammy';
import type { Context } from '../bot/context';
import { describeError, type Logger } from '../logger';

export interface ServerOptions {
  port: number;
  logger: Logger;
  /** Resolves when the database answers; /healthz reports it. */
  pingDatabase: () => Promise<void>;
  mode: string;
  /** Webhook mode: the path Telegram posts to and the secret it must send. */
  webhook?: { bot: Bot<Context>; path: string; secret: string };
}

const PING_TIMEOUT_MS = 2_000;

/**
 * The HTTP side: `GET /healthz` (database reachability) in every mode, and in webhook mode the
 * endpoint Telegram posts updates to. grammY's webhookCallback checks the secret-token header (401
 * without it); a handler that fails because the database is away answers 500 so that Telegram
 * delivers the update again.
 */
export async function startServer(options: ServerOptions): Promise<{ server: Server; close(): Promise<void> }> {
  const { logger } = options;
  const handleWebhook = options.webhook
    ? webhookCallback(options.webhook.bot, 'http', {
        secretToken: options.webhook.secret,
        // Telegram waits at most ~60 s; a slow update is better finished than delivered twice.
        onTimeout: 'return',
        timeoutMilliseconds: 25_000,
      })
    : undefined;

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method === 'GET' && path === '/healthz') {
        const database = await withTimeout(options.pingDatabase(), PING_TIMEOUT_MS).then(
          () => 'up',
          () => 'down',
        );
        const status = database === 'up' ? 200 : 503;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: database === 'up' ? 'ok' : 'degraded', database, mode: options.mode }));
        return;
      }
      if (handleWebhook && options.webhook && req.method === 'POST' && path === options.webhook.path) {
        await handleWebhook(req, res);
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    } catch (err) {
      logger.warn({ err: describeError(err), path }, 'webhook update failed; Telegram will retry');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"update failed, please retry"}');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, () => resolve());
  });
  logger.info({ port: options.port }, 'http server listening');
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
