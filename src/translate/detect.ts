import type * as Tinyld from 'tinyld';
import type { Locale } from '../config';

/** The languages a text may be detected as: the bot's three and English (the engine translates it too). */
export const SOURCE_LANGUAGES = ['uk', 'de', 'ru', 'en'] as const;
export type SourceLanguage = (typeof SOURCE_LANGUAGES)[number];

/** What detection says about a text. */
export interface Detection {
  language: SourceLanguage;
  /** Cyrillic or Latin letters make up most of the text (Latin-script Ukrainian/Russian is not translated). */
  script: 'cyrillic' | 'latin' | 'none';
  /** False when the author's interface language decided (too short or too mixed to tell). */
  confident: boolean;
}

let tinyld: typeof Tinyld | undefined;

/**
 * The statistical model, loaded at the first text that needs it rather than at start (its tables cost
 * about a quarter of a second of start-up). Synchronous, as detection is.
 */
function model(): typeof Tinyld {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy, synchronous load on purpose
  tinyld ??= require('tinyld') as typeof Tinyld;
  return tinyld;
}

const CYRILLIC = /\p{Script=Cyrillic}/gu;
const LATIN = /\p{Script=Latin}/gu;
/** Letters only Ukrainian uses among the two (і ї є ґ) and only Russian uses (ы э ъ ё). */
const UKRAINIAN_ONLY = /[іїєґ]/giu;
const RUSSIAN_ONLY = /[ыэъё]/giu;
const GERMAN_LETTERS = /[äöüß]/giu;

// Common words of Ukrainian and Russian written in Latin letters (chats without a Cyrillic keyboard),
// and German function words; a hit is a strong hint where the statistical model sees only Latin letters.
const TRANSLIT: Record<'uk' | 'ru', Set<string>> = {
  uk: new Set(
    'potribna potriben potribno potribni dopomoga dopomoha dopomogy dopomohy dopomozhit shukayu shukaju shukaiu meni mene bud laska budlaska dyakuyu diakuiu dyakuju kvartyra kvartyru kimnata kimnatu prykhystok zhytlo zhytla dytyna dytyny ditey ditei likar likarya robota robotu mozhu mozhete treba potrebuyu dlya sim\'i simi ya tut hto shcho chy abo ale vid pislya sogodni sohodni zavtra nedilya subota pereklad perekladach dokumenty dokumentamy'.split(
      ' ',
    ),
  ),
  ru: new Set(
    'nuzhna nuzhen nuzhno nuzhny pomoshch pomosh pomoshch\' pomogite ishchu ishu mne menya pozhaluysta pozhalujsta spasibo kvartira kvartiru komnata komnatu zhile zhilyo rebenok rebenka detey vrach vracha rabota rabotu mogu mozhete nado trebuetsya dlya semi ya zdes kto chto ili no ot posle segodnya zavtra voskresenye subbota perevod perevodchik dokumenty dokumentami'.split(
      ' ',
    ),
  ),
};
// Frequent short words that only one of the two languages writes this way (Cyrillic texts without і/ы).
const CYRILLIC_WORDS: Record<'uk' | 'ru', Set<string>> = {
  uk: new Set('хто що це та з зі й мені чи як вже ще але або дуже тому буде можу треба потрібно потрібна потрібен шукаю будь дякую так добре лист'.split(' ')),
  ru: new Set('кто что это с со из мне ли как уже ещё еще но или очень поэтому будет могу надо нужно нужна нужен ищу пожалуйста спасибо да хорошо письмо'.split(' ')),
};
const GERMAN_WORDS = new Set('ich und der die das ein eine einen für mit bei nach suche brauche biete hilfe wohnung zimmer kinder arzt termin bitte danke nicht oder auch wir'.split(' '));

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}']+/u)
    .filter(Boolean);
}

/** tinyld's best guess among `only`, if it is clearly ahead of the next one. */
function statisticalGuess(text: string, only: SourceLanguage[]): SourceLanguage | null {
  const ranked = model().detectAll(text, { only });
  const [first, second] = ranked;
  if (!first) return null;
  if (!second || first.accuracy >= 0.5 || first.accuracy >= second.accuracy * 1.1) return first.lang as SourceLanguage;
  return null;
}

/**
 * The language of a short user text, offline: script and letter hints first (Ukrainian-only і ї є ґ,
 * Russian-only ы э ъ ё, German ä ö ü ß, transliterated common words), then tinyld's statistical model,
 * and the author's interface language when neither is sure. Runs in microseconds; no text leaves the process.
 */
export function detectLanguage(text: string, authorLocale: Locale): Detection {
  const cyrillic = count(text, CYRILLIC);
  const latin = count(text, LATIN);
  if (cyrillic === 0 && latin === 0) return { language: authorLocale, script: 'none', confident: false };
  if (cyrillic >= latin) {
    const uk = count(text, UKRAINIAN_ONLY);
    const ru = count(text, RUSSIAN_ONLY);
    if (uk > ru) return { language: 'uk', script: 'cyrillic', confident: true };
    if (ru > uk) return { language: 'ru', script: 'cyrillic', confident: true };
    const tokens = words(text);
    const ukWords = tokens.filter((w) => CYRILLIC_WORDS.uk.has(w)).length;
    const ruWords = tokens.filter((w) => CYRILLIC_WORDS.ru.has(w)).length;
    if (ukWords !== ruWords) return { language: ukWords > ruWords ? 'uk' : 'ru', script: 'cyrillic', confident: true };
    // The model on the Cyrillic words only (a German office name in a Ukrainian sentence misleads it).
    const cyrillicOnly = tokens.filter((w) => /^\p{Script=Cyrillic}+$/u.test(w)).join(' ');
    const guess = statisticalGuess(cyrillicOnly, ['uk', 'ru']);
    if (guess && (uk === 0 || guess === authorLocale)) return { language: guess, script: 'cyrillic', confident: true };
    // Cyrillic, so not German: the author's language if it is one of the two, else the model's pick.
    const fallback = authorLocale === 'uk' || authorLocale === 'ru' ? authorLocale : (guess ?? 'ru');
    return { language: fallback, script: 'cyrillic', confident: false };
  }
  const tokens = words(text);
  const hits = { uk: 0, ru: 0, de: 0 };
  for (const w of tokens) {
    if (TRANSLIT.uk.has(w)) hits.uk++;
    if (TRANSLIT.ru.has(w)) hits.ru++;
    if (GERMAN_WORDS.has(w)) hits.de++;
  }
  hits.de += count(text, GERMAN_LETTERS) * 2;
  const translit = Math.max(hits.uk, hits.ru);
  if (translit > hits.de && hits.uk !== hits.ru) return { language: hits.uk > hits.ru ? 'uk' : 'ru', script: 'latin', confident: true };
  if (hits.de > translit) return { language: 'de', script: 'latin', confident: true };
  const guess = statisticalGuess(text, ['de', 'en']);
  if (guess) return { language: guess, script: 'latin', confident: true };
  return { language: authorLocale, script: 'latin', confident: false };
}

/** Whether a detected text can be machine-translated (Latin-script Ukrainian or Russian cannot). */
export function isTranslatable(detection: Detection): boolean {
  if (detection.script === 'none') return false;
  return !(detection.script === 'latin' && (detection.language === 'uk' || detection.language === 'ru'));
}
