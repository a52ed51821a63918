import { detectLanguage, isTranslatable, type SourceLanguage } from '../../src/translate/detect';
import type { Locale } from '../../src/config';

// Short texts as people write them in posts and chats: no punctuation, typos, mixed case, short replies.
// Each with the language it is in and the interface language of its author (which may differ).
const CYRILLIC: [string, SourceLanguage, Locale][] = [
  ['Шукаю кімнату на два місяці для себе.', 'uk', 'uk'],
  ['Потрібна допомога з переїздом у суботу', 'uk', 'uk'],
  ['Допоможіть заповнити анкету в Jobcenter', 'uk', 'de'],
  ['Чи може хтось піти зі мною до лікаря в понеділок?', 'uk', 'uk'],
  ['дякую вам дуже', 'uk', 'uk'],
  ['Потрібен дитячий візок для сина 2 роки', 'uk', 'ru'],
  ['Шукаю роботу прибиральницею, маю досвід', 'uk', 'uk'],
  ['Хто може перекласти лист з Ausländerbehörde?', 'uk', 'de'],
  ['Я вже знайшла квартиру, дякую', 'uk', 'uk'],
  ['добре, зустрінемось о 10 біля вокзалу', 'uk', 'uk'],
  ['Потрібні зимові речі для дітей 5 і 8 років', 'uk', 'uk'],
  ['Шукаю курси німецької мови ввечері', 'uk', 'ru'],
  ['Привіт', 'uk', 'uk'],
  ['так, завтра зможу', 'uk', 'uk'],
  ['Ищу комнату на два месяца для себя.', 'ru', 'ru'],
  ['Нужна помощь с переездом в субботу', 'ru', 'ru'],
  ['Помогите заполнить анкету в Jobcenter', 'ru', 'uk'],
  ['Может кто-то пойти со мной к врачу в понедельник?', 'ru', 'ru'],
  ['спасибо вам большое', 'ru', 'ru'],
  ['Нужна детская коляска для сына 2 года', 'ru', 'uk'],
  ['Ищу работу уборщицей, есть опыт', 'ru', 'ru'],
  ['Кто может перевести письмо из Ausländerbehörde?', 'ru', 'de'],
  ['Я уже нашла квартиру, спасибо', 'ru', 'ru'],
  ['хорошо, встретимся в 10 у вокзала', 'ru', 'ru'],
  ['Нужны зимние вещи для детей 5 и 8 лет', 'ru', 'ru'],
  ['Ищу курсы немецкого языка вечером', 'ru', 'uk'],
  ['Привет', 'ru', 'ru'],
  ['да, завтра смогу', 'ru', 'ru'],
];

const GERMAN_AND_ENGLISH: [string, SourceLanguage, Locale][] = [
  ['Ich kann am Samstag beim Umzug helfen, habe einen Transporter.', 'de', 'de'],
  ['Biete Begleitung zu Ämtern, spreche etwas Russisch', 'de', 'de'],
  ['Kinderwagen abzugeben, fast neu', 'de', 'de'],
  ['Zimmer frei ab Mai in Hamborn', 'de', 'de'],
  ['Ich helfe gern beim Ausfüllen von Formularen.', 'de', 'de'],
  ['Danke, bis morgen!', 'de', 'de'],
  ['Wir haben Winterkleidung für Kinder', 'de', 'de'],
  ['Können Sie mir sagen wann Sie Zeit haben?', 'de', 'uk'],
  ['Ja gerne', 'de', 'de'],
  ['Nachhilfe in Mathe für Schüler, kostenlos', 'de', 'de'],
  ['Fahrrad zu verschenken', 'de', 'de'],
  ['I can help with translation to English', 'en', 'de'],
  ['Looking for a room for two months', 'en', 'de'],
  ['I need help with documents for the job center', 'en', 'uk'],
];

// Ukrainian and Russian in Latin letters, as typed on a phone without a Cyrillic keyboard.
const TRANSLITERATED: [string, SourceLanguage, Locale][] = [
  ['Potribna dopomoga z dokumentamy', 'uk', 'uk'],
  ['Shukayu kvartyru dlya sim\'i', 'uk', 'de'],
  ['dyakuyu, zavtra mozhu', 'uk', 'uk'],
  ['meni treba likar dlya dytyny', 'uk', 'de'],
  ['Nuzhna pomoshch s dokumentami', 'ru', 'ru'],
  ['Ishchu kvartiru dlya semi', 'ru', 'de'],
  ['spasibo, zavtra mogu', 'ru', 'ru'],
  ['mne nuzhen vrach dlya rebenka', 'ru', 'de'],
];

function accuracy(set: [string, SourceLanguage, Locale][]): { share: number; wrong: string[] } {
  const wrong = set.filter(([text, expected, author]) => detectLanguage(text, author).language !== expected).map(([text, expected, author]) => `${text} (${expected}, author ${author}) → ${detectLanguage(text, author).language}`);
  return { share: (set.length - wrong.length) / set.length, wrong };
}

describe('language detection', () => {
  it('tells Ukrainian and Russian apart on short Cyrillic texts', () => {
    const { share, wrong } = accuracy(CYRILLIC);
    // 28 texts, half of them from authors whose interface language is another one.
    expect(wrong).toEqual([]);
    expect(share).toBe(1);
  });

  it('recognises German and English', () => {
    const { share, wrong } = accuracy(GERMAN_AND_ENGLISH);
    expect(wrong.length).toBeLessThanOrEqual(1);
    expect(share).toBeGreaterThanOrEqual(0.92);
  });

  it('recognises transliterated Ukrainian and Russian and does not send them for translation', () => {
    const { share, wrong } = accuracy(TRANSLITERATED);
    expect(wrong.length).toBeLessThanOrEqual(1);
    expect(share).toBeGreaterThanOrEqual(0.85);
    expect(isTranslatable(detectLanguage('Potribna dopomoga z dokumentamy', 'uk'))).toBe(false);
    expect(isTranslatable(detectLanguage('Шукаю кімнату на два місяці', 'uk'))).toBe(true);
  });

  it('falls back to the author’s language when the text does not tell', () => {
    expect(detectLanguage('👍👍', 'ru')).toEqual({ language: 'ru', script: 'none', confident: false });
    expect(detectLanguage('12:30 ok?', 'uk').language).toBe('uk');
    // Cyrillic without a telling letter: never German, whatever the author's interface language.
    expect(['uk', 'ru']).toContain(detectLanguage('Да', 'de').language);
  });
});
