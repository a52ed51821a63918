import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import i18next, { type i18n, type TFunction } from 'i18next';
import { LOCALES, type Locale } from '../config';
import { PROJECT_ROOT } from '../util/project-root';

export type { TFunction };

/** Where the translations live: one folder per language, one JSON file per feature. */
export const LOCALES_DIR = path.join(PROJECT_ROOT, 'locales');

/** Telegram HTML needs only these escaped; i18next's default would also mangle "/" in commands. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

type Tree = { [key: string]: string | Tree };

/** Reads locales/<lang>/<feature>.json into { feature: {...} } per language. */
export function readLocaleFiles(dir = LOCALES_DIR): Record<Locale, Tree> {
  const resources = {} as Record<Locale, Tree>;
  for (const locale of LOCALES) {
    const tree: Tree = {};
    const folder = path.join(dir, locale);
    for (const file of readdirSync(folder).filter((f) => f.endsWith('.json')).sort()) {
      tree[path.basename(file, '.json')] = JSON.parse(readFileSync(path.join(folder, file), 'utf8')) as Tree;
    }
    resources[locale] = tree;
  }
  return resources;
}

/** The bot's own words in uk, de and ru. Interpolated values are HTML-escaped. */
export interface Translator {
  t(locale: Locale, key: string, options?: Record<string, unknown>): string;
  fixed(locale: Locale): TFunction;
}

/** An isolated i18next instance with locales/ (the translator's; tests compare against its own `t`). */
export function createI18next(defaultLocale: Locale = 'de', dir = LOCALES_DIR): i18n {
  const resources = readLocaleFiles(dir);
  const instance = i18next.createInstance();
  void instance.init({
    initAsync: false,
    resources: Object.fromEntries(Object.entries(resources).map(([lng, tree]) => [lng, { translation: tree }])),
    lng: defaultLocale,
    fallbackLng: defaultLocale,
    supportedLngs: [...LOCALES],
    interpolation: { escapeValue: true, escape: escapeHtml },
    returnNull: false,
  });
  return instance;
}

/** The bot's translator, on an isolated i18next instance. */
export function createTranslator(defaultLocale: Locale = 'de', dir = LOCALES_DIR): Translator {
  const instance = createI18next(defaultLocale, dir);
  const cache = new Map<Locale, TFunction>();
  const fixed = (locale: Locale) => {
    let t = cache.get(locale);
    if (!t) {
      t = fastLookups(instance, locale);
      cache.set(locale, t);
    }
    return t;
  };
  return {
    fixed,
    // Without options, the key alone: a trailing `undefined` would miss the memoised labels.
    t: (locale, key, options) => String(options === undefined ? fixed(locale)(key) : fixed(locale)(key, options)),
  };
}

/**
 * A fixed-language `t` with two short cuts, each giving exactly what i18next's own fixed `t` gives
 * (test/i18n/locales.test.ts compares them for every key of every language):
 * - The resources never change after start-up, so a key asked for without options (a button's label, a
 *   heading) has one answer per language: it is looked up once and then read from a map. bench:updates:
 *   i18next was ~4 % of the bot's CPU, most of it labels rebuilt for every keyboard.
 * - A key with options (interpolation, plurals) goes to the instance's `t` with the language among the
 *   options. The fixed `t` of i18next 25 copies all of the instance's options into a new object at every
 *   call: this way takes about a third of its CPU per lookup (npm run bench:i18n).
 */
function fastLookups(instance: i18n, locale: Locale): TFunction {
  const fixed = instance.getFixedT(locale);
  const viaFixed = fixed as unknown as (...args: unknown[]) => unknown;
  const plain = new Map<string, unknown>();
  const t = (key: unknown, ...rest: unknown[]) => {
    if (typeof key !== 'string') return viaFixed(key, ...rest);
    if (rest.length === 0) {
      let value = plain.get(key);
      if (value === undefined) {
        value = fixed(key);
        plain.set(key, value);
      }
      return value;
    }
    const [options] = rest;
    if (rest.length === 1 && typeof options === 'object' && options !== null && !Array.isArray(options)) {
      const o = options as { lng?: unknown; keyPrefix?: unknown };
      // The fixed `t` would apply a key prefix or another language from the options; those go to it.
      if (o.lng === undefined && o.keyPrefix === undefined) return instance.t(key, { ...options, lng: locale } as never);
    }
    return viaFixed(key, ...rest);
  };
  return Object.assign(t, fixed);
}

/** Maps Telegram's language_code to one of ours; anything else gets the default. */
export function pickLocale(languageCode: string | undefined, fallback: Locale): Locale {
  const base = languageCode?.toLowerCase().split(/[-_]/)[0];
  return (LOCALES as readonly string[]).includes(base ?? '') ? (base as Locale) : fallback;
}

/** Intl locale tags for dates and numbers. */
export const INTL_LOCALE: Record<Locale, string> = { uk: 'uk-UA', de: 'de-DE', ru: 'ru-RU' };
