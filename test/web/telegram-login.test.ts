import { createHash, createHmac } from 'node:crypto';
import { ConfigError, parseConfig } from '../../src/config';
import { webSessions } from '../../src/db/schema';
import { checkTelegramLogin } from '../../src/domain/web-auth';
import { onboard } from '../helpers/flows';
import { createHarness, type Harness, PEOPLE, TEST_TOKEN, useHarness } from '../helpers/harness';
import type { Persona } from '../helpers/updates';
import { startWebServer, WebClient } from '../helpers/web';

/** The optional Telegram Login Widget (WEB_TELEGRAM_LOGIN): Telegram's signature, a day's validity, one use, the same permission. */
const COORDINATOR: Persona = { id: 900_001, first_name: 'Katrin', language_code: 'de', username: 'katrin_k' };
const harness = useHarness({ env: { ADMIN_TELEGRAM_IDS: '900001', PUBLIC_URL: 'https://desk.example.org', WEB_TELEGRAM_LOGIN: 'true' } });
let h: Harness;
let web: Awaited<ReturnType<typeof startWebServer>>;
beforeEach(async () => {
  h = harness.current;
  web = await startWebServer(h);
});
afterEach(async () => {
  await web.close();
});

/** What Telegram appends to the auth URL: the fields and their signature (the algorithm of core.telegram.org/widgets/login). */
function signed(fields: Record<string, string>, token = TEST_TOKEN): string {
  const check = Object.keys(fields)
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join('\n');
  const hash = createHmac('sha256', createHash('sha256').update(token).digest()).update(check).digest('hex');
  return `/web/login/telegram?${new URLSearchParams({ ...fields, hash }).toString()}`;
}

const nowSeconds = () => String(Math.floor(h.clock.now().getTime() / 1000));
const fieldsOf = (p: Persona, authDate = nowSeconds()) => ({ id: String(p.id), first_name: p.first_name, ...(p.username ? { username: p.username } : {}), auth_date: authDate });

describe('checking the widget’s signature', () => {
  // Computed independently with Python's hmac and hashlib for TEST_TOKEN.
  const vector = { id: '900001', first_name: 'Katrin', username: 'katrin_k', auth_date: '1700000000', hash: 'b8be149a049147ea14de7694640d1ace63ee170d37911b9d9d0c605781f460dd' };
  const at = (seconds: number) => new Date(seconds * 1000);

  it('accepts Telegram’s signature for a day and nothing else', () => {
    expect(checkTelegramLogin(vector, TEST_TOKEN, at(1_700_000_000 + 3600))).toBe(900_001);
    expect(checkTelegramLogin(vector, TEST_TOKEN, at(1_700_000_000 + 86_400))).toBe(900_001);
    expect(checkTelegramLogin(vector, TEST_TOKEN, at(1_700_000_000 + 86_401))).toBeNull();
    expect(checkTelegramLogin(vector, TEST_TOKEN, at(1_700_000_000 - 3600))).toBeNull(); // from the future
    expect(checkTelegramLogin({ ...vector, id: '900002' }, TEST_TOKEN, at(1_700_000_000))).toBeNull();
    expect(checkTelegramLogin({ ...vector, last_name: 'X' }, TEST_TOKEN, at(1_700_000_000))).toBeNull();
    expect(checkTelegramLogin(vector, '987654321:another-bot-token', at(1_700_000_000))).toBeNull();
    expect(checkTelegramLogin({ ...vector, hash: vector.hash.toUpperCase() }, TEST_TOKEN, at(1_700_000_000))).toBeNull();
    expect(checkTelegramLogin({ ...vector, hash: 'abc' }, TEST_TOKEN, at(1_700_000_000))).toBeNull();
  });

  it('needs PUBLIC_URL', () => {
    expect(() => parseConfig({ BOT_TOKEN: TEST_TOKEN, WEB_TELEGRAM_LOGIN: 'true' })).toThrow(ConfigError);
    expect(parseConfig({ BOT_TOKEN: TEST_TOKEN }).WEB_TELEGRAM_LOGIN).toBe(false);
  });
});

