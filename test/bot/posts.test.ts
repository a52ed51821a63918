import { eq } from 'drizzle-orm';
import { notifications, outbox, posts, sessions } from '../../src/db/schema';
import { runSweep } from '../../src/domain/sweeps';
import { remindExpiringPosts } from '../../src/domain/sweeps';
import { onboard, post, subscribe } from '../helpers/flows';
import { type Harness, PEOPLE, useHarness } from '../helpers/harness';
import { verifyPeople } from '../helpers/verification';

const harness = useHarness({ env: { MAX_OPEN_POSTS: '3', MAX_POSTS_PER_DAY: '4' } });
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

const MITTE_DE = 'Mitte';

describe('writing a post', () => {
  it('keeps the dialog where it is on bad input, with a localized hint', async () => {
    const jonas = h.user(PEOPLE.jonas);
    await onboard(jonas, 'helper', MITTE_DE);
    await jonas.send('/offer');
    // Typing instead of choosing: the step comes again, in one message under the hint, with its buttons.
    const typed = await jonas.send('Möbel');
    expect(typed.sent.map((m) => m.text)).toEqual([expect.stringMatching(/^Bitte wählen Sie mit den Knöpfen unten\. Abbrechen: \/cancel\n\n[^]*Was bieten Sie an\?/)]);
    expect(typed.sent[0]?.replyMarkup?.inline_keyboard.flat().map((b) => b.text)).toContain('🚚 Transport & Umzug');
    await jonas.click('🚚 Transport & Umzug');
    await jonas.click('➡️ Mitte (Ihr Bezirk)');
    const stepMessage = jonas.last;
    expect(stepMessage.text).toContain('(3/4)');

    expect((await jonas.send('zu kurz')).sent[0]?.text).toBe(
      'Das ist etwas kurz (7 Zeichen). Bitte beschreiben Sie es mit mindestens 10 Zeichen, damit andere verstehen, worum es geht.',
    );
    expect((await jonas.send('x'.repeat(1001))).sent[0]?.text).toBe(
      'Der Text ist zu lang (1001 Zeichen, höchstens 1000). Bitte kürzen Sie ihn und senden Sie ihn noch einmal.',
    );
    expect((await jonas.sendSticker()).sent[0]?.text).toContain('Bitte senden Sie hier Text');
    expect((await jonas.sendVoice()).sent[0]?.text).toContain('Bitte senden Sie hier Text');
    expect((await jonas.sendPhoto()).sent[0]?.text).toContain('Bitte schreiben Sie zuerst den Text');
    // An old button from a previous step is stale and changes nothing.
    const stale = await jonas.press('d:cat:housing', stepMessage.messageId - 1);
    expect(stale.answer?.showAlert).toBe(true);

    // Exactly 1000 characters (counted as characters, not bytes) is fine, with emoji and Cyrillic.
    const prefix = 'Umzugshilfe 🚚 з переїздом ';
    const text = `${prefix}${'ä'.repeat(1000 - [...prefix].length)}`;
    expect([...text]).toHaveLength(1000);
    await jonas.send(text);
    expect(jonas.last.text).toContain('Möchten Sie ein Foto hinzufügen?');
    expect((await jonas.sendDocument('sofa.jpg')).sent[0]?.text).toContain('als Foto, nicht als Datei');
    expect((await jonas.send('kein Foto')).sent[0]?.text).toContain('Bitte senden Sie ein Foto');
    await jonas.sendPhoto();
    expect(jonas.last.text).toContain('So sehen andere Ihr Angebot');
    expect(jonas.last.text).toContain('📷 mit Foto');
    await jonas.click('✅ Veröffentlichen');
    const [stored] = await h.db.db.select().from(posts);
    expect(stored?.text).toBe(text);
    expect(stored?.photoFileId).toMatch(/^photo_/);
  });

  it('warns about a phone number in the text, and takes text and photo in one message', async () => {
    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Центр (Mitte)');
    await olena.send('/need');
    await olena.click('🩺 Здоров\'я');
    await olena.click('🏙 Увесь Дуйсбург');
    await olena.sendPhoto('Потрібен педіатр, який говорить українською. Мій номер +49 170 1234567');
    expect(olena.last.text).toContain('містить номер телефону');
    await olena.click('✏️ Змінити текст');
    await olena.send('Потрібен педіатр, який говорить українською, для доньки 4 роки.');
    expect(olena.last.text).not.toContain('містить номер телефону');
    expect(olena.last.text).toContain('📷 з фото');
    await olena.click('📍 Район');
    // The home district is offered once, at the top, not again in the list.
    expect(olena.buttons().filter((b) => b.includes('Центр (Mitte)'))).toEqual(['➡️ Центр (Mitte) (ваш район)']);
    await olena.click('➡️ Центр (Mitte) (ваш район)');
    expect(olena.last.text).toContain('📍 Центр (Mitte)');
    await olena.click('✅ Опублікувати');
    expect((await h.db.db.select().from(posts))[0]).toMatchObject({ category: 'health', district: 'mitte' });
  });

  it('survives a restart in the middle of the dialog', async () => {
    const irina = h.user(PEOPLE.irina);
    await onboard(irina, 'seeker', 'Юг (Süd)');
    await irina.send('/need');
    await irina.click('🗣 Устный перевод');
    await irina.click('➡️ Юг (Süd) (ваш район)');
    const restarted = await h.restart();
    const again = restarted.user(PEOPLE.irina);
    await again.send('Нужен переводчик в Ausländerbehörde 14 марта в 9:00.');
    await again.click('➡️ Дальше без фото');
    await again.click('✅ Опубликовать');
    expect(again.last.text).toContain('Опубликовано!');
  });

  it('treats a saved dialog it cannot read (unknown step, bad draft) as none, without an error', async () => {
    const jonas = h.user(PEOPLE.jonas);
    await onboard(jonas, 'helper', MITTE_DE);
    const stale = 'Dieser Knopf ist nicht mehr aktuell. Bitte nutzen Sie die neueste Nachricht oder /start.';
    for (const broken of [{ step: 'gone' }, { data: { kind: 'gift' } }]) {
      await jonas.send('/offer');
      const dialogMessage = jonas.last;
      const [row] = await h.db.db.select().from(sessions).where(eq(sessions.key, String(PEOPLE.jonas.id)));
      const dialog = (row!.value as { dialog: Record<string, unknown> }).dialog;
      await h.db.db.update(sessions).set({ value: { dialog: { ...dialog, ...broken } } }).where(eq(sessions.key, String(PEOPLE.jonas.id)));

      expect((await jonas.click('🚚 Transport & Umzug', dialogMessage)).answer).toEqual({ text: stale, showAlert: true });
      expect((await jonas.send('Ich kann am Samstag beim Umzug helfen.')).sent.map((m) => m.text)).toEqual([
        'Damit kann ich gerade nichts anfangen. Bitte nutzen Sie die Knöpfe oder das Menü. Alle Befehle: /help',
      ]);
      expect((await jonas.send('/cancel')).sent[0]?.text).toBe('Es läuft gerade nichts, das ich abbrechen könnte. Alle Befehle: /help');
    }
  });

  it('refuses more open posts than allowed, more per day, and the same text twice', async () => {
    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Центр (Mitte)');
    await post(olena, 'need', '🏠 Житло', 'Центр (Mitte)', 'Шукаю кімнату на два місяці, будь ласка.');
    // Same text again (punctuation and case do not matter): refused with a hint to edit.
    await olena.send('/need');
    await olena.click('🏠 Житло');
    await olena.click('➡️ Центр (Mitte) (ваш район)');
    await olena.send('шукаю кімнату на два місяці будь ласка');
    await olena.click('➡️ Далі без фото');
    const duplicate = await olena.click('✅ Опублікувати');
    expect(duplicate.sent[0]?.text).toBe('Цей текст ви сьогодні вже публікували (#1). Краще відредагуйте або подовжте наявний допис у /my.');
    // The draft is kept: she can change the text and publish.
    await olena.click('✏️ Змінити текст');
    await olena.send('Шукаю кімнату на три місяці для себе й сина.');
    await olena.click('✅ Опублікувати');
    await post(olena, 'need', '🩺 Здоров\'я', 'Центр (Mitte)', 'Потрібен стоматолог, терміново, болить зуб.');
    expect(await h.db.db.select().from(posts)).toHaveLength(3);

    // The fourth open post is refused before any typing.
    const refused = await olena.send('/need');
    expect(refused.sent.map((m) => m.text)).toEqual(['У вас уже максимальна кількість відкритих дописів (3). Закрийте один у /my, щоб створити новий.']);

    // Closing one frees a place, but the daily limit (4) still applies after one more.
    await olena.send('/my');
    await olena.click('🗑 Більше не потрібно');
    await post(olena, 'need', '📚 Освіта та мова', 'Центр (Mitte)', 'Шукаю курс німецької мови A2 ввечері.');
    await olena.send('/my');
    await olena.click('🗑 Більше не потрібно');
    const daily = await olena.send('/need');
    expect(daily.sent[0]?.text).toContain('Сьогодні ви вже створили максимальну кількість нових дописів (4)');
    // A day later she may post again.
    h.clock.advanceHours(25);
    expect((await olena.send('/need')).sent[0]?.text).toContain('Новий запит');
  });

  it('edits a post in place and notifies only people it newly matches', async () => {
    const olena = h.user(PEOPLE.olena);
    const jonas = h.user(PEOPLE.jonas);
    const maria = h.user(PEOPLE.maria);
    await onboard(jonas, 'helper', 'Hamborn');
    await subscribe(jonas, ['🏠 Wohnen', '👨‍👩‍👧 Familie & Kinderbetreuung'], ['🏙 Ganz Duisburg']);
    await onboard(maria, 'helper', 'Hamborn');
    await subscribe(maria, ['👨‍👩‍👧 Familie & Kinderbetreuung'], ['Hamborn']);
    // Housing and family are protected categories: only verified helpers are told of their needs.
    await verifyPeople(h, jonas, maria);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', 'Шукаю житло для сім\'ї з трьох осіб.');
    await h.deliver();
    expect(jonas.find('Neue Anfrage')).toBeDefined();
    expect(maria.find('Neue Anfrage')).toBeUndefined();

    await olena.send('/my');
    await olena.click('✏️ Редагувати');
    await olena.click('🏷 Тема');
    await olena.click('👨‍👩‍👧 Сім\'я та догляд за дітьми');
    const saved = await olena.click('💾 Зберегти');
    expect(saved.edited[0]?.text).toContain('Сповіщено ще 1 людину');
    await h.deliver();
    expect(jonas.messages.filter((m) => m.text.includes('Neue Anfrage'))).toHaveLength(1);
    expect(maria.messages.filter((m) => m.text.includes('Neue Anfrage'))).toHaveLength(1);
    expect(await h.db.db.select().from(notifications)).toHaveLength(2);
  });

  it('does not let anyone act on someone else’s post', async () => {
    const olena = h.user(PEOPLE.olena);
    const jonas = h.user(PEOPLE.jonas);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', 'Шукаю житло для сім\'ї з трьох осіб.');
    await onboard(jonas, 'helper', 'Hamborn');
    for (const action of ['close', 'done', 'renew', 'edit']) {
      const r = await jonas.press(`p:${action}:1`, jonas.last);
      expect(r.answer).toEqual({ text: 'Das ist nicht Ihr Beitrag.', showAlert: true });
    }
    const missing = await jonas.press('p:close:999', jonas.last);
    expect(missing.answer?.text).toBe('Diesen Beitrag gibt es nicht mehr.');
    expect((await h.db.db.select().from(posts))[0]?.status).toBe('open');
  });
});

