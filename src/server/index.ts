import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { describeError, type Logger } from '../logger';
import type { TelegramState } from '../telegram-health';

/** Handles one webhook request (see createWebhookHandler). */
export type WebhookHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface ServerOptions {
  port: number;
  logger: Logger;
  /** Resolves when the database answers; rejects while it is away (or not opened yet). */
  pingDatabase: () => Promise<void>;
  /** What the bot knows about Telegram (TelegramHealth.state). */
  telegram: () => TelegramState;
  mode: string;
  /** The translation engine's state (reported, never a reason for 503); absent when translation is off. */
  translation?: () => unknown;
  /** Webhook mode: the path Telegram posts to. The handler is attached once the bot is built. */
  webhookPath?: string;
}

/** Handles one request under /web (the coordinators' web desk, src/web). */
export type WebHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** The running HTTP server. */
export interface RunningServer {
  server: Server;
  /** Webhook requests before this is called are answered 503 (Telegram tries again). */
  setWebhookHandler(handler: WebhookHandler): void;
  /** Serves /web with the web desk (only with PUBLIC_URL; without it /web answers 404). */
  setWebHandler(handler: WebHandler): void;
  close(): Promise<void>;
}

const PING_TIMEOUT_MS = 2_000;

/**
 * The HTTP side, started before anything else so that an operator can ask how the bot is while it
 * starts: `GET /healthz` reports the database and Telegram (200 only when both answer; 503 with the
 * details otherwise), `GET /livez` only that the process runs, and in webhook mode the endpoint
 * Telegram posts updates to. A handler that fails because the database is away answers 500 so that
 * Telegram delivers the update again.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { logger } = options;
  let webhook: WebhookHandler | undefined;
  let web: WebHandler | undefined;

  const handleRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method === 'GET' && path === '/healthz') {
        const database = await withTimeout(options.pingDatabase(), PING_TIMEOUT_MS).then(
          () => 'up',
          () => 'down',
        );
        const telegram = options.telegram();
        const healthy = database === 'up' && telegram.state === 'up';
        res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        // Translation is optional: an engine that is down is reported but does not make the bot unhealthy.
        const translation = options.translation?.() ?? { state: 'off' };
        res.end(JSON.stringify({ status: healthy ? 'ok' : 'degraded', database, telegram, translation, mode: options.mode }));
        return;
      }
      if (req.method === 'GET' && path === '/livez') {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end('{"status":"alive"}');
        return;
      }
      if (web && (path === '/web' || path?.startsWith('/web/'))) {
        await web(req, res);
        return;
      }
      if (options.webhookPath && req.method === 'POST' && path === options.webhookPath) {
        if (!webhook) {
          res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' }).end('{"error":"starting"}');
          req.resume();
          return;
        }
        await webhook(req, res);
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      req.resume();
    } catch (err) {
      logger.warn({ err: describeError(err), path }, 'webhook update failed; Telegram will retry');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"update failed, please retry"}');
    }
  };
  // Node ignores a request listener's promise; handleRequest answers every failure itself (the 500 above).
  const server = createServer((req, res) => void handleRequest(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After the start, an error of the listening socket is logged, never a crash.
  server.on('error', (err) => logger.error({ err: describeError(err) }, 'http server error'));
  logger.info({ port: options.port }, 'http server listening');
  return {
    server,
    setWebhookHandler(handler) {
      webhook = handler;
    },
    setWebHandler(handler) {
      web = handler;
    },
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
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
