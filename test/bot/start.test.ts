import { eq } from 'drizzle-orm';
import { posts, users } from '../../src/db/schema';
import { onboard, post } from '../helpers/flows';
import { createHarness, type Harness, PEOPLE, useHarness } from '../helpers/harness';
import { callbackUpdate, groupMessageUpdate } from '../helpers/updates';
import { verifyPeople } from '../helpers/verification';

const harness = useHarness({ env: { ADMIN_TELEGRAM_IDS: '999001' } });
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

async function stored(telegramId: number) {
  const [row] = await h.db.db.select().from(users).where(eq(users.telegramId, telegramId));
  return row;
}

describe('/start onboarding', () => {
  it('greets a Ukrainian seeker in Ukrainian and sets her up in one message, edited in place', async () => {
    const olena = h.user(PEOPLE.olena);
    const greeting = await olena.send('/start');
    expect(greeting.sent).toHaveLength(1);
    expect(olena.last.text).toContain('Вітаємо в Hilfenetz, Олена!');
    expect(olena.buttons()).toEqual(['🙋 Мені потрібна допомога', '🤝 Я хочу допомогти', '• Українська', 'Deutsch', 'Русский']);

    const district = await olena.click('🙋 Мені потрібна допомога');
    expect(district.sent).toHaveLength(0);
    expect(district.edited).toHaveLength(1);
    expect(olena.last.text).toContain('У якому районі міста ви живете?');
    expect(olena.buttons()).toContain('Гамборн (Hamborn)');
    expect(olena.buttons()).toContain('🏙 Увесь Дуйсбург');

    const done = await olena.click('Гамборн (Hamborn)');
    expect(done.sent).toHaveLength(0);
    expect(olena.messages).toHaveLength(1);
    expect(olena.last.text).toContain('Усе готово.');
    expect(olena.last.text).toContain('Ваш район: Гамборн (Hamborn)');
    expect(olena.last.text).toContain('/need');

    const row = await stored(PEOPLE.olena.id);
    expect(row).toMatchObject({ role: 'seeker', district: 'hamborn', locale: 'uk', firstName: 'Олена' });
    expect(row?.onboardedAt).toBeInstanceOf(Date);

    // Her command menu is set for her chat, in Ukrainian, with the seeker's commands.
    const menu = h.telegram.callsOf('setMyCommands').find((c) => (c.payload.scope as { chat_id?: number } | undefined)?.chat_id === PEOPLE.olena.id);
    const commands = (menu?.payload.commands as { command: string; description: string }[]).map((c) => c.command);
    expect(commands).toEqual(expect.arrayContaining(['need', 'browse', 'my', 'help']));
    expect(commands).not.toContain('broadcast');
    expect((menu?.payload.commands as { description: string }[])[0]?.description).toBe('Початок і огляд');
  });

  it('sets up a German helper for the whole city', async () => {
    const jonas = h.user(PEOPLE.jonas);
    await jonas.send('/start');
    expect(jonas.last.text).toContain('Willkommen bei Hilfenetz, Jonas!');
    await jonas.click('🤝 Ich möchte helfen');
    expect(jonas.last.text).toContain('Wo möchten Sie vor allem helfen?');
    await jonas.click('🏙 Ganz Duisburg');
    expect(jonas.last.text).toContain('Ihr Bezirk: Ganz Duisburg');
    expect(jonas.last.text).toContain('/subscribe');
    expect(await stored(PEOPLE.jonas.id)).toMatchObject({ role: 'helper', district: '*', locale: 'de', username: 'jonas_hilft' });
  });

  it('falls back to the default language for other Telegram languages and lets the user switch', async () => {
    const alex = h.user(PEOPLE.alex);
    await alex.send('/start');
    expect(alex.last.text).toContain('Willkommen bei Hilfenetz');
    await alex.click('Русский');
    expect(alex.last.text).toContain('Добро пожаловать в Hilfenetz');
    expect(alex.buttons()).toContain('🙋 Мне нужна помощь');
    expect((await stored(PEOPLE.alex.id))?.locale).toBe('ru');
    await alex.click('🙋 Мне нужна помощь');
    await alex.click('Українська');
    expect(alex.last.text).toContain('У якому районі міста ви живете?');
    expect(alex.messages).toHaveLength(1);
  });

  it('continues a half-filled dialog after a restart (session in the database)', async () => {
    const irina = h.user(PEOPLE.irina);
    await irina.send('/start');
    await irina.click('🤝 Я хочу помочь');
    const restarted = await h.restart();
    await restarted.user(PEOPLE.irina).click('Центр (Mitte)');
    expect(restarted.user(PEOPLE.irina).last.text).toContain('Всё готово.');
    expect(await stored(PEOPLE.irina.id)).toMatchObject({ role: 'helper', district: 'mitte' });
  });

  it('answers old and forged buttons with a hint and changes nothing', async () => {
    const olena = h.user(PEOPLE.olena);
    await olena.send('/start');
    const first = olena.last;
    await olena.send('/start');
    // The first greeting's buttons were removed; pressing its data anyway is stale.
    expect(first.replyMarkup).toBeUndefined();
    const stale = await olena.press('o:role:helper', first);
    expect(stale.answer).toEqual({ text: 'Ця кнопка вже неактуальна. Скористайтеся найновішим повідомленням або /start.', showAlert: true });

    await olena.click('🙋 Мені потрібна допомога');
    for (const forged of ['o:dist:atlantis', 'o:role:coordinator', 'o:lang:en', 'o:dist', 'zz:1', 'o:dist:hamborn:x']) {
      const r = await olena.press(forged, olena.last);
      expect(r.answer?.showAlert).toBe(true);
      expect(r.answer?.text).toContain('неактуальна');
    }
    expect(await stored(PEOPLE.olena.id)).toMatchObject({ role: null, district: null, onboardedAt: null });
  });

  it('repeats the current step when the user types instead of pressing a button', async () => {
    const jonas = h.user(PEOPLE.jonas);
    await jonas.send('/start');
    await jonas.click('🤝 Ich möchte helfen');
    const reaction = await jonas.send('Hamborn bitte');
    expect(reaction.sent.map((m) => m.text)).toEqual([
      expect.stringMatching(/^Bitte wählen Sie mit den Knöpfen unten\. Abbrechen: \/cancel\n\n[^]*Wo möchten Sie vor allem helfen\?/),
    ]);
    // The new copy works; the old one is stale.
    await jonas.click('Hamborn');
    expect(jonas.last.text).toContain('Ihr Bezirk: Hamborn');
  });

  it('lets a listed coordinator skip the role question', async () => {
    const coordinator = h.user({ id: 999001, first_name: 'Sabine', language_code: 'de' });
    await coordinator.send('/start');
    expect(coordinator.last.text).toContain('Für welchen Stadtbezirk sind Sie vor allem zuständig?');
    await coordinator.click('Mitte');
    expect(coordinator.last.text).toContain('Sie koordinieren Hilfenetz');
    expect(await stored(999001)).toMatchObject({ role: 'coordinator', district: 'mitte' });
  });

  it('welcomes back an onboarded user with the summary', async () => {
    const olena = h.user(PEOPLE.olena);
    await olena.send('/start');
    await olena.click('🙋 Мені потрібна допомога');
    await olena.click('Вальзум (Walsum)');
    const again = await olena.send('/start');
    expect(again.sent).toHaveLength(1);
    expect(olena.last.text).toContain('З поверненням, Олена!');
    expect(olena.last.text).toContain('Ваш район: Вальзум (Walsum)');
  });

  it('opens a post from a t.me link once the user is set up; a new user is simply onboarded', async () => {
    const olena = h.user(PEOPLE.olena);
    await olena.send('/start');
    await olena.click('🙋 Мені потрібна допомога');
    await olena.click('Гамборн (Hamborn)');
    await olena.send('/need');
    await olena.click('🏠 Житло');
    await olena.click('➡️ Гамборн (Hamborn) (ваш район)');
    await olena.send('Шукаю кімнату на два місяці, будь ласка.');
    await olena.click('➡️ Далі без фото');
    await olena.click('✅ Опублікувати');
    const jonas = h.user(PEOPLE.jonas);
    const first = await jonas.send('/start post_1');
    expect(first.sent.map((m) => m.text)).toEqual([expect.stringContaining('Willkommen bei Hilfenetz, Jonas!')]);
    await jonas.click('🤝 Ich möchte helfen');
    await jonas.click('Hamborn');
    // Housing is protected: a verified helper gets "I can help" (test/bot/verification.test.ts: anyone else).
    await verifyPeople(h, jonas);
    const opened = await jonas.send('/start post_1');
    expect(opened.sent[0]?.text).toContain('Шукаю кімнату на два місяці');
    expect(jonas.buttons(opened.sent[0])).toEqual(['🤝 Ich kann helfen', '📤 Teilen', '⚠️ Melden']);
    expect((await jonas.send('/start post_99')).sent[0]?.text).toBe('Dieser Beitrag ist nicht mehr offen.');
  });

  it('refuses an invalid deep link with a hint and still starts', async () => {
    const irina = h.user(PEOPLE.irina);
    const r = await irina.send('/start staff_<script>alert(1)</script>');
    expect(r.sent.map((m) => m.text)).toEqual([
      'Эта ссылка недействительна или устарела. Вы всё равно можете начать:',
      expect.stringContaining('Добро пожаловать в Hilfenetz, Ирина!'),
    ]);
  });
});

