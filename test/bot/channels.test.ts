import { eq } from 'drizzle-orm';
import { auditLog, channelPosts, channels, outbox, posts } from '../../src/db/schema';
import { onboard, post, subscribe } from '../helpers/flows';
import { type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';
import type { FakeGroupChat, ShownMessage } from '../helpers/fake-telegram';
import { groupMemberUpdate } from '../helpers/updates';

const KERSTIN = { id: 999_201, first_name: 'Kerstin', language_code: 'de' }; // coordinator
const harness = useHarness({ env: { ADMIN_TELEGRAM_IDS: String(KERSTIN.id), CHANNEL_INTERVAL: '3s' } });
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

const HAMBORN: FakeGroupChat['chat'] = { id: -1_001_000_000_101, type: 'channel', title: 'Hilfe Hamborn', username: 'hilfe_hamborn' };
const CITY_GROUP: FakeGroupChat['chat'] = { id: -1_001_000_000_202, type: 'supergroup', title: 'Helfer Duisburg' };
const ALL_RIGHTS = { status: 'administrator', can_post_messages: true, can_edit_messages: true, can_delete_messages: true } as const;
const LINK = 'https://t.me/hilfenetz_test_bot?start=post_';

/** What a channel shows now (cards not deleted), oldest first. */
const shown = (chat: FakeGroupChat['chat']): ShownMessage[] => h.telegram.messages(chat.id);
const urlOf = (m: ShownMessage) => (m.replyMarkup?.inline_keyboard.flat()[0] as { url?: string } | undefined)?.url;

/** /channels → connect → the forwarded post or @name; returns the bot's answers to the last message. */
async function connect(kerstin: TestUser, what: string | FakeGroupChat['chat']): Promise<ShownMessage[]> {
  await kerstin.send('/channels');
  await kerstin.click('➕ Kanal oder Gruppe verbinden');
  if (typeof what === 'string') return (await kerstin.send(what)).sent;
  const origin = { type: 'channel', chat: what, message_id: 7, date: 1 };
  return (await kerstin.send('Ein Beitrag aus dem Kanal', { forward_origin: origin } as never)).sent;
}

/** The sweep queues what changed; the worker sends one message per channel per CHANNEL_INTERVAL. */
async function mirror(): Promise<void> {
  await h.sweep();
  await h.deliver();
}

describe('/channels', () => {
  it('connects a channel only when the bot has the rights it needs, and says what is missing', async () => {
    const kerstin = h.user(KERSTIN);
    h.telegram.addGroupChat(HAMBORN, { status: 'administrator', can_post_messages: true, can_edit_messages: false, can_delete_messages: false });
    const opened = await kerstin.send('/channels');
    expect(opened.sent[0]!.text).toContain('Noch ist kein Kanal verbunden.');

    const missing = await connect(kerstin, '@hilfe_hamborn');
    expect(missing).toHaveLength(1);
    expect(missing[0]!.text).toContain('In „Hilfe Hamborn“ fehlt @hilfenetz_test_bot noch:');
    expect(missing[0]!.text).toContain('„Nachrichten anderer bearbeiten“');
    expect(missing[0]!.text).toContain('„Nachrichten anderer löschen“');
    expect(missing[0]!.text).not.toContain('„Nachrichten senden“');
    expect(await h.db.db.select().from(channels)).toHaveLength(0);

    // Not a channel at all, an unknown name, a sticker: short answers, the dialog waits on.
    expect((await kerstin.send('@kein_solcher_kanal')).sent[0]!.text).toContain('finde ich nicht');
    expect((await kerstin.send('hallo')).sent[0]!.text).toContain('leiten Sie eine Nachricht aus dem Kanal weiter');
    expect((await kerstin.sendSticker()).sent[0]!.text).toContain('leiten Sie eine Nachricht aus dem Kanal weiter');

    // With every right, a forwarded post connects it; defaults: the whole city, the coordinator's language.
    h.telegram.setBotMember(HAMBORN.id, ALL_RIGHTS);
    const done = await connect(kerstin, HAMBORN);
    expect(done[0]!.text).toContain('„Hilfe Hamborn“ ist verbunden');
    expect(done[1]!.text).toContain('Hilfe Hamborn (@hilfe_hamborn)');
    expect(done[1]!.text).toContain('Für: Ganz Duisburg');
    await kerstin.click('📍 Bezirk ändern');
    await kerstin.click('Hamborn');
    await kerstin.click('Українська');
    expect(kerstin.last.text).toContain('Für: Hamborn');
    expect(kerstin.last.text).toContain('Sprache der Karten: Українська');
    const [row] = await h.db.db.select().from(channels);
    expect(row).toMatchObject({ chatId: HAMBORN.id, district: 'hamborn', locale: 'uk', status: 'active' });
    const audit = await h.db.db.select().from(auditLog).where(eq(auditLog.action, 'channel.connected'));
    expect(audit).toHaveLength(1);

    // Someone else's try, forged buttons.
    const jonas = h.user(PEOPLE.jonas);
    await onboard(jonas, 'helper', 'Hamborn');
    expect((await jonas.send('/channels')).sent[0]!.text).toContain('keine Berechtigung');
    expect((await jonas.press('chn:view:1:-')).answer?.showAlert).toBe(true);
    expect((await kerstin.press('chn:view:99999:-', kerstin.last)).answer?.text).toContain('nicht mehr verbunden');
    expect((await kerstin.press('chn:lang:1:xx', kerstin.last)).answer?.text).toContain('nicht mehr aktuell');

    // Disconnecting asks once, and is in the audit log.
    await kerstin.send('/channels');
    await kerstin.click(/Hilfe Hamborn/);
    await kerstin.click('✖️ Trennen');
    await kerstin.click('✖️ Ja, trennen');
    expect(kerstin.last.text).toContain('Noch ist kein Kanal verbunden.');
    expect(await h.db.db.select().from(auditLog).where(eq(auditLog.action, 'channel.disconnected'))).toHaveLength(1);
  });

  it('mirrors new posts as anonymous cards in each channel\'s language, edits them on fulfilment and deletes removed ones', async () => {
    const kerstin = h.user(KERSTIN);
    h.telegram.addGroupChat(HAMBORN);
    h.telegram.addGroupChat(CITY_GROUP, { status: 'administrator' });
    await connect(kerstin, HAMBORN);
    await kerstin.click('📍 Bezirk ändern');
    await kerstin.click('Hamborn');
    await kerstin.click('Українська');
    await connect(kerstin, String(CITY_GROUP.id));
    await kerstin.click('Русский');

    const olena = h.user(PEOPLE.olena);
    const irina = h.user(PEOPLE.irina);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await onboard(irina, 'seeker', 'Центр (Mitte)');
    await post(olena, 'need', '🏛 Установи та документи', 'Гамборн (Hamborn)', 'Потрібна допомога з листом від Jobcenter.');
    await post(irina, 'need', '🩺 Здоровье', 'Центр (Mitte)', 'Нужен переводчик к врачу в четверг.');
    await mirror();
    h.clock.advance(3_000);
    await h.deliver();

    // Hamborn's channel: Olena's need only, in Ukrainian, with the deep link and without her name.
    expect(shown(HAMBORN)).toHaveLength(1);
    const card = shown(HAMBORN)[0]!;
    expect(card.text).toContain('🆘 Запит');
    expect(card.text).toContain('Потрібна допомога з листом від Jobcenter.');
    expect(card.text).not.toContain('Олена');
    expect(card.replyMarkup?.inline_keyboard.flat().map((b) => b.text)).toEqual(['🤝 Допомогти через Hilfenetz']);
    expect(urlOf(card)).toBe(`${LINK}1`);
    // The whole-city group: both, in Russian.
    expect(shown(CITY_GROUP).map((m) => m.text)).toEqual([expect.stringContaining('Потрібна допомога з листом'), expect.stringContaining('Нужен переводчик')]);
    expect(shown(CITY_GROUP)[0]!.text).toContain('🆘 Запрос');

    // The deep link opens the post in the bot, with the contact path.
    const jonas = h.user(PEOPLE.jonas);
    await onboard(jonas, 'helper', 'Hamborn');
    const opened = await jonas.send('/start post_1');
    expect(opened.sent[0]!.text).toContain('Потрібна допомога з листом');
    expect(jonas.buttons(opened.sent[0])).toContain('🤝 Ich kann helfen');

    // Fulfilled → "help found", without the text or the button; closed → deleted. Nothing is sent twice.
    await olena.send('/my');
    await olena.click('✅ Допомогу знайдено', olena.find('Потрібна допомога з листом'));
    await irina.send('/my');
    await irina.click('🗑 Больше не нужно', irina.find('Нужен переводчик'));
    await mirror();
    // The group has two changes: the second waits for the next slot.
    for (let slot = 0; slot < 2; slot++) {
      h.clock.advance(3_000);
      await h.deliver();
    }
    expect(shown(HAMBORN)).toHaveLength(1);
    expect(shown(HAMBORN)[0]!.text).toContain('✅ Допомогу знайдено');
    expect(shown(HAMBORN)[0]!.text).not.toContain('Jobcenter');
    expect(shown(HAMBORN)[0]!.replyMarkup?.inline_keyboard.flat() ?? []).toEqual([]);
    expect(shown(CITY_GROUP).map((m) => m.text)).toEqual([expect.stringContaining('✅ Помощь найдена')]);
    await mirror();
    expect(h.telegram.callsOf('sendMessage').filter((c) => Number(c.payload.chat_id) < 0)).toHaveLength(3);

    // A closed post's link answers briefly.
    expect((await jonas.send('/start post_2')).sent[0]!.text).toBe('Dieser Beitrag ist nicht mehr offen.');
  });

  it('sends to one channel at most once per CHANNEL_INTERVAL, and messages to people never wait for it', async () => {
    const kerstin = h.user(KERSTIN);
    h.telegram.addGroupChat(HAMBORN);
    await connect(kerstin, HAMBORN);
    const olena = h.user(PEOPLE.olena);
    const jonas = h.user(PEOPLE.jonas);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await onboard(jonas, 'helper', 'Hamborn');
    await subscribe(jonas, ['🏛 Behörden & Formulare'], ['Hamborn']);
    const texts = ['Потрібна допомога з листом від Jobcenter.', 'Шукаю когось, хто піде зі мною до банку.', 'Потрібен перекладач до лікаря в четвер.'];
    for (const text of texts) await post(olena, 'need', '🏛 Установи та документи', 'Гамборн (Hamborn)', text);
    await h.sweep();
    expect(await h.db.db.select().from(outbox).where(eq(outbox.priority, 3))).toHaveLength(3);
    await h.deliver();
    expect(shown(HAMBORN)).toHaveLength(1);
    // Jonas's three notifications went out in the same run, though two cards still wait for their slot.
    for (const text of texts) expect(jonas.find(text)).toBeDefined();
    h.clock.advance(2_000);
    await h.deliver();
    expect(shown(HAMBORN)).toHaveLength(1);
    h.clock.advance(1_000);
    await h.deliver();
    expect(shown(HAMBORN)).toHaveLength(2);
    h.clock.advance(3_000);
    await h.deliver();
    expect(shown(HAMBORN).map((m) => m.text)).toEqual(texts.map((t): unknown => expect.stringContaining(t)));
  });

  it('marks a channel that removed the bot, shows it in /channels, and crashes nothing', async () => {
    const kerstin = h.user(KERSTIN);
    h.telegram.addGroupChat(HAMBORN);
    h.telegram.addGroupChat(CITY_GROUP, { status: 'administrator' });
    await connect(kerstin, HAMBORN);
    await connect(kerstin, String(CITY_GROUP.id));
    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');

    // The group kicked the bot without Telegram telling us (no update): the first send finds out.
    h.telegram.setBotMember(CITY_GROUP.id, { status: 'kicked' });
    // The channel took a right away, and Telegram says so.
    h.telegram.setBotMember(HAMBORN.id, { status: 'administrator', can_post_messages: true, can_edit_messages: false, can_delete_messages: true });
    await h.handle(groupMemberUpdate(KERSTIN, HAMBORN, 'administrator', { status: 'administrator', can_post_messages: true, can_edit_messages: false, can_delete_messages: true }));

    await post(olena, 'need', '🏛 Установи та документи', 'Гамборн (Hamborn)', 'Потрібна допомога з листом від Jobcenter.');
    await mirror();
    expect(shown(CITY_GROUP)).toHaveLength(0);
    expect(shown(HAMBORN)).toHaveLength(0);
    const rows = await h.db.db.select().from(channels).orderBy(channels.id);
    expect(rows.map((r) => [r.status, r.lostReason])).toEqual([
      ['lost', 'edit'],
      ['lost', 'removed'],
    ]);
    // Olena, a person, still gets her messages: the worker goes on.
    expect((await olena.send('/help')).sent).toHaveLength(1);

    const list = await kerstin.send('/channels');
    expect(list.sent[0]!.text).toContain('⚠️ Hilfe Hamborn');
    expect(list.sent[0]!.text).toContain('„Nachrichten anderer bearbeiten“');
    expect(list.sent[0]!.text).toContain('Mitglied sein (der Bot wurde entfernt');

    // The right comes back: "check rights" makes it active again; what is still open and new is mirrored.
    h.telegram.setBotMember(HAMBORN.id, ALL_RIGHTS);
    await kerstin.click(/Hilfe Hamborn/);
    const checked = await kerstin.click('🔄 Rechte prüfen');
    expect(checked.answer?.text).toContain('Alles in Ordnung');
    await post(olena, 'need', '🏛 Установи та документи', 'Гамборн (Hamborn)', 'Шукаю когось, хто піде зі мною до банку.');
    await mirror();
    h.clock.advance(3_000);
    await h.deliver();
    expect(shown(HAMBORN).map((m) => m.text)).toEqual([expect.stringContaining('Jobcenter'), expect.stringContaining('до банку')]);
  });

  it('edits the cards when the author edits the post, once per change and at the channel\'s pace, and posts a new card for a renewed one', async () => {
    const kerstin = h.user(KERSTIN);
    h.telegram.addGroupChat(HAMBORN);
    h.telegram.addGroupChat(CITY_GROUP, { status: 'administrator' });
    await connect(kerstin, HAMBORN);
    await connect(kerstin, String(CITY_GROUP.id));
    await kerstin.click('Русский');
    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await post(olena, 'need', '🏛 Установи та документи', 'Гамборн (Hamborn)', 'Потрібна допомога з листом від Jobcenter.');
    await mirror();
    expect(shown(HAMBORN).map((m) => m.text)).toEqual([expect.stringContaining('Jobcenter')]);
    const channelCalls = (method: string) => h.telegram.callsOf(method).filter((c) => Number(c.payload.chat_id) < 0);
    const sentBefore = channelCalls('sendMessage').length;

    /** Opens the own post in /my and saves a new text through the edit dialog. */
    async function editText(text: string): Promise<void> {
      await olena.send('/my');
      await olena.click('✏️ Редагувати');
      await olena.click('✏️ Змінити текст');
      await olena.send(text);
      await olena.click('💾 Зберегти');
    }

    // Two edits before the sweep sends anything: one pending edit per card, showing the newest text.
    await editText('Потрібна допомога з листом від Jobcenter, терміново до п\'ятниці.');
    await h.sweep();
    await editText('Потрібна допомога із заявою на Kindergeld до п\'ятниці.');
    await h.sweep();
    const pending = await h.db.db.select().from(outbox).where(eq(outbox.priority, 3));
    expect(pending.filter((r) => r.status === 'pending')).toHaveLength(2); // one per channel
    // The channel's pace holds for edits too: the card went out less than CHANNEL_INTERVAL ago.
    await h.deliver();
    expect(channelCalls('editMessageText')).toHaveLength(0);
    h.clock.advance(3_000);
    await h.deliver();
    expect(channelCalls('editMessageText')).toHaveLength(2);
    expect(shown(HAMBORN)).toHaveLength(1);
    expect(shown(HAMBORN)[0]!.text).toContain('Kindergeld');
    expect(shown(HAMBORN)[0]!.text).not.toContain('Jobcenter');
    expect(urlOf(shown(HAMBORN)[0]!)).toBe(`${LINK}1`);
    expect(shown(CITY_GROUP)).toHaveLength(1);
    expect(shown(CITY_GROUP)[0]!.text).toContain('🆘 Запрос');
    expect(shown(CITY_GROUP)[0]!.text).toContain('Kindergeld');
    // Nothing more to do: no duplicate card, no second edit, and a renewal of the open post changes nothing shown.
    await olena.send('/my');
    await olena.click('🔄 Подовжити');
    h.clock.advance(3_000);
    await mirror();
    expect(channelCalls('sendMessage')).toHaveLength(sentBefore);
    expect(channelCalls('editMessageText')).toHaveLength(2);

    // It expires within Telegram's 48 hours: the cards are deleted. Republished, it gets new cards.
    await h.db.db.update(posts).set({ expiresAt: new Date(h.clock.now().getTime() + 60_000) }).where(eq(posts.id, 1));
    h.clock.advance(120_000);
    await h.sweep();
    await mirror();
    h.clock.advance(3_000);
    await h.deliver();
    expect(shown(HAMBORN)).toHaveLength(0);
    expect(shown(CITY_GROUP)).toHaveLength(0);
    await h.deliver();
    await olena.click('🔄 Опублікувати знову', olena.find('Термін вашого запиту'));
    h.clock.advance(3_000);
    await mirror();
    expect(shown(HAMBORN).map((m) => m.text)).toEqual([expect.stringContaining('Kindergeld')]);
    expect(shown(CITY_GROUP).map((m) => m.text)).toEqual([expect.stringContaining('Kindergeld')]);
    expect(channelCalls('sendMessage')).toHaveLength(sentBefore + 2);
    expect((await h.db.db.select().from(channelPosts)).map((m) => m.state)).toEqual(['card', 'card']);

    // A card the channel's administrators deleted is not posted again when the post changes; the other is edited.
    h.telegram.message(HAMBORN.id, shown(HAMBORN)[0]!.messageId)!.deleted = true;
    await editText('Потрібна допомога із заявою на Kindergeld, будь ласка.');
    h.clock.advance(3_000);
    await mirror();
    expect(shown(HAMBORN)).toHaveLength(0);
    expect(shown(CITY_GROUP).map((m) => m.text)).toEqual([expect.stringContaining('будь ласка')]);
    await mirror();
    h.clock.advance(3_000);
    await mirror();
    expect(shown(HAMBORN)).toHaveLength(0);
    expect(channelCalls('sendMessage')).toHaveLength(sentBefore + 2);
    expect((await h.db.db.select().from(channelPosts).orderBy(channelPosts.channelId)).map((m) => m.state)).toEqual(['deleted', 'card']);
  });

  it('moves a card to the new district\'s channel when the author moves the post', async () => {
    const MITTE: FakeGroupChat['chat'] = { id: -1_001_000_000_303, type: 'channel', title: 'Hilfe Mitte', username: 'hilfe_mitte' };
    const kerstin = h.user(KERSTIN);
    h.telegram.addGroupChat(HAMBORN);
    h.telegram.addGroupChat(MITTE);
    for (const [chat, district] of [[HAMBORN, 'Hamborn'], [MITTE, 'Mitte']] as const) {
      await connect(kerstin, chat);
      await kerstin.click('📍 Bezirk ändern');
      await kerstin.click(district);
      expect(kerstin.last.text).toContain(`Für: ${district}`);
    }
    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await post(olena, 'need', '🏛 Установи та документи', 'Гамборн (Hamborn)', 'Потрібна допомога з листом від Jobcenter.');
    await mirror();
    expect(shown(HAMBORN).map((m) => m.text)).toEqual([expect.stringContaining('Jobcenter')]);
    expect(shown(MITTE)).toHaveLength(0);

    // She moved to Mitte and says so in the post: the Hamborn card is taken back, Mitte's channel gets one.
    await olena.send('/my');
    await olena.click('✏️ Редагувати');
    await olena.click('📍 Район');
    await olena.click('Центр (Mitte)');
    await olena.click('💾 Зберегти');
    expect((await h.db.db.select().from(posts))[0]!.district).toBe('mitte');
    h.clock.advance(3_000);
    await mirror();
    expect(shown(HAMBORN)).toHaveLength(0);
    expect(shown(MITTE).map((m) => m.text)).toEqual([expect.stringContaining('Jobcenter')]);
    expect(shown(MITTE)[0]!.text).toContain('Mitte');
    // Nothing more happens on the next sweeps: one card, in the right channel.
    h.clock.advance(3_000);
    await mirror();
    expect(shown(MITTE)).toHaveLength(1);
    expect(h.telegram.callsOf('sendMessage').filter((c) => Number(c.payload.chat_id) === HAMBORN.id)).toHaveLength(1);
  });

  it('shows a newcomer who came through a card the post once onboarding is done, or what is open if it closed meanwhile', async () => {
    const kerstin = h.user(KERSTIN);
    h.telegram.addGroupChat(HAMBORN);
    await connect(kerstin, HAMBORN);
    const olena = h.user(PEOPLE.olena);
    const irina = h.user(PEOPLE.irina);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await onboard(irina, 'seeker', 'Центр (Mitte)');
    await post(olena, 'need', '🏛 Установи та документи', 'Гамборн (Hamborn)', 'Потрібна допомога з листом від Jobcenter.');
    await post(irina, 'need', '🏛 Ведомства и документы', 'Центр (Mitte)', 'Нужна помощь с заявлением на Kindergeld.');
    await mirror();
    h.clock.advance(3_000);
    await h.deliver();
    const payloads = shown(HAMBORN).map((m) => urlOf(m)!.split('?start=')[1]!);
    expect(payloads).toEqual(['post_1', 'post_2']);

    // Maria has never used the bot: the greeting says what comes after, the post is remembered through
    // onboarding (a typed message, going back a step), and shown right after it with the usual buttons.
    const maria = h.user(PEOPLE.maria);
    const greeting = await maria.send(`/start ${payloads[0]}`);
    expect(greeting.sent).toHaveLength(1);
    expect(greeting.sent[0]!.text).toContain('Willkommen bei Hilfenetz, Maria!');
    expect(greeting.sent[0]!.text).toContain('Danach zeige ich Ihnen den Beitrag #1');
    await maria.click('🤝 Ich möchte helfen');
    await maria.send('Hallo?');
    await maria.click('‹ Zurück');
    await maria.click('🤝 Ich möchte helfen');
    expect(maria.last.text).toContain('Danach zeige ich Ihnen den Beitrag #1');
    const done = await maria.click('Hamborn');
    expect(done.sent).toHaveLength(1);
    expect(maria.messages.at(-2)!.text).toContain('Alles bereit.');
    expect(done.sent[0]!.text).toContain('Потрібна допомога з листом від Jobcenter.');
    expect(maria.buttons(done.sent[0])).toContain('🤝 Ich kann helfen');
    await maria.click('🤝 Ich kann helfen', done.sent[0]);
    await h.deliver();
    expect(olena.find('Maria')).toBeDefined();

    // Irina's need closes while Petro onboards: a short answer and the way on, not an error.
    const petro = h.user(PEOPLE.petro);
    await petro.send(`/start ${payloads[1]}`);
    await petro.click('🤝 Я хочу допомогти');
    await irina.send('/my');
    await irina.click('🗑 Больше не нужно', irina.find('Kindergeld'));
    const closed = await petro.click('🏙 Увесь Дуйсбург');
    expect(closed.sent).toHaveLength(1);
    expect(closed.sent[0]!.text).toBe('Цей допис уже не відкритий — можливо, допомогу вже знайдено. Подивіться, що відкрито зараз:');
    expect(petro.buttons(closed.sent[0])).toContain('🔎 Переглянути запити');
    const browsed = await petro.click('🔎 Переглянути запити', closed.sent[0]);
    expect([...browsed.sent, ...browsed.edited].map((m) => m.text).join('\n')).toContain('Jobcenter');

    // Forged and overlong payloads: the short answer, then the ordinary onboarding, and no post afterwards.
    const alex = h.user(PEOPLE.alex);
    for (const forged of ['post_99999999999', `post_${'1'.repeat(70)}`, 'post_1x', 'post_0']) {
      const answer = await alex.send(`/start ${forged}`);
      expect(answer.sent.map((m) => m.text)).toEqual([expect.stringContaining('Dieser Link ist ungültig'), expect.stringContaining('Willkommen bei Hilfenetz')]);
      expect(answer.sent[1]!.text).not.toContain('Danach zeige ich');
    }
    await alex.click('🙋 Ich brauche Hilfe');
    expect((await alex.click('Hamborn')).sent).toHaveLength(0);
    expect(alex.last.text).toContain('Alles bereit.');
    // A well-formed link to a post that never existed: told after onboarding, like a closed one.
    const nadia = h.user({ id: 380_777, first_name: 'Надія', language_code: 'uk' });
    await nadia.send('/start post_424242');
    await nadia.click('🙋 Мені потрібна допомога');
    expect((await nadia.click('Гамборн (Hamborn)')).sent.map((m) => m.text)).toEqual([expect.stringContaining('Цей допис уже не відкритий')]);
  });
});
