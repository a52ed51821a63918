import { LOCALES } from '../../src/config';
import { createI18next, createTranslator, readLocaleFiles } from '../../src/i18n';

type Tree = { [key: string]: string | Tree };

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(path, value);
    else for (const [k, v] of flatten(value, path)) out.set(k, v);
  }
  return out;
}

const PLURAL_FORMS = ['zero', 'one', 'two', 'few', 'many', 'other'] as const;
const PLURAL = /_(zero|one|two|few|many|other)$/;
const resources = readLocaleFiles();
const flat = Object.fromEntries(LOCALES.map((l) => [l, flatten(resources[l])])) as Record<(typeof LOCALES)[number], Map<string, string>>;

/** Keys without plural suffixes: the set every language must have. */
function baseKeys(locale: (typeof LOCALES)[number]): Set<string> {
  return new Set([...flat[locale].keys()].map((k) => k.replace(PLURAL, '')));
}

describe('locales', () => {
  it('has the same keys in uk, de and ru', () => {
    const de = baseKeys('de');
    for (const locale of ['uk', 'ru'] as const) {
      const other = baseKeys(locale);
      expect({ locale, missing: [...de].filter((k) => !other.has(k)) }).toEqual({ locale, missing: [] });
      expect({ locale, extra: [...other].filter((k) => !de.has(k)) }).toEqual({ locale, extra: [] });
    }
  });

  it('has every plural form each language needs', () => {
    const required = { de: ['one', 'other'], uk: ['one', 'few', 'many', 'other'], ru: ['one', 'few', 'many', 'other'] };
    for (const locale of LOCALES) {
      const plurals = [...flat[locale].keys()].filter((k) => PLURAL.test(k)).map((k) => k.replace(PLURAL, ''));
      for (const base of new Set(plurals)) {
        for (const form of required[locale]) {
          expect(`${locale}:${base}_${form} ${flat[locale].has(`${base}_${form}`)}`).toBe(`${locale}:${base}_${form} true`);
        }
      }
    }
  });

  it('uses the same placeholders in every language', () => {
    const placeholders = (s: string) => [...s.matchAll(/\{\{-?\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();
    for (const [key, value] of flat.de) {
      if (PLURAL.test(key)) continue;
      for (const locale of ['uk', 'ru'] as const) {
        const other = flat[locale].get(key);
        if (other !== undefined) expect({ key, locale, p: placeholders(other) }).toEqual({ key, locale, p: placeholders(value) });
      }
    }
  });

  it('only uses HTML that Telegram accepts', () => {
    for (const locale of LOCALES) {
      for (const [key, value] of flat[locale]) {
        const tags = [...value.matchAll(/<\/?([a-z-]+)[^>]*>/g)].map((m) => m[1]);
        expect({ key, bad: tags.filter((t) => !['b', 'i', 'u', 's', 'code', 'a', 'blockquote'].includes(t ?? '')) }).toEqual({ key, bad: [] });
      }
    }
  });

  it.each([
    ['uk', 1, '1 день'],
    ['uk', 2, '2 дні'],
    ['uk', 5, '5 днів'],
    ['uk', 11, '11 днів'],
    ['uk', 21, '21 день'],
    ['uk', 22, '22 дні'],
    ['uk', 25, '25 днів'],
    ['ru', 1, '1 день'],
    ['ru', 2, '2 дня'],
    ['ru', 5, '5 дней'],
    ['ru', 11, '11 дней'],
    ['ru', 21, '21 день'],
    ['ru', 22, '22 дня'],
    ['ru', 25, '25 дней'],
    ['de', 1, '1 Tag'],
    ['de', 2, '2 Tage'],
    ['de', 21, '21 Tage'],
  ] as const)('plural %s %d → %s', (locale, count, expected) => {
    expect(createTranslator().t(locale, 'common.count.days', { count })).toBe(expected);
  });

  it.each([
    ['uk', 1, 'людина'],
    ['uk', 2, 'людини'],
    ['uk', 5, 'людей'],
    ['uk', 11, 'людей'],
    ['uk', 21, 'людина'],
    ['uk', 22, 'людини'],
    ['uk', 25, 'людей'],
    ['ru', 1, 'человек'],
    ['ru', 2, 'человека'],
    ['ru', 5, 'человек'],
    ['ru', 11, 'человек'],
    ['ru', 21, 'человек'],
    ['ru', 22, 'человека'],
    ['ru', 25, 'человек'],
  ] as const)('people %s %d → %s', (locale, count, word) => {
    expect(createTranslator().t(locale, 'common.count.people', { count })).toBe(`${count} ${word}`);
  });

  it('escapes interpolated values for Telegram HTML', () => {
    const t = createTranslator();
    expect(t.t('de', 'start.welcomeBack', { name: '<b>Bob</b> & "Co"' })).toBe('👋 Willkommen zurück, &lt;b&gt;Bob&lt;/b&gt; &amp; &quot;Co&quot;!');
  });

  it('answers every key of every language exactly as i18next’s own fixed t does, with and without values', () => {
    const translator = createTranslator();
    const reference = createI18next();
    // Values that HTML escaping changes, and counts that reach every plural form of uk, de and ru.
    const value = '<i>Q&A</i> "Ольга"';
    let compared = 0;
    for (const locale of LOCALES) {
      const ours = translator.fixed(locale);
      const theirs = reference.getFixedT(locale);
      for (const key of new Set([...flat[locale].keys()].map((k) => k.replace(PLURAL, '')))) {
        const names = new Set<string>();
        for (const k of [key, ...PLURAL_FORMS.map((f) => `${key}_${f}`)]) {
          for (const m of (flat[locale].get(k) ?? '').matchAll(/\{\{-?\s*([\w.]+)/g)) names.add(m[1]!);
        }
        const values = Object.fromEntries([...names].map((n) => [n, value]));
        expect(ours(key)).toBe(theirs(key));
        expect(translator.t(locale, key)).toBe(theirs(key));
        for (const count of [0, 1, 2, 5, 11, 21, 22]) {
          expect(ours(key, { ...values, count })).toBe(theirs(key, { ...values, count }));
        }
        expect(ours(key, values)).toBe(theirs(key, values));
        compared++;
      }
      // Another language or a missing key among the options: i18next's own handling.
      expect(ours('start.welcomeBack', { name: value, lng: 'de' })).toBe(theirs('start.welcomeBack', { name: value, lng: 'de' }));
      expect(ours('no.such.key', { name: value })).toBe(theirs('no.such.key', { name: value }));
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('answers a key without options from memory, and a key with options afresh each time', () => {
    const t = createTranslator().fixed('uk');
    const languages = readLocaleFiles();
    const label = (languages.uk.common as Record<string, Record<string, string>>).languages!.de!;
    expect(t('common.languages.de')).toBe(label);
    expect(t('common.languages.de')).toBe(label);
    // The same key in another language is its own entry, and options are never served from memory.
    expect(createTranslator().fixed('de')('common.languages.de')).toBe((languages.de.common as Record<string, Record<string, string>>).languages!.de);
    expect(t('common.count.people', { count: 1 })).not.toBe(t('common.count.people', { count: 5 }));
    expect(t('start.welcomeBack', { name: 'A' })).toContain('A');
    expect(t('start.welcomeBack', { name: 'B' })).toContain('B');
  });
});
