import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { contacts, outbox, posts, reports, users } from '../../src/db/schema';
import { replaceSubscriptions } from '../../src/domain/subscriptions';
import { reportData } from '../../src/presentation/callback-data/reports';
import { onboard, post } from '../helpers/flows';
import { type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';
import type { Persona } from '../helpers/updates';
import { loginPathFromBot, startWebServer } from '../helpers/web';

/**
 * The web desk end to end in headless Chromium (Debian's `chromium`, driven by playwright-core): a
 * coordinator gets the link from the bot, logs in, sees the database's figures, works a desk item and a
 * report, downloads the exports and this test reads them back. Screenshots of every page in uk, de and
 * ru go to WEB_SCREENSHOTS_DIR (or a temp folder).
 */
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
if (!CHROMIUM) console.warn('browser.test.ts skipped: no chromium binary (apt-get install -y chromium; .ci/run does it)');
const describeWithChromium = CHROMIUM ? describe : describe.skip;

jest.setTimeout(240_000);

const COORDINATOR: Persona = { id: 900_001, first_name: 'Katrin', language_code: 'de' };
const SHOTS = process.env.WEB_SCREENSHOTS_DIR ?? mkdtempSync(path.join(tmpdir(), 'hilfenetz-web-shots-'));
mkdirSync(SHOTS, { recursive: true });

const harness = useHarness({ env: { ADMIN_TELEGRAM_IDS: '900001', PUBLIC_URL: 'http://desk.example.org', WAVE_SIZE: '5' } });

describeWithChromium('the web desk in a browser', () => {
  let browser: Browser;
  let h: Harness;
  let web: Awaited<ReturnType<typeof startWebServer>>;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    h = harness.current;
    web = await startWebServer(h);
  });
  afterEach(async () => {
    await web.close();
  });

  async function idOf(persona: Persona): Promise<number> {
    const [row] = await h.db.db.select({ id: users.id }).from(users).where(eq(users.telegramId, persona.id));
    return row!.id;
  }
  async function latestPost(): Promise<number> {
    const [row] = await h.db.db.select({ id: posts.id }).from(posts).orderBy(sql`${posts.id} desc`).limit(1);
    return row!.id;
  }

  /** Seekers in uk and ru post needs through the bot; a German helper covers housing in Hamborn; one need finds nobody and lands on the desk. */
  async function seed(): Promise<{ housingNeed: number; deskNeed: number; offer: number }> {
    const jonas = h.user(PEOPLE.jonas);
    await onboard(jonas, 'helper', 'Hamborn');
    await replaceSubscriptions(h.db.db, await idOf(PEOPLE.jonas), 'need', { categories: ['housing'], districts: ['hamborn'] });
    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', h.deps.city.districtName('hamborn', 'uk'));
    await post(olena, 'need', h.deps.city.categoryLabel('housing', 'uk'), h.deps.city.districtName('hamborn', 'uk'), 'Шукаємо квартиру для сім’ї з двома дітьми');
    const housingNeed = await latestPost();
    const irina = h.user(PEOPLE.irina);
    await onboard(irina, 'seeker', h.deps.city.districtName('mitte', 'ru'));
    // Nobody helps with pets in Mitte: the first wave finds nobody and the need goes to the desk.
    await post(irina, 'need', h.deps.city.categoryLabel('pets', 'ru'), h.deps.city.districtName('mitte', 'ru'), 'Нужна помощь с кошкой на две недели');
    const deskNeed = await latestPost();
    await post(jonas, 'offer', h.deps.city.categoryLabel('transport', 'de'), 'Hamborn', 'Ich habe einen Transporter und helfe beim Umzug');
    const offer = await latestPost();
    // Irina reports the offer through its ⚠️ button.
    // (A button press comes with the message it sits under, here Irina's newest.)
    await irina.press(reportData.encode({ target: 'post', id: offer, reason: 'spam' }), irina.last);
    await h.deliver();
    return { housingNeed, deskNeed, offer };
  }

  async function login(page: Page, user: TestUser): Promise<void> {
    const loginPath = await loginPathFromBot(user);
    await page.goto(web.base + loginPath);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.waitForURL('**/web/overview');
  }

  async function openNeeds(): Promise<number> {
    const [row] = await h.db.db.select({ n: sql<number>`count(*)::int` }).from(posts).where(and(eq(posts.kind, 'need'), sql`${posts.status} in ('open', 'in_contact')`));
    return row!.n;
  }

  it('a coordinator logs in, checks the figures, works the desk and a report, and downloads the exports', async () => {
    const { housingNeed, deskNeed, offer } = await seed();
    const katrin = h.user(COORDINATOR);
    await katrin.send('/start');
    const context = await browser.newContext({ locale: 'de-DE', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await login(page, katrin);

    // The overview shows what the database holds.
    await page.getByRole('heading', { name: 'Überblick: wo Hilfe fehlt' }).waitFor();
    const totals = page.locator('#totals');
    expect(Number(await totals.getAttribute('data-needs'))).toBe(await openNeeds());
    expect(Number(await totals.getAttribute('data-needs'))).toBe(2);
    expect(Number(await totals.getAttribute('data-offers'))).toBe(1);
    const cell = page.locator('td[data-district="hamborn"][data-category="housing"]');
    expect(await cell.getAttribute('data-needs')).toBe('1');
    expect(await cell.getAttribute('data-helpers')).toBe('1');
    const pets = page.locator('td[data-district="mitte"][data-category="pets"]');
    expect(await pets.getAttribute('data-helpers')).toBe('0');
    expect(await pets.getAttribute('class')).toContain('short');

    // Clicking a cell lists its needs.
    await cell.locator('a').click();
    await page.waitForURL('**/web/needs?district=hamborn&category=housing&status=open');
    expect(await page.locator('#needs tbody tr').count()).toBe(1);
    expect(await page.locator(`#needs tr[data-id="${housingNeed}"]`).count()).toBe(1);
    await page.locator(`a[href="/web/needs/${housingNeed}"]`).click();
    await page.getByRole('heading', { name: `Anfrage #${housingNeed}` }).waitFor();
    expect(await page.locator('#history li').count()).toBeGreaterThanOrEqual(2);
    expect(await page.content()).not.toContain('Олена');

    // The desk: the same item as /desk in the bot; "take it" offers help through the relay.
    await page.getByRole('link', { name: 'Lotsen-Schreibtisch' }).click();
    await page.waitForURL('**/web/desk');
    const item = page.locator(`#desk-${deskNeed}`);
    await item.waitFor();
    await item.getByRole('button', { name: 'Übernehmen' }).click();
    await page.getByText('Übernommen').waitFor();
    const [taken] = await h.db.db.select().from(posts).where(eq(posts.id, deskNeed));
    expect(taken!.deskOwnerId).toBe(await idOf(COORDINATOR));
    const offered = await h.db.db.select().from(contacts).where(eq(contacts.postId, deskNeed));
    expect(offered.map((c) => c.responderId)).toEqual([await idOf(COORDINATOR)]);
    await h.deliver();
    // Irina hears in Russian that Katrin wants to help.
    expect(h.user(PEOPLE.irina).find('Katrin')).toBeDefined();

    // Moderation: warn the reported person; the report is handled and the warning queued.
    await page.getByRole('link', { name: 'Meldungen' }).click();
    await page.waitForURL('**/web/moderation');
    const report = page.locator('article[id^="report-"]');
    expect(await report.count()).toBe(1);
    await report.getByRole('button', { name: 'Verwarnen' }).click();
    await page.getByText('Verwarnung gesendet.').waitFor();
    const [handled] = await h.db.db.select().from(reports).where(and(eq(reports.targetType, 'post'), eq(reports.targetId, offer)));
    expect(handled!.status).toBe('actioned');
    expect(handled!.action).toBe('warn');
    const warned = await h.db.db.select().from(outbox).where(eq(outbox.kind, 'moderation.warned'));
    expect(warned.map((o) => o.userId)).toEqual([await idOf(PEOPLE.jonas)]);

    // The overview as XLSX: the figures read back equal the page's.
    await page.getByRole('link', { name: 'Überblick', exact: true }).click();
    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Überblick als Excel' }).click()]);
    expect(xlsx.suggestedFilename()).toMatch(/^hilfenetz-overview-\d{4}-\d{2}-\d{2}\.xlsx$/);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile((await xlsx.path()));
    const sheet = workbook.worksheets[0]!;
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    expect(header[0]).toBe('Bezirk');
    const rows = sheet.getSheetValues().slice(2) as unknown[][];
    const hamborn = rows.find((r) => r[1] === 'Hamborn' && r[2] === h.deps.city.categoryName('housing', 'de'))!;
    expect(hamborn.slice(3, 6)).toEqual([1, 0, 0]);
    expect(hamborn[7]).toBe(1);
    expect(rows.reduce((sum, r) => sum + Number(r[3]), 0)).toBe(await openNeeds());
    expect(rows).toHaveLength((h.deps.city.districts.length + 1) * h.deps.city.categories.length);

    // A need a Lotse took for a person without Telegram (/intake; test/bot/intake.test.ts goes through the
    // dialog) is marked in the list, and the list filters by where needs came from.
    await h.db.db.update(posts).set({ intakeName: 'Л. К.', intakeLanguage: 'ru' }).where(eq(posts.id, deskNeed));
    await page.goto(`${web.base}/web/needs`);
    expect(await page.locator(`#needs tr[data-id="${deskNeed}"] .badge`).textContent()).toBe('Lotse');
    expect(await page.locator(`#needs tr[data-id="${housingNeed}"] .badge`).count()).toBe(0);
    await page.getByLabel('Quelle').selectOption({ label: 'von Lotsen eingestellt' });
    await page.getByRole('button', { name: 'Anzeigen' }).click();
    await page.waitForURL('**/web/needs?*source=intake*');
    expect(await page.locator('#needs tbody tr').count()).toBe(1);
    expect(await page.locator(`#needs tr[data-id="${deskNeed}"]`).count()).toBe(1);
    expect(await page.content()).not.toContain('Л. К.');
    await page.getByLabel('Quelle').selectOption({ label: 'im Bot' });
    await page.getByRole('button', { name: 'Anzeigen' }).click();
    await page.waitForURL('**/web/needs?*source=bot*');
    expect(await page.locator('#needs tbody tr').count()).toBe(1);
    expect(await page.locator(`#needs tr[data-id="${housingNeed}"]`).count()).toBe(1);

    // The needs list as CSV with texts ticked: BOM, semicolons, no names, the texts as written.
    await page.goto(`${web.base}/web/needs`);
    await page.getByLabel('mit den Texten der Anfragen').check();
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Liste als CSV' }).click()]);
    const text = readFileSync((await csv.path()), 'utf8');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const lines = text.slice(1).trim().split('\r\n');
    expect(lines[0]!.split(';')).toContain('Text');
    const source = lines[0]!.split(';').indexOf('Quelle');
    expect(lines.slice(1).map((l) => l.split(';')[source]).sort()).toEqual(['im Bot', 'von Lotsen eingestellt']);
    expect(lines).toHaveLength(1 + 2);
    expect(text).toContain('Шукаємо квартиру для сім’ї з двома дітьми');
    expect(text).not.toMatch(/Олена|Ирина|Irina|jonas_hilft|380501|370201/);
    // Without the tick there are no texts.
    await page.getByLabel('mit den Texten der Anfragen').uncheck();
    const [plain] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Liste als CSV' }).click()]);
    expect(readFileSync((await plain.path()), 'utf8')).not.toContain('Шукаємо');

    // The weekly summary opens in exceljs too.
    await page.goto(`${web.base}/web/overview`);
    const [weekly] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Wochenbericht (Excel)' }).click()]);
    const summary = new ExcelJS.Workbook();
    await summary.xlsx.readFile((await weekly.path()));
    expect(summary.worksheets[0]!.rowCount).toBe(1 + h.deps.city.districts.length + 2);

    await context.close();
  });

  it('every page in uk, de and ru, on a desk and on a phone (screenshots)', async () => {
    const { housingNeed } = await seed();
    const katrin = h.user(COORDINATOR);
    await katrin.send('/start');
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await login(page, katrin);
    const pages = ['overview', 'needs', `needs/${housingNeed}`, 'desk', 'moderation', 'notices', 'helpers', 'audit'];
    const titles = { uk: 'Огляд: де бракує допомоги', de: 'Überblick: wo Hilfe fehlt', ru: 'Обзор: где не хватает помощи' } as const;
    for (const [lang, name] of [['uk', 'Українська'], ['de', 'Deutsch'], ['ru', 'Русский']] as const) {
      await page.goto(`${web.base}/web/overview`);
      if ((await page.locator('html').getAttribute('lang')) !== lang) await page.getByRole('button', { name }).click();
      await page.getByRole('heading', { name: titles[lang] }).waitFor();
      expect(await page.locator('html').getAttribute('lang')).toBe(lang);
      for (const p of pages) {
        const res = await page.goto(`${web.base}/web/${p}`);
        expect([p, res?.status()]).toEqual([p, 200]);
        await page.screenshot({ path: path.join(SHOTS, `${p.replace('/', '-')}-${lang}.png`), fullPage: true });
      }
    }
    // A phone: the overview stays usable (the heat map scrolls sideways inside its box, the page does not).
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${web.base}/web/overview`);
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    expect(overflow).toBeLessThanOrEqual(1);
    await page.screenshot({ path: path.join(SHOTS, 'overview-phone-ru.png'), fullPage: true });
    // Keyboard: the skip link is the first stop and leads to the content.
    await page.keyboard.press('Tab');
    expect(await page.evaluate("document.activeElement?.getAttribute('href')")).toBe('#main');
    // Printed: navigation and forms are hidden.
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('nav.main').isVisible()).toBe(false);
    await context.close();
    console.log(`web desk screenshots in ${SHOTS}`);
  });
});