describe('/settings, /language, /help, /cancel', () => {
  async function onboard(user: ReturnType<Harness['user']>, role: RegExp, district: string) {
    await user.send('/start');
    await user.click(role);
    await user.click(district);
  }

  it('changes district, role and language in place', async () => {
    const jonas = h.user(PEOPLE.jonas);
    await onboard(jonas, /helfen/, 'Hamborn');
    await jonas.send('/settings');
    const settings = jonas.last;
    expect(settings.text).toContain('Rolle: Ich helfe');
    expect(settings.text).toContain('Bezirk: Hamborn');
    expect(settings.text).toContain('Sprache: Deutsch');

    await jonas.click('📍 Bezirk ändern');
    expect(jonas.last.messageId).toBe(settings.messageId);
    await jonas.click('Rheinhausen');
    expect(jonas.last.text).toContain('✅ Gespeichert.');
    expect(jonas.last.text).toContain('Bezirk: Rheinhausen');

    await jonas.click('👤 Rolle ändern');
    await jonas.click('🙋 Ich brauche Hilfe');
    expect(jonas.last.text).toContain('Rolle: Ich suche Hilfe');

    await jonas.click('🌐 Sprache ändern');
    await jonas.click('Українська');
    expect(jonas.last.text).toContain('Збережено.');
    expect(jonas.last.text).toContain('Мова: Українська');
    expect(jonas.messages.filter((m) => m.text.includes('Einstellungen') || m.text.includes('налаштування'))).toHaveLength(1);
    expect(await stored(PEOPLE.jonas.id)).toMatchObject({ role: 'seeker', district: 'rheinhausen', locale: 'uk' });
  });

  it('does not let staff or coordinators choose another role', async () => {
    const coordinator = h.user({ id: 999001, first_name: 'Sabine', language_code: 'de' });
    await coordinator.send('/settings');
    expect(coordinator.buttons()).not.toContain('👤 Rolle ändern');
    const forged = await coordinator.press('s:setrole:seeker', coordinator.last);
    expect(forged.answer).toEqual({ text: expect.stringContaining('Koordination vergeben'), showAlert: true });
    expect((await stored(999001))?.role).toBe('coordinator');
  });

  it('/language switches the language and the command menu', async () => {
    const irina = h.user(PEOPLE.irina);
    await irina.send('/language');
    expect(irina.buttons()).toEqual(['Українська', 'Deutsch', '• Русский']);
    const r = await irina.click('Deutsch');
    expect(r.edited[0]?.text).toBe('✅ Die Sprache ist jetzt Deutsch. Weiter mit /help.');
    const menu = h.telegram.callsOf('setMyCommands').at(-1)!;
    expect(menu.payload.scope).toEqual({ type: 'chat', chat_id: PEOPLE.irina.id });
    expect((menu.payload.commands as { description: string }[])[0]?.description).toBe('Start und Übersicht');
    await irina.send('/help');
    expect(irina.last.text).toContain('Hilfenetz – so funktioniert es');
  });

  it('/help explains the commands of the user’s role', async () => {
    const olena = h.user(PEOPLE.olena);
    await onboard(olena, /потрібна/, 'Центр (Mitte)');
    await olena.send('/help');
    expect(olena.last.text).toContain('Знайти допомогу');
    expect(olena.last.text).not.toContain('Допомагати');
    expect(olena.last.text).toContain('112');
    const jonas = h.user(PEOPLE.jonas);
    await onboard(jonas, /helfen/, 'Mitte');
    await jonas.send('/help');
    expect(jonas.last.text).toContain('Helfen');
    expect(jonas.last.text).not.toContain('Hilfe finden');
  });

  it('/cancel leaves the dialog from anywhere and removes its buttons', async () => {
    const olena = h.user(PEOPLE.olena);
    await olena.send('/start');
    await olena.click('🙋 Мені потрібна допомога');
    const dialogMessage = olena.last;
    const r = await olena.send('/cancel');
    expect(r.sent[0]?.text).toBe('✖️ Скасовано. Нічого не збережено. Що бажаєте зробити? /help');
    expect(h.telegram.message(PEOPLE.olena.id, dialogMessage.messageId)?.replyMarkup).toBeUndefined();
    const again = await olena.send('/cancel');
    expect(again.sent[0]?.text).toContain('немає чого скасовувати');
    expect((await stored(PEOPLE.olena.id))?.role).toBeNull();
  });
});

