import type { AddressInfo } from 'node:net';
import { startServer, type RunningServer } from '../../src/server';
import { createWebHandler } from '../../src/web';
import type { Harness, TestUser } from './harness';

/**
 * The production HTTP server (src/server, the same one that serves /healthz and the webhook) with the
 * web desk mounted, on a free port, built from the harness's deps — the deps createBot got.
 */
export async function startWebServer(h: Harness): Promise<{ base: string; server: RunningServer; close(): Promise<void> }> {
  const server = await startServer({
    port: 0,
    logger: h.deps.logger,
    mode: 'polling',
    pingDatabase: () => Promise.resolve(),
    telegram: () => ({ state: 'up', lastOkAt: null, silentForSeconds: null }),
  });
  const { db, clock, city, i18n, logger, config } = h.deps;
  server.setWebHandler(createWebHandler({ db, clock, city, i18n, logger, config, wake: () => undefined, botUsername: () => h.telegram.botInfo.username }));
  const port = (server.server.address() as AddressInfo).port;
  return { base: `http://127.0.0.1:${port}`, server, close: () => server.close() };
}

/** The login link's path from the bot's answer to /dashboard (its host is PUBLIC_URL's). */
export async function loginPathFromBot(user: TestUser): Promise<string> {
  await user.send('/dashboard');
  const match = /https?:\/\/[^\s/]+(\/web\/login\/[A-Za-z0-9_-]+)/.exec(user.last.text);
  if (!match) throw new Error(`no login link in: ${user.last.text}`);
  return match[1]!;
}

/** A browser's cookies for one site, enough for HttpOnly session cookies over plain fetch. */
export class WebClient {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(this.base + path, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const [name, ...value] = pair!.split('=');
      const expired = attributes.some((a) => /max-age=0/i.test(a.trim()) || /expires=thu, 01 jan 1970/i.test(a.trim()));
      if (expired) this.cookies.delete(name!.trim());
      else this.cookies.set(name!.trim(), value.join('='));
    }
    return res;
  }

  get(path: string): Promise<Response> {
    return this.request(path);
  }

  post(path: string, form: Record<string, string>): Promise<Response> {
    return this.request(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  }

  /** GET of a login link, then its "Log in" button (with the form's CSRF token); returns the POST's response. */
  async login(path: string): Promise<Response> {
    const page = await this.get(path);
    if (page.status !== 200) return page;
    const csrf = csrfOf(await page.text());
    return this.post(path, { _csrf: csrf });
  }
}

/** The CSRF token of the first form on a page. */
export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF field on the page');
  return match[1]!;
}
