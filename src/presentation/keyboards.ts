import { InlineKeyboard } from 'grammy';
import type { CityDirectory } from '../city';
import { WHOLE_CITY } from '../city';
import { LOCALES, type Locale } from '../config';
import type { TFunction } from '../i18n';

/** The three languages in one row, each written in its own language (no flags). */
export function createLanguageRow(keyboard: InlineKeyboard, t: TFunction, encode: (locale: Locale) => string, current?: Locale): InlineKeyboard {
  for (const locale of LOCALES) {
    const label = t(`common.languages.${locale}`);
    keyboard.text(locale === current ? `• ${label}` : label, encode(locale));
  }
  return keyboard.row();
}

/**
 * Districts one per row (names can be long on a phone), the whole city last, then an optional back button;
 * `omit` leaves out a district already offered above the list (the home district).
 */
export function createDistrictKeyboard(
  city: CityDirectory,
  locale: Locale,
  encode: (key: string) => string,
  options: { back?: { label: string; data: string }; current?: string | null; selected?: ReadonlySet<string>; omit?: string | null } = {},
): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  const shown = (key: string) => key !== options.omit;
  const mark = (key: string, label: string) => {
    if (options.selected) return `${options.selected.has(key) ? '✅' : '▫️'} ${label}`;
    return key === options.current ? `• ${label}` : label;
  };
  for (const d of city.districts) if (shown(d.key)) keyboard.text(mark(d.key, d.name[locale]), encode(d.key)).row();
  if (shown(WHOLE_CITY)) keyboard.text(mark(WHOLE_CITY, `🏙 ${city.districtName(WHOLE_CITY, locale)}`), encode(WHOLE_CITY)).row();
  if (options.back) keyboard.text(options.back.label, options.back.data);
  return keyboard;
}

/** Categories two per row with their emoji. */
export function createCategoryKeyboard(
  city: CityDirectory,
  locale: Locale,
  encode: (key: string) => string,
  options: { back?: { label: string; data: string }; selected?: ReadonlySet<string>; columns?: number } = {},
): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  const columns = options.columns ?? 2;
  city.categories.forEach((c, i) => {
    const label = city.categoryLabel(c.key, locale);
    keyboard.text(options.selected ? `${options.selected.has(c.key) ? '✅' : '▫️'} ${label}` : label, encode(c.key));
    if (i % columns === columns - 1) keyboard.row();
  });
  keyboard.row();
  if (options.back) keyboard.text(options.back.label, options.back.data);
  return keyboard;
}
