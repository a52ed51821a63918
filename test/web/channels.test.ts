import { onboard, post } from '../helpers/flows';
import type { FakeGroupChat } from '../helpers/fake-telegram';
import { type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';
import type { Persona } from '../helpers/updates';
import { csrfOf, loginPathFromBot, startWebServer, WebClient } from '../helpers/web';

/**
 * The web desk's channels page: the channels and groups connected with /channels, read-only, with what they
 * mirrored and whether the bot can still write there — for coordinators (the domain's channels.manage).
 */
const COORDINATOR: Persona = { id: 900_001, first_name: 'Katrin', language_code: 'de' };
const harness = useHarness({ env: { ADMIN_TELEGRAM_IDS: '900001', PUBLIC_URL: 'http://desk.example.org', CHANNEL_INTERVAL: '3s' } });
let h: Harness;
let web: Awaited<ReturnType<typeof startWebServer>>;
beforeEach(async () => {
  h = harness.current;
  web = await startWebServer(h);
});
afterEach(async () => {
  await web.close();
});

const HAMBORN: FakeGroupChat['chat'] = { id: -1_001_000_000_101, type: 'channel', title: 'Hilfe <Hamborn>', username: 'hilfe_hamborn' };
const CITY_GROUP: FakeGroupChat['chat'] = { id: -1_001_000_000_202, type: 'supergroup', title: 'Helfer Duisburg' };

async function loggedIn(user: TestUser): Promise<WebClient> {
  const client = new WebClient(web.base);
  expect((await client.login(await loginPathFromBot(user))).status).toBe(303);
  return client;
}

async function connect(kerstin: TestUser, ref: string): Promise<void> {
  await kerstin.send('/channels');
  await kerstin.click('➕ Kanal oder Gruppe verbinden');
  await kerstin.send(ref);
}

/** The table row of one channel, by its title. */
function rowOf(html: string, title: string): string {
  const row = html.split('<tr').find((r) => r.includes(title));
  if (!row) throw new Error(`no row for ${title}`);
  return row;
}

it('lists the connected channels for coordinators, in their language, with what was mirrored and what is missing', async () => {
  const kerstin = h.user(COORDINATOR);
  await kerstin.send('/start');
  const client = await loggedIn(kerstin);
  const empty = await (await client.get('/web/channels')).text();
  expect(empty).toContain('Noch ist kein Kanal und keine Gruppe verbunden.');
  expect(empty).toContain('href="/web/channels" aria-current="page"');

  h.telegram.addGroupChat(HAMBORN);
  h.telegram.addGroupChat(CITY_GROUP, { status: 'administrator' });
  await connect(kerstin, '@hilfe_hamborn');
  await kerstin.click('📍 Bezirk ändern');
  await kerstin.click('Hamborn');
  await kerstin.click('Українська');
  await connect(kerstin, String(CITY_GROUP.id));
  const olena = h.user(PEOPLE.olena);
  await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
  await post(olena, 'need', '🏛 Установи та документи', 'Гамборн (Hamborn)', 'Потрібна допомога з листом від Jobcenter.');
  await post(olena, 'need', '🏛 Установи та документи', 'Гамборн (Hamborn)', 'Шукаю когось, хто піде зі мною до банку.');
  await h.sweep();
  for (let slot = 0; slot < 2; slot++) {
    h.clock.advance(3_000);
    await h.deliver();
  }
  // The group kicks the bot: the next card is refused, and the page says so.
  await olena.send('/my');
  await olena.click('✅ Допомогу знайдено');
  h.telegram.setBotMember(CITY_GROUP.id, { status: 'kicked' });
  h.clock.advance(3_000);
  await h.sweep();
  await h.deliver();

  const res = await client.get('/web/channels');
  expect(res.status).toBe(200);
  const page = await res.text();
  expect(page).toContain('<h1>Kanäle und Gruppen</h1>');
  expect(page).toContain('Verbinden, Bezirk und Sprache ändern: /channels im Bot.');
  // Titles are escaped, never markup.
  const hamborn = rowOf(page, 'Hilfe &lt;Hamborn&gt;');
  expect(hamborn).toContain('@hilfe_hamborn');
  expect(hamborn).toContain('<td>Hamborn</td><td>Українська</td><td class="num">2</td><td class="num">1</td><td>✅ Aktiv</td><td>—</td>');
  expect(hamborn).toContain('Katrin');
  const group = rowOf(page, 'Helfer Duisburg');
  expect(group).toContain('<td>Ganz Duisburg</td><td>Deutsch</td><td class="num">2</td>');
  expect(group).toContain('⚠️ Der Bot kann dort nicht schreiben');
  expect(group).toContain('Mitglied sein (der Bot wurde entfernt oder den Chat gibt es nicht mehr)');
  expect(group).toMatch(/<code>403 [^<]*kicked[^<]*<\/code>/);
  // Read-only: no forms besides the language switcher and the logout.
  expect(page.match(/<form /g)?.length).toBe(3);

  // In Ukrainian and Russian through the language switcher (the choice is kept for the session).
  for (const [lang, title, column, status] of [
    ['uk', 'Канали та групи', 'Дописів показано', '⚠️ Бот не може туди писати'],
    ['ru', 'Каналы и группы', 'Записей показано', '⚠️ Бот не может туда писать'],
  ] as const) {
    const switched = await client.post('/web/lang', { _csrf: csrfOf(page), lang, back: '/web/channels' });
    expect(switched.status).toBe(303);
    const translated = await (await client.get('/web/channels')).text();
    expect(translated).toContain(`<html lang="${lang}">`);
    expect(translated).toContain(`<h1>${title}</h1>`);
    expect(translated).toContain(column);
    expect(rowOf(translated, 'Helfer Duisburg')).toContain(status);
  }
});

it('refuses everyone but coordinators with the domain\'s reason', async () => {
  const kerstin = h.user(COORDINATOR);
  await kerstin.send('/start');
  await kerstin.send('/invite Caritas');
  const code = /start=staff_([A-Za-z0-9_-]+)/.exec(kerstin.last.text)![1]!;
  const irina = h.user(PEOPLE.irina);
  await irina.send(`/start staff_${code}`);
  const client = await loggedIn(irina);
  const overview = await (await client.get('/web/overview')).text();
  expect(overview).not.toContain('href="/web/channels"');
  const refused = await client.get('/web/channels');
  expect(refused.status).toBe(403);
  expect(await refused.text()).toContain('<html lang="ru">');
  // Without a session: to the login page.
  const stranger = await new WebClient(web.base).get('/web/channels');
  expect([stranger.status, stranger.headers.get('location')]).toEqual([303, '/web/login']);
});
