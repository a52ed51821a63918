import { CityDirectory, loadCity, WHOLE_CITY } from '../../src/city';
import { createTranslator } from '../../src/i18n';
import { createDeepLink, createPosterPayload, parseStartPayload } from '../../src/presentation/callback-data/deep-link';
import { renderPoster, renderQrPng } from '../../src/presentation/poster';
import { pdfText, readQr } from '../helpers/poster-reader';

const city = new CityDirectory(loadCity());
const i18n = createTranslator('de');
const env = { city, i18n };
const flat = (s: string) => s.replace(/\s+/g, ' ');

describe('the poster', () => {
  it.each([
    ['uk', 'hamborn', 'Гамборн (Hamborn)', 'Потрібна допомога?', 'Brauchen Sie Hilfe?'],
    ['ru', 'mitte', 'Центр (Mitte)', 'Нужна помощь?', 'Brauchen Sie Hilfe?'],
    ['de', 'sued', 'Süd', 'Brauchen Sie Hilfe?', 'Brauchen Sie Hilfe?'],
  ] as const)('in %s for %s: the district, the texts and the link in the PDF, the link in the QR code', async (locale, district, name, headline, german) => {
    const link = createDeepLink('hilfenetz_test_bot', createPosterPayload(locale, district));
    const poster = await renderPoster({ district, locale, link }, env);
    expect(poster.pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const { pages, text } = await pdfText(poster.pdf);
    expect(pages).toBe(1);
    expect(flat(text)).toContain(name);
    expect(flat(text)).toContain(headline);
    expect(flat(text)).toContain(german);
    expect(flat(text)).toContain(link);
    expect(readQr(poster.png)).toBe(link);
    // The link the code holds opens the bot with this poster's language and district.
    expect(parseStartPayload(new URL(readQr(poster.png)!).searchParams.get('start')!)).toEqual({ type: 'poster', locale, district });
  });

  it('for the whole city names the city and links without a district', async () => {
    const link = createDeepLink('hilfenetz_test_bot', createPosterPayload('uk', null));
    const poster = await renderPoster({ district: WHOLE_CITY, locale: 'uk', link }, env);
    const { text } = await pdfText(poster.pdf);
    expect(flat(text)).toContain('Увесь Дуйсбург');
    expect(flat(text)).toContain('Ganz Duisburg');
    expect(link).toBe('https://t.me/hilfenetz_test_bot?start=p1-uk');
    expect(readQr(poster.png)).toBe(link);
  });

  it('the reader finds no code where there is none, and another link where there is another', async () => {
    expect(readQr(await renderQrPng('https://t.me/hilfenetz_test_bot?start=p1-de'))).toBe('https://t.me/hilfenetz_test_bot?start=p1-de');
    const { PNG } = await import('pngjs');
    const blank = new PNG({ width: 64, height: 64 });
    blank.data.fill(255);
    expect(readQr(PNG.sync.write(blank))).toBeNull();
  });
});

describe('poster links', () => {
  it('are compact, versioned and valid deep links for every district and language', () => {
    for (const locale of ['uk', 'de', 'ru'] as const) {
      for (const district of [...city.districts.map((d) => d.key), null]) {
        const payload = createPosterPayload(locale, district);
        expect(payload).toMatch(/^p1-(uk|de|ru)(-[a-z0-9_]+)?$/);
        expect(payload.length).toBeLessThanOrEqual(64);
        expect(parseStartPayload(payload)).toEqual({ type: 'poster', locale, district });
      }
    }
  });

  it.each([
    ['p1-en-hamborn', 'an unknown language'],
    ['p2-uk-hamborn', 'an unknown version'],
    ['p1-uk-Hamborn', 'a district key with capitals'],
    ['p1-uk-hamborn-x', 'an extra part'],
    ['p1-uk-', 'an empty district'],
    [`p1-uk-${'a'.repeat(25)}`, 'a district key over 24 characters'],
    [`p1-uk-${'a'.repeat(70)}`, 'over 64 characters'],
    ['p1-uk-ham born', 'a space'],
    ['p1-uk-hamborn<', 'a character Telegram does not allow'],
  ])('%s (%s) is invalid', (payload) => {
    expect(parseStartPayload(payload)).toEqual({ type: 'invalid' });
  });

  it('refuse to encode a district key that would not parse', () => {
    expect(() => createPosterPayload('uk', 'Not-A-Key')).toThrow();
  });
});