describe('expiry and renewal', () => {
  it('asks two days before, renews on request, expires when left alone', async () => {
    const olena = h.user(PEOPLE.olena);
    const jonas = h.user(PEOPLE.jonas);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', 'Шукаю житло для сім\'ї з трьох осіб.');
    await h.sweep();
    await h.deliver();
    expect(olena.find('⏳')).toBeUndefined();

    h.clock.advanceDays(12);
    h.clock.advance(60_000);
    await h.sweep();
    await h.sweep(); // idempotent: one reminder only
    await h.deliver();
    const reminders = olena.messages.filter((m) => m.text.startsWith('⏳'));
    expect(reminders).toHaveLength(1);
    expect(reminders[0]!.text).toContain('Вам ще потрібна допомога?');
    expect(olena.buttons(reminders[0])).toEqual(['🔄 Подовжити', '✅ Допомогу знайдено', '🗑 Більше не потрібно']);

    await olena.click('🔄 Подовжити', reminders[0]);
    expect(olena.last.text).toContain('Подовжено');
    const [renewed] = await h.db.db.select().from(posts);
    expect(renewed!.expiresAt.getTime()).toBe(h.clock.now().getTime() + 14 * 86_400_000);

    // After the original expiry it is still open; a new subscriber hears about it on renewal only.
    h.clock.advanceDays(3);
    await h.sweep();
    expect((await h.db.db.select().from(posts))[0]?.status).toBe('open');

    // Left alone past the new date, it expires, leaves browsing and stops matching.
    h.clock.advanceDays(12);
    await h.sweep();
    await h.deliver();
    expect((await h.db.db.select().from(posts))[0]?.status).toBe('expired');
    expect(olena.last.text).toContain('Термін вашого запиту');
    await onboard(jonas, 'helper', 'Hamborn');
    await jonas.send('/browse');
    expect(jonas.last.text).toContain('Hier gibt es gerade keine offenen Anfragen');
    await subscribe(jonas, ['🏠 Wohnen'], ['Hamborn']);
    await verifyPeople(h, jonas);
    await h.deliver();
    expect(jonas.find('Neue Anfrage')).toBeUndefined();

    // Republishing brings it back and routes it to the new subscriber.
    await olena.click('🔄 Опублікувати знову');
    await h.deliver();
    expect((await h.db.db.select().from(posts))[0]?.status).toBe('open');
    expect(jonas.find('Neue Anfrage')).toBeDefined();
  });

  it('refuses to republish an expired post over the open-post limit, saying what the limit is', async () => {
    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', 'Шукаю житло для сім\'ї з трьох осіб.');
    h.clock.advanceDays(15);
    await h.sweep();
    await h.deliver();
    const expired = olena.find('Термін вашого запиту')!;
    await post(olena, 'need', '🩺 Здоров\'я', 'Гамборн (Hamborn)', 'Потрібен лікар-терапевт для мами.');
    await post(olena, 'need', '📚 Освіта та мова', 'Гамборн (Hamborn)', 'Шукаю курс німецької мови A2 ввечері.');
    await post(olena, 'need', '🏛 Установи та документи', 'Гамборн (Hamborn)', 'Потрібна допомога із заявою на Kindergeld.');

    // The refusal comes through the error boundary, with the number filled in.
    const refused = await olena.click('🔄 Опублікувати знову', expired);
    expect(refused.answer).toEqual({ text: 'У вас уже максимальна кількість відкритих дописів (3). Закрийте один у /my, щоб створити новий.', showAlert: true });
    expect((await h.db.db.select().from(posts).where(eq(posts.id, 1)))[0]?.status).toBe('expired');

    // Closing one frees a place. Publishing one more reaches the daily limit (4); reopening an expired post
    // is not a new post, so the daily limit does not stop it.
    await olena.send('/my');
    await olena.click('🗑 Більше не потрібно');
    await post(olena, 'need', '👨‍👩‍👧 Сім\'я та догляд за дітьми', 'Гамборн (Hamborn)', 'Шукаю няню на два вечори на тиждень.');
    await olena.send('/my');
    await olena.click('🗑 Більше не потрібно');
    expect((await olena.send('/need')).sent[0]?.text).toContain('(4)');
    await olena.click('🔄 Опублікувати знову', expired);
    expect((await h.db.db.select().from(posts).where(eq(posts.id, 1)))[0]?.status).toBe('open');
  });

  it('does not fire twice when two processes sweep at the same moment', async () => {
    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', 'Шукаю житло для сім\'ї з трьох осіб.');
    await post(olena, 'need', '🩺 Здоров\'я', 'Гамборн (Hamborn)', 'Потрібен лікар-терапевт для мами.');
    h.clock.advanceDays(13);
    const results = await Promise.all([
      runSweep(h.db.db, h.clock, 'remind-expiring-posts', remindExpiringPosts),
      runSweep(h.db.db, h.clock, 'remind-expiring-posts', remindExpiringPosts),
      runSweep(h.db.db, h.clock, 'remind-expiring-posts', remindExpiringPosts),
    ]);
    const total = results.reduce<number>((sum, n) => sum + (n ?? 0), 0);
    expect(total).toBe(2);
    expect(await h.db.db.select().from(outbox).where(eq(outbox.kind, 'post.expiring'))).toHaveLength(2);
  });
});