describe('logging in with the widget', () => {
  it('shows the widget on the login page only, with the CSP relaxed for telegram.org there and nowhere else', async () => {
    const client = new WebClient(web.base);
    const page = await client.get('/web/login?lang=uk');
    const html = await page.text();
    expect(html).toContain('Або увійти через Telegram');
    expect(html).toContain(`<script async src="https://telegram.org/js/telegram-widget.js?22" data-telegram-login="${h.telegram.botInfo.username}"`);
    expect(html).toContain('data-auth-url="https://desk.example.org/web/login/telegram"');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain('script-src https://telegram.org');
    expect(csp).toContain('frame-src https://oauth.telegram.org');
    expect(csp).not.toContain('unsafe-inline');
    for (const path of ['/web/overview', `/web/login/${'A'.repeat(43)}`, signed(fieldsOf(COORDINATOR), 'wrong:token')]) {
      const other = await client.get(path);
      expect(other.headers.get('content-security-policy')).not.toMatch(/script-src|telegram\.org/);
    }
  });

  it('a coordinator logs in once with a fresh, signed answer; tampered, old, replayed and unauthorised ones are refused', async () => {
    const katrin = h.user(COORDINATOR);
    await katrin.send('/start');
    const client = new WebClient(web.base);
    const url = signed(fieldsOf(COORDINATOR));
    const res = await client.get(url);
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('hn_web='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Secure/); // PUBLIC_URL is https here
    expect(await res.text()).toContain('<meta http-equiv="refresh" content="0;url=/web/overview">');
    expect((await client.get('/web/overview')).status).toBe(200);
    expect(await h.db.db.select().from(webSessions)).toHaveLength(1);

    // The same answer again (a copied address): refused, no second session.
    const replay = await new WebClient(web.base).get(url);
    expect(replay.status).toBe(410);
    expect(await replay.text()).toContain('schon benutzt');
    // Tampered with: another id under Katrin's signature.
    const tampered = url.replace(`id=${COORDINATOR.id}`, `id=${PEOPLE.jonas.id}`);
    expect((await new WebClient(web.base).get(tampered)).status).toBe(403);
    // Signed correctly, but older than a day.
    const old = signed(fieldsOf(COORDINATOR, String(Math.floor(h.clock.now().getTime() / 1000) - 86_401)));
    expect((await new WebClient(web.base).get(old)).status).toBe(403);
    // Signed with another bot's token; malformed.
    expect((await new WebClient(web.base).get(signed(fieldsOf(COORDINATOR), '987654321:another-bot-token'))).status).toBe(403);
    expect((await new WebClient(web.base).get('/web/login/telegram?id=1&hash=x')).status).toBe(403);
    expect((await new WebClient(web.base).get(`/web/login/telegram?${'a'.repeat(40)}=1`)).status).toBe(403);

    // A helper, and someone who never wrote to the bot: genuine answers, but no permission.
    const jonas = h.user(PEOPLE.jonas);
    await onboard(jonas, 'helper', 'Hamborn');
    const helper = await new WebClient(web.base).get(signed(fieldsOf(PEOPLE.jonas)));
    expect(helper.status).toBe(403);
    expect(await helper.text()).toContain('keinen Zugang');
    expect((await new WebClient(web.base).get(signed(fieldsOf({ id: 555_000_111, first_name: 'Nobody' })))).status).toBe(403);
    expect(await h.db.db.select().from(webSessions)).toHaveLength(1);
  });

  it('is off unless WEB_TELEGRAM_LOGIN=true', async () => {
    const off = await createHarness({ db: h.db, clock: h.clock, env: { ADMIN_TELEGRAM_IDS: '900001', PUBLIC_URL: 'https://desk.example.org' } });
    const offWeb = await startWebServer(off);
    try {
      await off.user(COORDINATOR).send('/start');
      const client = new WebClient(offWeb.base);
      const page = await client.get('/web/login');
      expect(await page.text()).not.toContain('telegram.org');
      expect(page.headers.get('content-security-policy')).not.toContain('script-src');
      expect((await client.get(signed(fieldsOf(COORDINATOR)))).status).toBe(404);
      expect(await h.db.db.select().from(webSessions)).toEqual([]);
    } finally {
      await offWeb.close();
    }
  });
});
