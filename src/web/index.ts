import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { createWebApp, type WebDeps } from './app';

export { createWebApp, type WebDeps } from './app';

/** Serves the web desk's requests (paths under /web) on the bot's own HTTP server. */
export type WebHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * The web desk as a node request handler: @hono/node-server turns node's request into a web Request
 * for Hono and writes Hono's Response back, streaming the body (so the body limit applies while reading).
 */
export function createWebHandler(deps: WebDeps): WebHandler {
  const app = createWebApp(deps);
  const listener = getRequestListener(app.fetch, { overrideGlobalObjects: false });
  return async (req, res) => {
    await listener(req, res);
  };
}