describe('unexpected input', () => {
  it('answers unknown commands, stickers, voice, stray text and edits in the user’s language', async () => {
    const irina = h.user(PEOPLE.irina);
    const olena = h.user(PEOPLE.olena);
    const jonas = h.user(PEOPLE.jonas);
    expect((await irina.send('/foo')).sent[0]?.text).toBe('Я не знаю команды /foo. Все команды: /help');
    expect((await jonas.send('/Foo@hilfenetz_test_bot extra')).sent[0]?.text).toBe('Den Befehl /foo kenne ich nicht. Alle Befehle: /help');
    expect((await olena.sendSticker()).sent[0]?.text).toContain('стікери');
    expect((await jonas.sendVoice()).sent[0]?.text).toContain('Sprachnachrichten');
    expect((await jonas.send('Hallo?')).sent[0]?.text).toContain('Damit kann ich gerade nichts anfangen');
    const own = h.telegram.messages(PEOPLE.jonas.id, { includeUser: true }).find((m) => !m.fromBot)!;
    expect((await jonas.edit(own.messageId, '/start')).sent[0]?.text).toContain('Bearbeitete Nachrichten');
    const long = 'Я'.repeat(4096);
    expect((await irina.send(long)).sent[0]?.text).toContain('Не знаю, что с этим делать');
  });

  it('answers a command in a group with a hint to write privately and ignores the rest', async () => {
    await h.handle(groupMessageUpdate(PEOPLE.jonas, -100_123, '/start@hilfenetz_test_bot'));
    await h.handle(groupMessageUpdate(PEOPLE.jonas, -100_123, 'Hallo zusammen'));
    const sent = h.telegram.messages(-100_123);
    expect(sent.map((m) => m.text)).toEqual(['Ich arbeite nur im privaten Chat. Bitte schreiben Sie mir direkt: @hilfenetz_test_bot']);
    expect(await stored(PEOPLE.jonas.id)).toBeUndefined();
  });

  it('answers a button pressed outside a private chat (a group, an inline message) with the same hint', async () => {
    // Both crashed or went unanswered before (found by test/fuzz.test.ts).
    const inGroup = callbackUpdate(PEOPLE.jonas, { message_id: 5, date: 1, chat: { id: -100_123, type: 'group', title: 'Helfer' } }, 'm:need');
    const inline = callbackUpdate(PEOPLE.irina, undefined, 'o:dist:hamborn');
    await h.handle(inGroup.update);
    await h.handle(inline.update);
    expect(h.telegram.answers).toEqual([
      { callbackQueryId: inGroup.id, text: expect.stringMatching(/privaten Chat.*@hilfenetz_test_bot/), showAlert: true },
      { callbackQueryId: inline.id, text: expect.stringMatching(/личном чате.*@hilfenetz_test_bot/), showAlert: true },
    ]);
    expect(h.telegram.callsOf('sendMessage')).toHaveLength(0);
  });

  it('keeps names and texts with NUL characters, which PostgreSQL cannot store, by replacing them', async () => {
    // Before (found by test/fuzz.test.ts): every write carrying U+0000 failed, so the user only got apologies.
    const max = h.user({ id: 600_001, first_name: 'Ma\u0000x', language_code: 'de' });
    await onboard(max, 'seeker', 'Hamborn');
    expect(await stored(600_001)).toMatchObject({ firstName: 'Ma\uFFFDx', role: 'seeker' });
    await post(max, 'need', '🏠 Wohnen', 'Hamborn', 'Suche\u0000 eine Wohnung in Hamborn.');
    const [row] = await h.db.db.select().from(posts);
    expect(row).toMatchObject({ text: 'Suche\uFFFD eine Wohnung in Hamborn.', status: 'open' });
  });

  it('marks a user who blocked the bot and clears it when they return', async () => {
    const olena = h.user(PEOPLE.olena);
    await olena.send('/start');
    await olena.setBlocked(true);
    expect((await stored(PEOPLE.olena.id))?.blockedAt).toBeInstanceOf(Date);
    await olena.setBlocked(false);
    await olena.send('/help');
    expect((await stored(PEOPLE.olena.id))?.blockedAt).toBeNull();
  });

  it('turns a failing handler into a localized apology, not silence', async () => {
    const olena = h.user(PEOPLE.olena);
    await olena.send('/start');
    // A button: its empty answer waits for the end of the update, so the apology is its alert, once.
    h.telegram.failNext('editMessageText', 403, 'Forbidden: unexpected');
    const first = await olena.click('🙋 Мені потрібна допомога');
    expect(first.answer).toEqual({ text: expect.stringContaining('Щось пішло не так'), showAlert: true });
    expect(first.sent).toEqual([]);
    // When the alert cannot be shown either, the apology comes as a message.
    h.telegram.failNext('editMessageText', 403, 'Forbidden: unexpected');
    h.telegram.failNext('answerCallbackQuery', 400, 'Bad Request: query is too old and response timeout expired or query ID is invalid');
    const second = await olena.click('🙋 Мені потрібна допомога');
    expect(second.sent.map((m) => m.text)).toEqual([expect.stringContaining('Щось пішло не так')]);
    // Messages: the apology goes out as a reply.
    h.telegram.failNext('sendMessage', 403, 'Forbidden: unexpected');
    const third = await olena.send('/help');
    expect(third.sent.map((m) => m.text)).toEqual([expect.stringContaining('Щось пішло не так')]);
  });

  it('apologises in the sender’s Telegram language when the database is gone', async () => {
    const other = await createHarness();
    await other.db.close();
    const irina = other.user(PEOPLE.irina);
    const r = await irina.send('/start');
    // One apology, in Russian (her Telegram language; there is no profile to read it from). A pool that was
    // ended (PostgreSQL) is an unreachable database: "try again in a minute". PGlite's "PGlite is closed" is
    // not classified as transient (src/db/errors.ts), so it gets the generic apology.
    const apology = other.db.driver === 'postgres' ? 'Сервис на минуту недоступен' : 'Что-то пошло не так';
    expect(r.sent.map((m) => m.text)).toEqual([expect.stringContaining(apology)]);
  });
});
