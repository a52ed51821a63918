import { eq } from 'drizzle-orm';
import { users, webLogins, webSessions } from '../../src/db/schema';
import { actorOf } from '../../src/domain/permissions';
import { revokeStaff } from '../../src/domain/staff';
import { banUser } from '../../src/domain/moderation';
import { createHarness, type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';
import type { Persona } from '../helpers/updates';
import { csrfOf, loginPathFromBot, startWebServer, WebClient } from '../helpers/web';

const COORDINATOR: Persona = { id: 900_001, first_name: 'Katrin', language_code: 'de' };
const harness = useHarness({ env: { ADMIN_TELEGRAM_IDS: '900001', PUBLIC_URL: 'http://desk.example.org', WEB_LOGIN_TTL: '10m', WEB_SESSION_TTL: '12h' } });
let h: Harness;
let web: Awaited<ReturnType<typeof startWebServer>>;
beforeEach(async () => {
  h = harness.current;
  web = await startWebServer(h);
});
afterEach(async () => {
  await web.close();
});

async function coordinator(): Promise<TestUser> {
  const user = h.user(COORDINATOR);
  await user.send('/start');
  return user;
}

/** Staff of an organisation through the bot: /invite by the coordinator, the link opened by the person. */
async function staff(persona: Persona, organisation = 'Caritas'): Promise<TestUser> {
  const c = await coordinator();
  await c.send(`/invite ${organisation}`);
  const code = /start=staff_([A-Za-z0-9_-]+)/.exec(c.last.text)![1]!;
  const person = h.user(persona);
  await person.send(`/start staff_${code}`);
  return person;
}

async function rowOf(persona: Persona) {
  const [row] = await h.db.db.select().from(users).where(eq(users.telegramId, persona.id));
  return row!;
}

/** Logs a bot user into the web desk; returns the client with the session cookie. */
async function loggedIn(user: TestUser): Promise<WebClient> {
  const client = new WebClient(web.base);
  const res = await client.login(await loginPathFromBot(user));
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe('/web/overview');
  return client;
}

describe('logging in with a link from the bot', () => {
  it('without a cookie every page leads to the login page, which says how to get a link', async () => {
    const client = new WebClient(web.base);
    for (const path of ['/web/overview', '/web/needs', '/web/desk', '/web/moderation', '/web/audit', '/web/']) {
      const res = await client.get(path);
      expect([path, res.status, res.headers.get('location')]).toEqual([path, 303, '/web/login']);
    }
    const page = await client.get('/web/login');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/dashboard');
  });

  it('/dashboard gives a one-time link; GET only shows a button, the POST logs in once', async () => {
    const katrin = await coordinator();
    const path = await loginPathFromBot(katrin);
    expect(katrin.last.text).toContain('http://desk.example.org/web/login/');
    // Only a hash is stored.
    const [stored] = await h.db.db.select().from(webLogins);
    expect(stored!.tokenHash).not.toContain(path.split('/').pop());

    const preview = new WebClient(web.base);
    expect((await preview.get(path)).status).toBe(200); // a link preview fetches the page …
    const client = new WebClient(web.base);
    const page = await client.get(path); // … and the link still works
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Anmelden');
    const res = await client.post(path, { _csrf: csrfOf(html) });
    expect(res.status).toBe(303);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('hn_web='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/web/);
    expect(cookie).not.toMatch(/Secure/); // PUBLIC_URL is http here
    const overview = await client.get('/web/overview');
    expect(overview.status).toBe(200);
    expect(await overview.text()).toContain('Überblick: wo Hilfe fehlt');

    // Used: a second browser gets "already used", on GET and on POST.
    const other = new WebClient(web.base);
    const again = await other.get(path);
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('schon benutzt');
    expect((await other.post(path, { _csrf: 'x'.repeat(43) })).status).toBe(403);
  });

  it('refuses an expired, a forged and a malformed link', async () => {
    const katrin = await coordinator();
    const path = await loginPathFromBot(katrin);
    const client = new WebClient(web.base);
    const page = await client.get(path);
    const csrf = csrfOf(await page.text());
    h.clock.advance(11 * 60_000);
    const late = await client.post(path, { _csrf: csrf });
    expect(late.status).toBe(410);
    expect(await late.text()).toContain('abgelaufen');
    expect((await client.get(path)).status).toBe(410);
    expect(client.cookies.has('hn_web')).toBe(false);

    const forged = `/web/login/${'A'.repeat(43)}`;
    expect((await client.get(forged)).status).toBe(404);
    expect((await client.get('/web/login/abc')).status).toBe(404);
    expect((await client.get(`/web/login/${'<script>'.repeat(6)}`)).status).toBe(404);
    expect(await h.db.db.select().from(webSessions)).toEqual([]);
  });

  it('the login button needs the login page’s CSRF token', async () => {
    const path = await loginPathFromBot(await coordinator());
    const client = new WebClient(web.base);
    await client.get(path);
    expect((await client.post(path, {})).status).toBe(403);
    expect((await client.post(path, { _csrf: 'y'.repeat(43) })).status).toBe(403);
    // The link is still unused after the refused tries.
    expect((await client.login(path)).status).toBe(303);
  });

  it('seekers and helpers are refused /dashboard in their language', async () => {
    const olena = h.user(PEOPLE.olena);
    await olena.send('/start');
    await olena.send('/dashboard');
    expect(olena.last.text).not.toContain('/web/login/');
    expect(await h.db.db.select().from(webLogins)).toEqual([]);
  });
});

describe('permissions come from the domain', () => {
  it('staff see the overview (in their language) and get 403 on coordinator pages and actions', async () => {
    const petro = await staff(PEOPLE.petro);
    const client = await loggedIn(petro);
    const overview = await client.get('/web/overview');
    expect(overview.status).toBe(200);
    const html = await overview.text();
    expect(html).toContain('<html lang="uk">');
    expect(html).toContain('Огляд: де бракує допомоги');
    expect(html).not.toContain('href="/web/audit"');
    expect((await client.get('/web/notices')).status).toBe(200);
    for (const path of ['/web/needs', '/web/desk', '/web/moderation', '/web/audit', '/web/helpers', '/web/export/overview.csv', '/web/export/needs.xlsx']) {
      const res = await client.get(path);
      expect([path, res.status]).toEqual([path, 403]);
    }
    const refused = await client.post('/web/moderation/1', { _csrf: csrfOf(html), action: 'dismiss' });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('Немає доступу');
    const desk = await client.post('/web/desk/1', { _csrf: csrfOf(html), action: 'take' });
    expect(desk.status).toBe(403);
  });

  it('a revoked coordinator’s live session is refused at once, and so is a revoked or banned staff member’s', async () => {
    const katrin = await coordinator();
    const client = await loggedIn(katrin);
    expect((await client.get('/web/audit')).status).toBe(200);
    // The operator takes the coordinator role away (ADMIN_TELEGRAM_IDS is only read on first contact).
    await h.db.db.update(users).set({ role: 'helper' }).where(eq(users.telegramId, COORDINATOR.id));
    const after = await client.get('/web/audit');
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/web/login?ended=1');
    expect(client.cookies.has('hn_web')).toBe(false);
    await h.db.db.update(users).set({ role: 'coordinator' }).where(eq(users.telegramId, COORDINATOR.id));

    const irina = await staff(PEOPLE.irina);
    const staffClient = await loggedIn(irina);
    expect((await staffClient.get('/web/overview')).status).toBe(200);
    const page = await staffClient.get('/web/overview');
    const csrf = csrfOf(await page.text());
    await revokeStaff(h.db.db, h.clock, actorOf(await rowOf(COORDINATOR)), (await rowOf(PEOPLE.irina)).id);
    expect((await staffClient.get('/web/overview')).status).toBe(303);
    expect((await staffClient.post('/web/logout', { _csrf: csrf })).status).toBe(403);

    const maria = await staff(PEOPLE.maria, 'Diakonie');
    const mariaClient = await loggedIn(maria);
    await banUser(h.db.db, h.clock, actorOf(await rowOf(COORDINATOR)), (await rowOf(PEOPLE.maria)).id, 'spam');
    expect((await mariaClient.get('/web/overview')).status).toBe(303);
  });

  it('a session ends after WEB_SESSION_TTL and at logout', async () => {
    const katrin = await coordinator();
    const client = await loggedIn(katrin);
    const page = await client.get('/web/overview');
    const csrf = csrfOf(await page.text());
    const bye = await client.post('/web/logout', { _csrf: csrf });
    expect(bye.headers.get('location')).toBe('/web/login?bye=1');
    expect((await client.get('/web/overview')).status).toBe(303);

    const second = await loggedIn(katrin);
    h.clock.advance(12 * 3_600_000 + 1000);
    expect((await second.get('/web/overview')).status).toBe(303);
  });
});

describe('every POST is checked', () => {
  let client: WebClient;
  let csrf: string;
  beforeEach(async () => {
    client = await loggedIn(await coordinator());
    csrf = csrfOf(await (await client.get('/web/desk')).text());
  });

  it('refuses a POST without or with a wrong CSRF token', async () => {
    expect((await client.post('/web/desk/1', { action: 'take' })).status).toBe(403);
    const wrong = await client.post('/web/desk/1', { action: 'take', _csrf: 'z'.repeat(43) });
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).toContain('Das Formular ist abgelaufen');
    expect((await client.post('/web/logout', {})).status).toBe(403);
    // Still logged in: the refused logout did nothing.
    expect((await client.get('/web/overview')).status).toBe(200);
  });

  it('refuses oversized and malformed input with a short localized page', async () => {
    const big = await client.post('/web/desk/1', { _csrf: csrf, action: 'take', reason: 'x'.repeat(9000) });
    expect(big.status).toBe(413);
    expect(await big.text()).toContain('höchstens 8 KB');
    const json = await client.request('/web/desk/1', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ _csrf: csrf, action: { nested: ['take'] } }) });
    expect(json.status).toBe(415);
    expect((await client.post('/web/desk/1', { _csrf: csrf, action: 'explode' })).status).toBe(400);
    expect((await client.post('/web/desk/1', { _csrf: csrf, action: 'close' })).status).toBe(400); // no reason
    expect((await client.post('/web/desk/1', { _csrf: csrf, action: 'take', extra: '1' })).status).toBe(400);
    expect((await client.post('/web/desk/0', { _csrf: csrf, action: 'take' })).status).toBe(400);
    expect((await client.post('/web/desk/99999999999', { _csrf: csrf, action: 'take' })).status).toBe(400);
    const gone = await client.post('/web/desk/424242', { _csrf: csrf, action: 'take' });
    expect(gone.status).toBe(409);
    expect((await client.post('/web/moderation/1', { _csrf: csrf, action: 'ban' })).status).toBe(400); // no reason
    expect((await client.get('/web/needs?status=bogus')).status).toBe(400);
    expect((await client.get('/web/needs?district=atlantis')).status).toBe(400);
    expect((await client.get('/web/needs?source=fax')).status).toBe(400);
    expect((await client.get('/web/needs?source=intake')).status).toBe(200);
    expect((await client.get('/web/needs/abc')).status).toBe(404);
    expect((await client.get('/web/needs/123')).status).toBe(404);
    expect((await client.get('/web/audit?from=yesterday')).status).toBe(400);
    expect((await client.get('/web/nothing-here')).status).toBe(404);
    // Nothing of this crashed the server.
    expect((await client.get('/web/overview')).status).toBe(200);
  });

  it('sets a strict Content-Security-Policy without scripts on every page', async () => {
    const res = await client.get('/web/overview');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toMatch(/script-src|unsafe-inline|https?:/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).not.toMatch(/<script|style="|\son[a-z]+="/i);
    const css = await client.get('/web/static/style.css');
    expect(css.headers.get('content-type')).toContain('text/css');
  });

  it('switches the language with a CSRF-protected form', async () => {
    const res = await client.post('/web/lang', { _csrf: csrf, lang: 'ru', back: '/web/desk' });
    expect(res.headers.get('location')).toBe('/web/desk');
    expect(await (await client.get('/web/desk')).text()).toContain('Стол лоцманов');
    expect((await client.post('/web/lang', { _csrf: csrf, lang: 'en', back: '/web/desk' })).status).toBe(400);
    expect((await client.post('/web/lang', { _csrf: csrf, lang: 'de', back: 'https://evil.example/' })).status).toBe(400);
  });
});

describe('without PUBLIC_URL', () => {
  it('the bot says the web desk is not set up', async () => {
    const off = await createHarness({ db: h.db, clock: h.clock, env: { ADMIN_TELEGRAM_IDS: '900001' } });
    const katrin = off.user(COORDINATOR);
    await katrin.send('/start');
    await katrin.send('/dashboard');
    expect(katrin.last.text).toContain('PUBLIC_URL');
    expect(await h.db.db.select().from(webLogins)).toEqual([]);
  });
});
