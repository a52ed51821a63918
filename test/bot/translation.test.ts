import { eq, isNotNull } from 'drizzle-orm';
import { outbox, posts, relayMessages, translationJobs, translationOptOuts, translations } from '../../src/db/schema';
import { eraseExpiredTexts } from '../../src/domain/privacy';
import { onboard, post, subscribe } from '../helpers/flows';
import { FakeTranslate } from '../helpers/fake-translate';
import { type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';
import { verifyPeople } from '../helpers/verification';
import { waitFor } from '../helpers/wait';

const NEED = 'Шукаю кімнату на два місяці для мами.';
const NEED_DE = 'Ich suche ein Zimmer für zwei Monate für meine Mutter.';
const NEED_RU = 'Ищу комнату на два месяца для мамы.';
const HELLO_DE = 'Ich habe ein Zimmer frei, ab Montag.';
const HELLO_UK = 'У мене є вільна кімната, з понеділка.';
const REPLY_UK = 'Дякую! Коли можна подивитися?';
const REPLY_DE = 'Danke! Wann kann ich sie ansehen?';

const COORDINATOR = { id: 999_001, first_name: 'Sabine', language_code: 'de' };
const NOTICE_DE = 'Das Sozialamt Hamborn ist am Freitag geschlossen. Termine werden verschoben.';
const NOTICE_UK = 'Соціальне відомство Гамборна в пʼятницю зачинене. Зустрічі переносяться.';
const NOTICE_RU = 'Социальное ведомство Хамборна в пятницу закрыто. Встречи переносятся.';

const stand = new FakeTranslate([
  [NEED, { de: NEED_DE, ru: NEED_RU }],
  [HELLO_DE, { uk: HELLO_UK, ru: 'У меня есть свободная комната, с понедельника.' }],
  [REPLY_UK, { de: REPLY_DE }],
  [NOTICE_DE, { uk: NOTICE_UK, ru: NOTICE_RU }],
]);
// The URL is known once the stand-in listens; the harness reads the env in beforeEach.
const env: Record<string, string> = { MAX_OPEN_POSTS: '20', MAX_POSTS_PER_DAY: '20', WAVE_SIZE: '50', TRANSLATE_WAIT: '5s', ADMIN_TELEGRAM_IDS: String(COORDINATOR.id) };
beforeAll(async () => {
  env.TRANSLATE_URL = await stand.listen();
});
afterAll(() => stand.close());
const harness = useHarness({ env, translationEngine: { retries: 1, retryBaseMs: 10, failureThreshold: 50 } });
let h: Harness;
beforeEach(() => {
  h = harness.current;
  stand.reset();
});

const HEADER = { uk: 'Новий запит', de: 'Neue Anfrage', ru: 'Новый запрос' };

async function helpers(): Promise<{ jonas: TestUser; irina: TestUser; petro: TestUser }> {
  const jonas = h.user(PEOPLE.jonas);
  const irina = h.user(PEOPLE.irina);
  const petro = h.user(PEOPLE.petro);
  await onboard(jonas, 'helper', 'Hamborn');
  await subscribe(jonas, ['🏠 Wohnen'], ['🏙 Ganz Duisburg']);
  await onboard(irina, 'helper', 'Хамборн (Hamborn)');
  await subscribe(irina, ['🏠 Жильё'], ['🏙 Весь Дуйсбург']);
  await onboard(petro, 'helper', 'Гамборн (Hamborn)');
  await subscribe(petro, ['🏠 Житло'], ['🏙 Увесь Дуйсбург']);
  // Housing is a protected category: only verified helpers are told of its needs.
  await verifyPeople(h, jonas, irina, petro);
  return { jonas, irina, petro };
}

async function olenaPosts(text = NEED): Promise<TestUser> {
  const olena = h.user(PEOPLE.olena);
  if (!olena.messages.length) await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
  await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', text);
  return olena;
}

function notification(user: TestUser, lang: keyof typeof HEADER) {
  return user.find(HEADER[lang]);
}

describe('machine translation of posts', () => {
  it('notifies each helper in their language, marks the translation and switches to the original in place', async () => {
    const { jonas, irina, petro } = await helpers();
    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    // The author's preview says that readers may see a machine translation.
    await olena.send('/need');
    await olena.click('🏠 Житло');
    await olena.click(/^➡️ Гамборн/);
    await olena.send(NEED);
    await olena.click('➡️ Далі без фото');
    expect(olena.last.text).toContain('можуть бачити машинний переклад');
    await olena.click('✅ Опублікувати');

    // Notifications wait for the translation (at most TRANSLATE_WAIT) instead of going out untranslated.
    await h.deliver();
    expect(notification(jonas, 'de')).toBeUndefined();
    expect(await h.translate()).toBe(1);
    // One request per other language; never one for the language it is written in; no API key configured.
    expect(stand.requests.map((r) => [r.source, r.target, r.q, r.format])).toEqual([
      ['uk', 'de', NEED, 'text'],
      ['uk', 'ru', NEED, 'text'],
    ]);
    await h.deliver();

    const de = notification(jonas, 'de')!;
    expect(de.text).toContain(NEED_DE);
    expect(de.text).not.toContain(NEED);
    expect(de.text).toContain('🌐 maschinell übersetzt aus dem Ukrainischen');
    expect(jonas.buttons(de)).toEqual(['🤝 Ich kann helfen', '🙅 Diesmal nicht', '⏸ Eine Woche Pause', '📄 Original anzeigen', '⚠️ Melden']);
    const ru = notification(irina, 'ru')!;
    expect(ru.text).toContain(NEED_RU);
    expect(ru.text).toContain('🌐 машинный перевод с украинского');
    // Written in the reader's language: as written, no mark, no toggle.
    const uk = notification(petro, 'uk')!;
    expect(uk.text).toContain(NEED);
    expect(uk.text).not.toContain('🌐');
    expect(petro.buttons(uk)).not.toContain('📄 Показати оригінал');

    // "Show original" edits the same message; "Show translation" brings the translation back.
    const { edited } = await jonas.click('📄 Original anzeigen', de);
    expect(edited.map((m) => m.messageId)).toEqual([de.messageId]);
    expect(edited[0]!.text).toContain(NEED);
    expect(edited[0]!.text).toContain('geschrieben auf Ukrainisch');
    expect(jonas.buttons(edited[0])).toContain('🌐 Übersetzung anzeigen');
    expect(jonas.buttons(edited[0])).toContain('🤝 Ich kann helfen');
    const back = await jonas.click('🌐 Übersetzung anzeigen', de);
    expect(back.edited[0]!.text).toContain(NEED_DE);
    await irina.click('📄 Показать оригинал', ru);
    expect(h.telegram.message(PEOPLE.irina.id, ru.messageId)!.text).toContain(NEED);

    // Forged or stale toggles get a short localized answer, nothing is edited.
    const forged = await jonas.press('tr:t:n:abc', de);
    expect(forged.answer?.showAlert).toBe(true);
    expect(forged.edited).toEqual([]);
    const gone = await jonas.press('tr:t:n:99999', de);
    expect(gone.answer?.text).toBe('Dieser Text ist nicht mehr verfügbar.');
    const notForYou = await jonas.press('tr:t:r:1', de);
    expect(notForYou.answer?.showAlert).toBe(true);

    // Stored once, reused by /browse: the list and the opened card in German, the original one tap away.
    await jonas.send('/browse');
    expect(jonas.last.text).toContain(NEED_DE);
    expect(jonas.last.text).toContain('maschinell übersetzt aus dem Ukrainischen');
    await jonas.click('1');
    expect(jonas.last.text).toContain(NEED_DE);
    expect(jonas.buttons()).toContain('📄 Original anzeigen');
    await jonas.click('📄 Original anzeigen');
    expect(jonas.last.text).toContain(NEED);
    expect(stand.requests).toHaveLength(2);
    const stored = await h.db.db.select().from(translations);
    expect(stored.map((t) => [t.target, t.source, t.engine.startsWith('libretranslate@127.0.0.1')])).toEqual([
      ['de', 'uk', true],
      ['ru', 'uk', true],
    ]);
  });

  it('sends the original with a note when the translation is late, and edits it when the translation arrives', async () => {
    const { jonas, irina } = await helpers();
    stand.failStatus = 503;
    await olenaPosts();
    await h.deliver();
    await h.translate();
    await h.deliver();
    expect(notification(jonas, 'de')).toBeUndefined();
    // TRANSLATE_WAIT (5 s) later the notification goes out as written, saying a translation follows.
    h.clock.advance(5_000);
    await h.deliver();
    const de = notification(jonas, 'de')!;
    expect(de.text).toContain(NEED);
    expect(de.text).toContain('Eine maschinelle Übersetzung folgt gleich.');
    expect(jonas.buttons(de)).not.toContain('📄 Original anzeigen');
    expect(notification(irina, 'ru')!.text).toContain('Машинный перевод скоро появится.');

    // The engine is back; the job's next try (2 s backoff) translates and the messages are edited in place.
    stand.failStatus = null;
    h.clock.advance(2_000);
    expect(await h.translate()).toBe(1);
    await h.deliver();
    const edited = h.telegram.message(PEOPLE.jonas.id, de.messageId)!;
    expect(edited.editCount).toBe(1);
    expect(edited.text).toContain(NEED_DE);
    expect(edited.text).toContain('🌐 maschinell übersetzt aus dem Ukrainischen');
    expect(jonas.buttons(edited)).toContain('📄 Original anzeigen');
    expect(h.telegram.message(PEOPLE.irina.id, notification(irina, 'ru')!.messageId)!.text).toContain(NEED_RU);
    expect(jonas.messages.filter((m) => m.text.includes(HEADER.de))).toHaveLength(1);
  });

  it('edits at once when the translation arrives while the original is on its way', async () => {
    const jonas = h.user(PEOPLE.jonas);
    await onboard(jonas, 'helper', 'Hamborn');
    await subscribe(jonas, ['🏠 Wohnen'], ['🏙 Ganz Duisburg']);
    await verifyPeople(h, jonas);
    stand.failStatus = 503;
    await olenaPosts();
    await h.deliver();
    await h.translate();
    h.clock.advance(5_000);
    // The notification goes out with the original and hangs at Telegram for a moment …
    const sends = () => h.telegram.calls.filter((c) => c.method === 'sendMessage').length;
    const before = sends();
    h.telegram.delayNext('sendMessage', 800);
    const sending = h.deliver();
    await waitFor('the notification on its way', () => sends() > before, 5_000, undefined, 5);
    // … and meanwhile the engine is back and the job stores the translations and releases what waited.
    stand.failStatus = null;
    h.clock.advance(2_000);
    expect(await h.translate()).toBe(1);
    await sending;
    const sent = h.telegram.calls.filter((c) => c.method === 'sendMessage' && c.payload.chat_id === PEOPLE.jonas.id).at(-1)!;
    expect(sent.payload.text).toContain('Eine maschinelle Übersetzung folgt gleich.');
    // The edit queued after the job had ended is due now, not at its next recheck a minute later.
    await h.deliver();
    const de = notification(jonas, 'de')!;
    const edited = h.telegram.message(PEOPLE.jonas.id, de.messageId)!;
    expect(edited.editCount).toBe(1);
    expect(edited.text).toContain(NEED_DE);
  });

  it('delivers every notification when the engine fails mid-broadcast: translated where it worked, original elsewhere', async () => {
    const { jonas, irina, petro } = await helpers();
    const extra = [PEOPLE.maria, { id: 490_103, first_name: 'Lena', language_code: 'de' }, { id: 370_202, first_name: 'Олег', language_code: 'ru' }].map((p) => h.user(p));
    for (const u of extra) {
      await onboard(u, 'helper', u.persona.language_code === 'ru' ? 'Хамборн (Hamborn)' : 'Hamborn');
      await subscribe(u, [u.persona.language_code === 'ru' ? '🏠 Жильё' : '🏠 Wohnen'], [u.persona.language_code === 'ru' ? '🏙 Весь Дуйсбург' : '🏙 Ganz Duisburg']);
    }
    await verifyPeople(h, ...extra);
    // German works, the Russian model is broken, and then the engine goes away altogether.
    stand.failTargets.add('ru');
    await olenaPosts();
    await h.translate();
    await h.deliver();
    stand.dropConnections = true;
    h.clock.advance(5_000);
    await h.deliver();
    for (const u of [jonas, extra[0]!, extra[1]!]) expect(notification(u, 'de')!.text).toContain(NEED_DE);
    for (const u of [irina, extra[2]!]) {
      expect(notification(u, 'ru')!.text).toContain(NEED);
      expect(notification(u, 'ru')!.text).toContain('Машинный перевод скоро появится.');
    }
    expect(notification(petro, 'uk')!.text).toContain(NEED);
    const failed = await h.db.db.select().from(outbox).where(eq(outbox.status, 'failed'));
    expect(failed).toEqual([]);

    // A second post while the engine is down: nobody waits for it beyond TRANSLATE_WAIT, everyone is told.
    await olenaPosts('Потрібна допомога з переїздом у суботу.');
    await h.translate();
    h.clock.advance(5_000);
    await h.deliver();
    for (const u of [jonas, irina, petro, ...extra]) {
      expect(u.messages.filter((m) => m.text.includes('переїздом'))).toHaveLength(1);
    }
    const [job] = await h.db.db.select().from(translationJobs).where(eq(translationJobs.postId, 2));
    expect(job).toMatchObject({ status: 'pending' });
    expect(job!.error).toMatch(/network|no answer/);
    expect(job!.error).not.toContain('переїздом');
  });
});

describe('machine translation in conversations', () => {
  async function conversation() {
    const { jonas } = await helpers();
    const olena = await olenaPosts();
    await h.translate();
    await h.deliver();
    await jonas.click('🤝 Ich kann helfen', notification(jonas, 'de'));
    await h.deliver();
    await olena.click('✅ Прийняти', olena.find('Jonas хоче допомогти'));
    await h.deliver();
    // The accepted conversation shows the post's text in the helper's language.
    expect(jonas.last.text).toContain(NEED_DE);
    return { olena, jonas };
  }

  it('translates relayed messages both ways, and each side can switch it off and on', async () => {
    const { olena, jonas } = await conversation();
    await jonas.send(HELLO_DE);
    await h.translate();
    await h.deliver();
    const relayed = olena.find(HELLO_UK)!;
    expect(relayed.text).toContain('🌐 машинний переклад з німецької');
    expect(olena.buttons(relayed)).toEqual(['📄 Показати оригінал', '🔕 Не перекладати розмову', '⚠️ Поскаржитися']);
    await olena.click('📄 Показати оригінал', relayed);
    expect(h.telegram.message(PEOPLE.olena.id, relayed.messageId)!.text).toContain(HELLO_DE);

    await olena.reply(relayed, REPLY_UK);
    await h.translate();
    await h.deliver();
    expect(jonas.find(REPLY_DE)!.text).toContain('maschinell übersetzt aus dem Ukrainischen');

    // Olena switches translation of Jonas's messages off: his next message arrives as written, and is not sent to the engine.
    const off = await olena.click('🔕 Не перекладати розмову', relayed);
    expect(off.answer?.text).toContain('так, як їх написано');
    expect(olena.buttons(h.telegram.message(PEOPLE.olena.id, relayed.messageId))).toContain('🌐 Перекладати розмову');
    const requests = stand.requests.length;
    await jonas.send('Ich kann auch am Dienstag.');
    await h.translate();
    await h.deliver();
    const plain = olena.find('Ich kann auch am Dienstag.')!;
    expect(plain.text).not.toContain('🌐 машинний');
    expect(olena.buttons(plain)).toContain('🌐 Перекладати розмову');
    expect(stand.requests).toHaveLength(requests);
    // Jonas still gets Olena's messages translated (his own switch is on).
    expect(await h.db.db.select().from(translationOptOuts)).toHaveLength(1);

    // On again: the next message is translated.
    await olena.click('🌐 Перекладати розмову', plain);
    await jonas.send(HELLO_DE.replace('Montag', 'Mittwoch'));
    await h.translate();
    await h.deliver();
    expect(olena.last.text).toContain('🌐 машинний переклад з німецької');

    // Someone else cannot switch Olena's conversation.
    const irina = h.user(PEOPLE.irina);
    const contactId = (await h.db.db.select().from(relayMessages))[0]!.contactId;
    expect((await irina.press(`tc:off:${contactId}`)).answer?.showAlert).toBe(true);
  });

  it('erases stored translations with the originals: /deleteme and retention', async () => {
    const { olena, jonas } = await conversation();
    await jonas.send(HELLO_DE);
    await olena.send(REPLY_UK);
    await h.translate();
    await h.deliver();
    const stored = await h.db.db.select().from(translations);
    expect(stored.length).toBeGreaterThanOrEqual(4);

    await olena.send('/deleteme');
    await olena.click('🗑 Так, видалити все');
    const left = await h.db.db.select().from(translations);
    // Her post's and her message's translations are gone; Jonas's message (his text) stays until retention.
    expect(left.map((t) => t.text)).toEqual(expect.arrayContaining(['У мене є вільна кімната, з понеділка.']));
    expect(left.some((t) => t.postId !== null)).toBe(false);
    expect(left.some((t) => t.text === REPLY_DE)).toBe(false);
    expect(JSON.stringify(await h.db.db.select().from(translationJobs))).not.toContain(NEED);

    // Retention erases the rest with the original texts.
    h.clock.advanceDays(91);
    await eraseExpiredTexts(h.db.db, h.clock, 90);
    expect(await h.db.db.select().from(relayMessages).where(isNotNull(relayMessages.text))).toEqual([]);
    expect(await h.db.db.select().from(translations)).toEqual([]);
    expect(await h.db.db.select().from(posts).where(isNotNull(posts.text))).toEqual([]);
  });
});

describe('machine translation of notices', () => {
  it('fills the languages staff did not write, marked, editable before sending', async () => {
    const { jonas, irina, petro } = await helpers();
    const sabine = h.user(COORDINATOR);
    await sabine.send('/broadcast');
    await sabine.click('👥 Alle');
    await sabine.click('Weiter ›');
    await sabine.click('Weiter ›');
    await sabine.send(NOTICE_DE);
    await sabine.click('⏭ Diese Sprache überspringen');
    await sabine.click('⏭ Diese Sprache überspringen');
    await sabine.click('➡️ Ohne Anhang weiter');
    expect(sabine.buttons()).toContain('🌐 Fehlende Sprachen maschinell übersetzen');

    // The engine is away: a short answer, nothing changes.
    stand.failStatus = 503;
    const refused = await sabine.click('🌐 Fehlende Sprachen maschinell übersetzen');
    expect(refused.answer).toEqual({ text: expect.stringContaining('gerade nicht erreichbar') as string, showAlert: true });
    stand.failStatus = null;

    const { answer, edited } = await sabine.click('🌐 Fehlende Sprachen maschinell übersetzen');
    expect(answer?.text).toContain('Bitte prüfen');
    const preview = edited[0]!;
    expect(preview.text).toContain('Texte: Українська 🌐 · Deutsch ✅ · Русский 🌐');
    expect(preview.text).toContain('Maschinell übersetzt, bitte prüfen: Ukrainisch, Russisch');
    expect(sabine.buttons(preview)).not.toContain('🌐 Fehlende Sprachen maschinell übersetzen');

    // Staff corrects the Ukrainian text: it counts as written by them from then on.
    expect(sabine.buttons(preview)).toEqual(expect.arrayContaining(['✏️ Deutsch', '✏️ Українська', '✏️ Русский']));
    await sabine.click('✏️ Українська');
    expect(sabine.last.text).toContain(NOTICE_UK);
    const corrected = 'Соціальне відомство Гамборна в пʼятницю не працює. Ваші зустрічі перенесено.';
    await sabine.send(corrected);
    expect(sabine.last.text).toContain('Maschinell übersetzt, bitte prüfen: Russisch');
    await sabine.click(/^📣 An \d+ Personen senden/);
    await h.deliver();
    const got = (u: TestUser) => u.messages.filter((m) => m.text.includes('☑️')).at(-1)!;
    expect(got(petro).text).toContain(corrected);
    expect(got(petro).text).not.toContain('машинний переклад');
    expect(got(irina).text).toContain(NOTICE_RU);
    expect(got(irina).text).toContain('🌐 машинный перевод с немецкого');
    expect(got(jonas).text).toContain(NOTICE_DE);
    // Asked only for the missing languages, from the text staff wrote.
    expect(stand.requests.filter((r) => r.q === NOTICE_DE).map((r) => r.target).slice(-2)).toEqual(['uk', 'ru']);
    expect(stand.requests.every((r) => r.source === 'de' || r.q !== NOTICE_DE)).toBe(true);
  });
});
