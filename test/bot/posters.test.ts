import { eq } from 'drizzle-orm';
import { posterStarts, users } from '../../src/db/schema';
import { onboard } from '../helpers/flows';
import { type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';
import type { ShownMessage } from '../helpers/fake-telegram';
import { pdfText, readQr } from '../helpers/poster-reader';

const KERSTIN = { id: 999_101, first_name: 'Kerstin', language_code: 'de' }; // coordinator
const harness = useHarness({ env: { ADMIN_TELEGRAM_IDS: String(KERSTIN.id) } });
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

const BOT = 'https://t.me/hilfenetz_test_bot';

/** /poster → district → language, through the buttons; returns the two documents. */
async function makePoster(user: TestUser, district: string, language: string): Promise<{ pdf: ShownMessage; png: ShownMessage; done: ShownMessage }> {
  await user.send('/poster');
  await user.click(district);
  const { sent } = await user.click(language);
  expect(sent.map((m) => m.kind)).toEqual(['document', 'document', 'text']);
  return { pdf: sent[0]!, png: sent[1]!, done: sent[2]! };
}

async function makeStaff(person: TestUser, organisation: string): Promise<void> {
  const kerstin = h.user(KERSTIN);
  await kerstin.send(`/invite ${organisation}`);
  const code = /start=staff_([A-Za-z0-9_-]+)/.exec(kerstin.last.text)![1]!;
  await person.send(`/start staff_${code}`);
  const [row] = await h.db.db.select().from(users).where(eq(users.telegramId, person.id));
  expect(row?.role).toBe('staff');
}

async function starts(): Promise<Record<string, number>> {
  const rows = await h.db.db.select().from(posterStarts);
  return Object.fromEntries(rows.map((r) => [`${r.district}|${r.locale}`, r.started]));
}

async function profile(user: TestUser) {
  const [row] = await h.db.db.select().from(users).where(eq(users.telegramId, user.id));
  return { district: row!.district, locale: row!.locale, role: row!.role, onboarded: row!.onboardedAt !== null };
}

describe('/poster', () => {
  it('gives coordinators and staff a PDF with the district and the link, and a PNG whose QR code opens it', async () => {
    const kerstin = h.user(KERSTIN);
    // /help names the command for those who may use it (and only for them: see the next test).
    expect((await kerstin.send('/help')).sent[0]!.text).toContain('/poster – ein Poster mit QR-Code');
    const opened = await kerstin.send('/poster');
    expect(opened.sent[0]!.text).toContain('Poster mit QR-Code');
    expect(kerstin.buttons()).toEqual(['Walsum', 'Hamborn', 'Meiderich/Beeck', 'Homberg/Ruhrort/Baerl', 'Mitte', 'Rheinhausen', 'Süd', '🏙 Ganz Duisburg']);
    await kerstin.click('Hamborn');
    expect(kerstin.buttons()).toEqual(['Українська', 'Deutsch', 'Русский', '‹ Zurück']);
    // Back to the districts and on again.
    await kerstin.click('‹ Zurück');
    await kerstin.click('Hamborn');
    const { sent } = await kerstin.click('Українська');
    const [pdf, png, done] = sent;
    const link = `${BOT}?start=p1-uk-hamborn`;
    expect(pdf!.file?.name).toBe('hilfenetz-poster-hamborn-uk.pdf');
    expect(pdf!.text).toContain(link);
    const text = (await pdfText(pdf!.file!.content!)).text.replace(/\s+/g, ' ');
    expect(text).toContain('Гамборн (Hamborn)');
    expect(text).toContain('Потрібна допомога?');
    expect(text).toContain('Brauchen Sie Hilfe?');
    expect(text).toContain(link);
    expect(png!.file?.name).toBe('hilfenetz-qr-hamborn-uk.png');
    expect(readQr(png!.file!.content!)).toBe(link);
    expect(done!.text).toContain('Hamborn');
    expect(kerstin.buttons()).toEqual(['🖨 Noch ein Poster']);

    // Staff (Oksana, Ukrainian) make one for the whole city in Russian.
    const petro = h.user(PEOPLE.petro);
    await makeStaff(petro, 'Caritas');
    const poster = await makePoster(petro, '🏙 Увесь Дуйсбург', 'Русский');
    const cityLink = `${BOT}?start=p1-ru`;
    expect(poster.pdf.file?.name).toBe('hilfenetz-poster-duisburg-ru.pdf');
    const cityText = (await pdfText(poster.pdf.file!.content!)).text.replace(/\s+/g, ' ');
    expect(cityText).toContain('Весь Дуйсбург');
    expect(cityText).toContain('Ganz Duisburg');
    expect(cityText).toContain(cityLink);
    expect(readQr(poster.png.file!.content!)).toBe(cityLink);
    expect(poster.done.text).toContain('Увесь Дуйсбург');
  });

  it('refuses everybody else in their language, for the command and for forged buttons', async () => {
    const olena = h.user(PEOPLE.olena);
    const jonas = h.user(PEOPLE.jonas);
    const irina = h.user(PEOPLE.irina);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await onboard(jonas, 'helper', 'Hamborn');
    expect((await olena.send('/help')).sent[0]!.text).not.toContain('/poster');
    expect((await olena.send('/poster')).sent.map((m) => m.text)).toEqual(['⛔ У вас немає прав на цю дію.']);
    expect((await jonas.send('/poster')).sent.map((m) => m.text)).toEqual(['⛔ Dafür haben Sie keine Berechtigung.']);
    // Irina never finished /start: refused all the same.
    expect((await irina.send('/poster')).sent.map((m) => m.text)).toEqual(['⛔ У вас нет прав на это действие.']);
    for (const data of ['pst:dist:hamborn', 'pst:lang:uk', 'pst:again:-', 'pst:bogus']) {
      expect((await jonas.press(data, jonas.last)).answer).toEqual({ text: '⛔ Dafür haben Sie keine Berechtigung.', showAlert: true });
    }
    expect(h.telegram.messages(olena.id).concat(h.telegram.messages(jonas.id), h.telegram.messages(irina.id)).some((m) => m.kind === 'document')).toBe(false);
  });

  it('answers forged and stale buttons of its own users with a hint, never a poster', async () => {
    const kerstin = h.user(KERSTIN);
    await kerstin.send('/poster');
    const list = kerstin.last;
    // A district the city does not know, on the dialog's own message.
    expect((await kerstin.press('pst:dist:atlantis', list)).answer).toEqual({ text: 'Diesen Bezirk gibt es nicht (mehr). Bitte beginnen Sie neu mit /poster.', showAlert: true });
    // Malformed data and a language before a district.
    expect((await kerstin.press('pst:lang:en', list)).answer?.text).toContain('nicht mehr aktuell');
    expect((await kerstin.press('pst:lang:uk', list)).answer?.text).toContain('nicht mehr aktuell');
    // An old message's buttons after a new /poster.
    await kerstin.send('/poster');
    expect((await kerstin.press('pst:dist:hamborn', list)).answer?.text).toContain('nicht mehr aktuell');
    expect(h.telegram.messages(kerstin.id).some((m) => m.kind === 'document')).toBe(false);
  });
});

describe('starting from a poster', () => {
  it('takes two taps in Ukrainian, German and Russian, counts each new person once, and shows in /stats and /export', async () => {
    const kerstin = h.user(KERSTIN);
    // Before any poster start: no poster section, one file.
    await kerstin.send('/stats');
    expect(kerstin.last.text).not.toContain('🖨');
    expect((await kerstin.send('/export')).sent).toHaveLength(1);

    // Olena's phone is Ukrainian: the Hamborn poster in Ukrainian → "I need help" → done.
    const olena = h.user(PEOPLE.olena);
    const greeting = await olena.send('/start p1-uk-hamborn');
    expect(greeting.sent).toHaveLength(1);
    expect(greeting.sent[0]!.text).toContain('📍 Ваш район: Гамборн (Hamborn) (з плаката');
    const done = await olena.click('🙋 Мені потрібна допомога');
    expect(done.edited[0]!.text).toContain('Гамборн (Hamborn)');
    expect(await profile(olena)).toEqual({ district: 'hamborn', locale: 'uk', role: 'seeker', onboarded: true });

    // Jonas (German phone) from the Mitte poster in German, as a helper.
    const jonas = h.user(PEOPLE.jonas);
    expect((await jonas.send('/start p1-de-mitte')).sent[0]!.text).toContain('📍 Ihr Bezirk: Mitte (vom Poster');
    await jonas.click('🤝 Ich möchte helfen');
    expect(await profile(jonas)).toEqual({ district: 'mitte', locale: 'de', role: 'helper', onboarded: true });

    // Alex's phone speaks English (the bot would use German); the whole-city poster in Russian sets Russian.
    const alex = h.user(PEOPLE.alex);
    expect((await alex.send('/start p1-ru')).sent[0]!.text).toContain('📍 Ваш район: Весь Дуйсбург');
    await alex.click('🙋 Мне нужна помощь');
    expect(await profile(alex)).toEqual({ district: '*', locale: 'ru', role: 'seeker', onboarded: true });

    // Petro picks German on the greeting of a Ukrainian poster: the district stays, the count is the poster's.
    const petro = h.user(PEOPLE.petro);
    await petro.send('/start p1-uk-hamborn');
    const german = await petro.click('Deutsch');
    expect(german.edited[0]!.text).toContain('📍 Ihr Bezirk: Hamborn');
    await petro.click('🙋 Ich brauche Hilfe');
    expect(await profile(petro)).toEqual({ district: 'hamborn', locale: 'de', role: 'seeker', onboarded: true });

    // Coming back through a poster counts nobody twice; a stale role button changes nothing.
    const again = await olena.send('/start p1-uk-hamborn');
    expect(again.sent[0]!.text).toContain('З поверненням');
    await olena.press('o:role:helper', greeting.sent[0]);
    expect(await profile(olena)).toEqual({ district: 'hamborn', locale: 'uk', role: 'seeker', onboarded: true });
    await jonas.send('/start p1-ru-walsum');
    expect(await starts()).toEqual({ 'hamborn|uk': 2, 'mitte|de': 1, '*|ru': 1 });

    // /stats shows the starts per poster, busiest first.
    await kerstin.send('/stats');
    expect(kerstin.last.text).toContain(
      ['🖨 Über Poster gestartet (Bezirk · Sprache)', '• Hamborn · Ukrainisch: 2', '• Mitte · Deutsch: 1', '• Ganz Duisburg · Russisch: 1', 'Zusammen: 4'].join('\n'),
    );
    // /export adds a second file: one row per area × language, counts only.
    const exported = await kerstin.send('/export');
    expect(exported.sent).toHaveLength(2);
    const file = exported.sent[1]!;
    expect(file.file?.name).toMatch(/^hilfenetz-posters-\d{4}-\d{2}-\d{2}\.csv$/);
    const rows = file.file!.content!.toString('utf8').slice(1).trimEnd().split('\r\n');
    expect(rows[0]).toBe('district_key;district_de;language;started');
    expect(rows).toHaveLength(1 + 8 * 3 + 1);
    expect(rows).toContain('hamborn;Hamborn;uk;2');
    expect(rows).toContain('hamborn;Hamborn;de;0');
    expect(rows).toContain('*;Ganz Duisburg;ru;1');
    expect(rows.at(-1)).toBe(';;;4');
    for (const secret of ['Олена', 'Jonas', 'Alex', 'Петро', String(PEOPLE.olena.id)]) expect(file.file!.content!.toString('utf8')).not.toContain(secret);
  });

  it('turns forged, overlong and unknown-district links into ordinary onboarding, and staff invites still work', async () => {
    // A district the city does not know: ordinary onboarding in the person's own language, nothing counted.
    const irina = h.user(PEOPLE.irina);
    const unknown = await irina.send('/start p1-uk-atlantis');
    expect(unknown.sent).toHaveLength(1);
    expect(unknown.sent[0]!.text).toContain('Добро пожаловать');
    expect(unknown.sent[0]!.text).not.toContain('📍');
    await irina.click('🙋 Мне нужна помощь');
    expect(irina.last.text).toContain('📍');
    expect(irina.buttons()).toContain('Центр (Mitte)');
    await irina.click('Центр (Mitte)');
    expect(await profile(irina)).toEqual({ district: 'mitte', locale: 'ru', role: 'seeker', onboarded: true });

    // Forged and overlong parameters: "this link does not work", then the ordinary start.
    const cases: [TestUser, string, string][] = [
      [h.user(PEOPLE.olena), 'p1-en-hamborn', 'Це посилання недійсне'],
      [h.user(PEOPLE.jonas), `p1-de-${'a'.repeat(60)}`, 'Dieser Link ist ungültig'],
      [h.user(PEOPLE.alex), 'p9-ru-mitte', 'Dieser Link ist ungültig'],
      [h.user(PEOPLE.maria), 'p1-de-mitte%3Cscript%3E', 'Dieser Link ist ungültig'],
    ];
    for (const [person, payload, hint] of cases) {
      const r = await person.send(`/start ${payload}`);
      expect(r.sent.map((m) => m.text)).toEqual([expect.stringContaining(hint), expect.stringContaining('Hilfenetz')]);
      expect(person.buttons()).toHaveLength(5); // two roles, three languages: the ordinary first step
    }
    expect(await starts()).toEqual({});

    // The staff invite, the other kind of deep link, still makes staff.
    await makeStaff(h.user(PEOPLE.petro), 'Diakonie');
  });
});
