import { eq } from 'drizzle-orm';
import { formatDuration, renderOverview } from '../../src/bot/features/stats';
import { CityDirectory, parseCity } from '../../src/city';
import { users } from '../../src/db/schema';
import type { StatsCell, StatsCounts } from '../../src/domain/stats';
import { createTranslator } from '../../src/i18n';
import { onboard, post, subscribe } from '../helpers/flows';
import { type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';

const KERSTIN = { id: 999_001, first_name: 'Kerstin', language_code: 'de' }; // coordinator
const OKSANA = { id: 999_002, first_name: 'Оксана', language_code: 'uk' }; // coordinator

const harness = useHarness({ env: { ADMIN_TELEGRAM_IDS: `${KERSTIN.id},${OKSANA.id}` } });
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

const HAMBORN_UK = 'Гамборн (Hamborn)';
const OLENA_NEED = 'Шукаю 2-кімнатну квартиру для мене і доньки в Гамборні, з квітня.';
const IRINA_NEED = 'Нужен диван и детская кровать, переехали в новую квартиру.';
const JONAS_OFFER = 'Gut erhaltenes Sofa und ein Kinderbett abzugeben, Abholung in Mitte.';

/**
 * Monday 10:00: Olena (Hamborn, housing) and Irina (Mitte, donations) post needs, Jonas an offer in
 * Mitte. Jonas answers Irina's need two hours later; Olena's gets no answer. Then it is Friday 12:00.
 */
async function seed(): Promise<{ olena: TestUser; irina: TestUser; jonas: TestUser }> {
  const olena = h.user(PEOPLE.olena);
  const irina = h.user(PEOPLE.irina);
  const jonas = h.user(PEOPLE.jonas);
  await onboard(jonas, 'helper', 'Mitte');
  await subscribe(jonas, ['📦 Spenden & Sachspenden'], ['Mitte']);
  await onboard(olena, 'seeker', HAMBORN_UK);
  await post(olena, 'need', '🏠 Житло', HAMBORN_UK, OLENA_NEED);
  await onboard(irina, 'seeker', 'Центр (Mitte)');
  await post(irina, 'need', '📦 Пожертвования и вещи', 'Центр (Mitte)', IRINA_NEED);
  await post(jonas, 'offer', '📦 Spenden & Sachspenden', 'Mitte', JONAS_OFFER);
  await h.deliver();
  h.clock.advanceHours(2);
  await jonas.click('🤝 Ich kann helfen', jonas.find('Neue Anfrage'));
  await h.deliver();
  h.clock.set('2026-03-06T12:00:00+01:00');
  return { olena, irina, jonas };
}

/** Splits the CSV file (UTF-8 with BOM, `;`, CRLF; no field in these tests needs quotes). */
function parseCsv(content: Buffer): string[][] {
  expect([...content.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  return content.toString('utf8').slice(1).trimEnd().split('\r\n').map((line) => line.split(';'));
}

describe('/stats and /export', () => {
  it('refuses seekers, helpers and newcomers, in their language, for commands and buttons', async () => {
    const olena = h.user(PEOPLE.olena);
    const jonas = h.user(PEOPLE.jonas);
    const alex = h.user(PEOPLE.alex);
    await onboard(olena, 'seeker', HAMBORN_UK);
    await onboard(jonas, 'helper', 'Mitte');

    await olena.send('/stats');
    expect(olena.last.text).toBe('⛔ У вас немає прав на цю дію.');
    await olena.send('/export');
    expect(olena.last.text).toBe('⛔ У вас немає прав на цю дію.');
    await jonas.send('/stats');
    expect(jonas.last.text).toBe('⛔ Dafür haben Sie keine Berechtigung.');
    await alex.send('/stats');
    expect(alex.last.text).toBe('⛔ Dafür haben Sie keine Berechtigung.');

    for (const data of ['m:stats', 'st:refresh', 'st:csv']) {
      const pressed = await olena.press(data, olena.last);
      expect(pressed.answer).toEqual({ text: '⛔ У вас немає прав на цю дію.', showAlert: true });
      expect(pressed.sent).toHaveLength(0);
    }
    expect(h.telegram.callsOf('sendDocument')).toHaveLength(0);
  });

  it('shows a coordinator the overview in German, with the CSV one tap away', async () => {
    const { irina } = await seed();
    const kerstin = h.user(KERSTIN);
    await kerstin.send('/stats');
    const overview = kerstin.last;
    expect(overview.text).toBe(
      [
        '📊 Überblick · Stand 06.03.2026, 12:00',
        '',
        'Offen nach Bezirk (Anfragen / Angebote)',
        '📍 Hamborn: 1 / 0',
        '📍 Mitte: 1 / 1',
        'Ohne offene Beiträge: Walsum, Meiderich/Beeck, Homberg/Ruhrort/Baerl, Rheinhausen, Süd, Ganz Duisburg',
        'Zusammen: 2 / 1',
        '',
        'Die meisten offenen Anfragen (Thema · Bezirk)',
        '1. 🏠 Wohnen · Hamborn: 1',
        '2. 📦 Spenden & Sachspenden · Mitte: 1',
        '',
        '⏳ Seit über 3 Tagen ohne Antwort: 1 Anfrage',
        '• 🏠 Wohnen · Hamborn · vor 4 Tagen · #1',
        '',
        '⏱ Zeit bis zur ersten Antwort (Median): 2 Stunden – aus 1 beantworteten Anfrage der letzten 30 Tage',
        '✅ Diese Woche erfüllt (seit Montag, 02.03.2026): 0 Anfragen · 0 Angebote',
        '',
        // Whether help arrives (issue 10): one of the two needs old enough had an offer within 24 hours.
        '🔁 Kommt Hilfe an? (Anfragen der letzten 30 Tage)',
        'Hilfsangebot innerhalb von 24 Std.: 50 % (von 2 Anfragen)',
        'Zeit bis zum ersten Hilfsangebot: Median 2 Stunden, 90 % innerhalb von 2 Stunden',
        'Beim Lotsen-Schreibtisch gelandet: 50 % (1)',
        'Benachrichtigungen je Helfende in 7 Tagen: Median 1, p99 1 (1 Helfende)',
      ].join('\n'),
    );
    expect(overview.html).toContain('Spenden &amp; Sachspenden');
    expect(kerstin.buttons()).toEqual(['🔄 Aktualisieren', '📄 CSV']);

    // The CSV button sends the file: keys and German names, counts, no people and no texts.
    const sent = await kerstin.click('📄 CSV');
    expect(sent.sent).toHaveLength(1);
    const file = sent.sent[0]!;
    expect(file.kind).toBe('document');
    expect(file.file?.name).toBe('hilfenetz-stats-2026-03-06.csv');
    expect(file.text).toContain('Überblick als CSV · Stand 06.03.2026, 12:00');
    const [header, ...rows] = parseCsv(file.file!.content!);
    expect(header).toEqual([
      'scope',
      'kind',
      'district_key',
      'district_de',
      'category_key',
      'category_de',
      'open',
      'unanswered_over_3_days',
      'fulfilled_this_week',
      'answered_needs_30_days',
      'median_first_response_minutes',
    ]);
    expect(rows).toHaveLength(2 * 8 * 12 + 2);
    const row = (kind: string, district: string, category: string) => rows.find((r) => r[1] === kind && r[2] === district && r[4] === category);
    expect(row('need', 'hamborn', 'housing')).toEqual(['cell', 'need', 'hamborn', 'Hamborn', 'housing', 'Wohnen', '1', '1', '0', '0', '']);
    expect(row('need', 'mitte', 'donations')).toEqual(['cell', 'need', 'mitte', 'Mitte', 'donations', 'Spenden & Sachspenden', '1', '0', '0', '1', '120']);
    expect(row('offer', 'mitte', 'donations')).toEqual(['cell', 'offer', 'mitte', 'Mitte', 'donations', 'Spenden & Sachspenden', '1', '', '0', '', '']);
    expect(row('need', '', '')).toEqual(['total', 'need', '', '', '', '', '2', '1', '0', '1', '120']);
    const content = file.file!.content!.toString('utf8');
    for (const secret of [OLENA_NEED, IRINA_NEED, JONAS_OFFER, 'Олена', 'Ирина', 'Jonas', 'jonas_hilft', String(PEOPLE.olena.id), String(PEOPLE.jonas.id)]) {
      expect(content).not.toContain(secret);
    }

    // /export sends the same file.
    await kerstin.send('/export');
    expect(kerstin.last.kind).toBe('document');
    expect(kerstin.last.file?.content?.equals(file.file!.content!)).toBe(true);

    // Irina's need is fulfilled; "refresh" updates the overview in place.
    await irina.send('/my');
    await irina.click('✅ Помощь найдена');
    const refreshed = await kerstin.click('🔄 Aktualisieren', overview);
    expect(refreshed.sent).toHaveLength(0);
    expect(refreshed.edited).toHaveLength(1);
    expect(refreshed.edited[0]!.text).toContain('📍 Mitte: 0 / 1');
    expect(refreshed.edited[0]!.text).toContain('✅ Diese Woche erfüllt (seit Montag, 02.03.2026): 1 Anfrage · 0 Angebote');
  });

  it('speaks Ukrainian to a Ukrainian coordinator, also from the main menu', async () => {
    await seed();
    const oksana = h.user(OKSANA);
    await oksana.send('/stats');
    const text = oksana.last.text;
    expect(text).toContain('📊 Огляд · станом на 06.03.2026, 12:00');
    expect(text).toContain('Відкриті за районами (запити / пропозиції)');
    expect(text).toContain('📍 Гамборн (Hamborn): 1 / 0');
    expect(text).toContain('📍 Центр (Mitte): 1 / 1');
    expect(text).toContain('Без відкритих дописів: Вальзум (Walsum), ');
    expect(text).toContain('2. 📦 Пожертви та речі · Центр (Mitte): 1');
    expect(text).toContain('⏳ Без відповіді понад 3 дні: 1 запит\n• 🏠 Житло · Гамборн (Hamborn) · 4 дні тому · #1');
    expect(text).toContain('⏱ Час до першої відповіді (медіана): 2 години — на основі 1 запиту з відповіддю за останні 30 днів');
    expect(text).toContain('✅ Виконано цього тижня (з понеділка, 02.03.2026): 0 запитів · 0 пропозицій');
    expect(oksana.buttons()).toEqual(['🔄 Оновити', '📄 CSV']);

    const fromMenu = await oksana.press('m:stats', oksana.last);
    expect(fromMenu.sent).toHaveLength(1);
    expect(fromMenu.sent[0]!.text).toBe(text);
  });

  it('shows staff the overview without the export, and checks the role on every press', async () => {
    const petro = h.user(PEOPLE.petro);
    await petro.send('/stats');
    expect(petro.last.text).toBe('⛔ У вас немає прав на цю дію.');
    const setRole = (role: 'staff' | 'helper') => h.db.db.update(users).set({ role }).where(eq(users.telegramId, PEOPLE.petro.id));
    await setRole('staff');

    await petro.send('/stats');
    expect(petro.last.text).toContain('📊 Огляд');
    expect(petro.last.text).toContain('Зараз немає відкритих запитів.');
    expect(petro.last.text).toContain('⏳ Кожен запит, старший за 3 дні, отримав щонайменше одну відповідь.');
    expect(petro.last.text).toContain('⏱ Час до першої відповіді: за останні 30 днів ще жоден запит не отримав відповіді.');
    expect(petro.buttons()).toEqual(['🔄 Оновити']);
    const overview = petro.last;

    await petro.send('/export');
    expect(petro.last.text).toBe('⛔ У вас немає прав на цю дію.');
    expect((await petro.press('st:csv', overview)).answer).toEqual({ text: '⛔ У вас немає прав на цю дію.', showAlert: true });
    expect(h.telegram.callsOf('sendDocument')).toHaveLength(0);
    expect((await petro.press('m:stats', overview)).sent[0]?.text).toContain('📊 Огляд');

    // A forged button is stale; a revoked role is refused on the next press of an old button.
    expect((await petro.press('st:everything', overview)).answer?.text).toContain('Ця кнопка');
    await setRole('helper');
    const refused = await petro.click('🔄 Оновити', overview);
    expect(refused.answer).toEqual({ text: '⛔ У вас немає прав на цю дію.', showAlert: true });
    expect(refused.edited).toHaveLength(0);
  });
});

describe('rendering', () => {
  const i18n = createTranslator();

  it.each([
    ['de', 20 * 60_000, '20 Minuten'],
    ['de', 60 * 60_000, '1 Stunde'],
    ['de', 5.5 * 3_600_000, '5,5 Stunden'],
    ['de', 30 * 3_600_000, '30 Stunden'],
    ['de', 3 * 86_400_000, '3 Tage'],
    ['uk', 1 * 60_000, '1 хвилина'],
    ['uk', 1.5 * 3_600_000, '1,5 години'],
    ['uk', 5 * 3_600_000, '5 годин'],
    ['uk', 21 * 3_600_000, '21 година'],
    ['uk', 2 * 86_400_000, '2 дні'],
    ['ru', 22 * 3_600_000, '22 часа'],
    ['ru', 2.5 * 86_400_000, '2,5 дня'],
    ['ru', 12 * 86_400_000, '12 дней'],
  ] as const)('formatDuration %s %d ms → %s', (locale, ms, expected) => {
    expect(formatDuration(i18n.fixed(locale), locale, ms)).toBe(expected);
  });

  it('fits into one message even for a city with 40 long-named districts', () => {
    const long = (n: number) => `Stadtteil ${n} mit einem sehr langen Namen & Zusatz (Nord-Ost)`;
    const city = new CityDirectory(
      parseCity({
        key: 'grossstadt',
        name: { de: 'Großstadt', uk: 'Місто', ru: 'Город' },
        wholeCity: { de: 'Ganze Großstadt', uk: 'Усе місто', ru: 'Весь город' },
        timezone: 'Europe/Berlin',
        districts: Array.from({ length: 40 }, (_, i) => ({ key: `d${i}`, name: { de: long(i), uk: long(i), ru: long(i) } })),
        categories: [{ key: 'food', emoji: '🍞', name: { de: 'Lebensmittel & Hygieneartikel für Familien', uk: 'Їжа', ru: 'Еда' } }],
      }),
    );
    const counts = (open: number): StatsCounts => ({ open, unanswered: 1, fulfilledThisWeek: 0, answered: 1, medianFirstResponseMs: 3_600_000 });
    const cells: StatsCell[] = Array.from({ length: 40 }, (_, i) => ({ kind: 'need', district: `d${i}`, category: 'food', ...counts(100 + i) }));
    const overview = {
      generatedAt: new Date('2026-03-06T12:00:00+01:00'),
      weekStart: new Date('2026-03-02T00:00:00+01:00'),
      cells,
      totals: { need: counts(5_780), offer: counts(0) },
      oldestUnanswered: Array.from({ length: 5 }, (_, i) => ({ id: i + 1, category: 'food', district: `d${i}`, publishedAt: new Date('2026-02-01T10:00:00+01:00') })),
    };
    const text = renderOverview({ t: i18n.fixed('de'), locale: 'de', city }, overview);
    expect(text.length).toBeLessThanOrEqual(4096);
    expect(text).toContain('… und 25 weitere Bezirke');
    expect(text).toContain(`📍 ${long(39).replace('&', '&amp;')}: 139 / 0`); // the busiest are kept
    expect(text).not.toContain(`📍 ${long(0).replace('&', '&amp;')}:`);
    expect(text).toContain('Zeit bis zur ersten Antwort');
  });
});
