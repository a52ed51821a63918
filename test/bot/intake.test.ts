import { eq, getTableName, sql } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { queryRows } from '../../src/db';
import * as schema from '../../src/db/schema';
import { posts, translations, users } from '../../src/db/schema';
import { commandsFor } from '../../src/bot/commands';
import { listNeeds, needHistory } from '../../src/domain/needs-list';
import { collectWeeklySummary } from '../../src/domain/overview';
import { actorOf } from '../../src/domain/permissions';
import { replaceSubscriptions } from '../../src/domain/subscriptions';
import { clickDistrict, onboard, post } from '../helpers/flows';
import { type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';
import type { Persona } from '../helpers/updates';

// Tight own limits, so that the test shows a Lotse's intake needs are counted apart from them.
const harness = useHarness({ env: { INTAKE_MAX_OPEN: '2', MAX_OPEN_POSTS: '1', MAX_POSTS_PER_DAY: '1', ADMIN_TELEGRAM_IDS: '900001' } });
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

const SABINE: Persona = { id: 490_301, first_name: 'Sabine', language_code: 'de' };
const COORDINATOR: Persona = { id: 900_001, first_name: 'Katrin', language_code: 'de' };
/** The person without Telegram: a Ukrainian first name with the Ukrainian apostrophe, and an initial. */
const NAME = 'Мар’яна Д.';
const NEED = 'Потрібен супровід до лікаря у вівторок, я погано розумію німецьку.';
const NOT_ALLOWED_DE = '/intake ist für Lotsen und Koordination (Anfragen für Menschen ohne Telegram). Brauchen Sie selbst Hilfe? Dann /need.';

async function userRow(persona: Persona) {
  const [row] = await h.db.db.select().from(users).where(eq(users.telegramId, persona.id));
  return row!;
}

/** Sabine: staff of Caritas, marked as Lotse. */
async function lotse(organisation: string | null = 'Caritas'): Promise<TestUser> {
  const user = h.user(SABINE);
  await onboard(user, 'helper', 'Hamborn');
  await h.db.db.update(users).set({ role: 'staff', organisation, lotse: true }).where(eq(users.telegramId, SABINE.id));
  return user;
}

/** Irina, a helper who reads Russian, told about health needs in the whole city. */
async function helper(): Promise<TestUser> {
  const irina = h.user(PEOPLE.irina);
  await onboard(irina, 'helper', 'Хамборн (Hamborn)');
  await replaceSubscriptions(h.db.db, (await userRow(PEOPLE.irina)).id, 'need', { categories: ['health'], districts: ['*'] });
  return irina;
}

/** /intake through the whole dialog (German buttons); returns the new post's id. */
async function intake(user: TestUser, name: string, text: string, language = 'Ukrainisch', category = 'health'): Promise<number> {
  await user.send('/intake');
  await user.click(language);
  await user.send(name);
  await user.click(h.deps.city.categoryLabel(category, 'de'));
  await clickDistrict(user, 'Hamborn');
  await user.send(text);
  await user.click('➡️ Ohne Foto weiter');
  await user.click('✅ Veröffentlichen');
  const [latest] = await h.db.db.select({ id: posts.id }).from(posts).orderBy(sql`${posts.id} desc`).limit(1);
  return latest!.id;
}

/** Every row of every table as text, to look for a value anywhere in the database. */
async function dumpDatabase(): Promise<string[]> {
  const tables = (Object.values(schema) as unknown[]).filter((v): v is PgTable => v instanceof PgTable).map((t) => getTableName(t));
  const rows: string[] = [];
  for (const table of tables) {
    const found = await queryRows<{ row: string }>(h.db.db, sql.raw(`select t::text as row from "${table}" t`));
    rows.push(...found.map((r) => `${table}: ${r.row}`));
  }
  return rows;
}

describe('/intake: a need taken on behalf of a person without Telegram', () => {
  it('goes from the Lotse to a helper and back: marked as a Lotse’s, the name only ever shown to the Lotse', async () => {
    const sabine = await lotse();
    const irina = await helper();

    // The dialog: the person's language, their name, then the steps of /need.
    const start = (await sabine.send('/intake')).sent[0]!;
    expect(start.text).toContain('Anfrage für eine Person ohne Telegram (1/6)');
    expect(sabine.buttons(start)).toEqual(['Ukrainisch', 'Deutsch', 'Russisch', '✖️ Abbrechen']);
    const nameStep = await sabine.click('Ukrainisch');
    expect(nameStep.edited[0]!.text).toContain('(2/6)');
    expect(nameStep.edited[0]!.text).toContain('Vornamen oder die Initialen');
    // "Back" from the name goes to the language, and on again.
    await sabine.click('‹ Zurück');
    expect(sabine.last.text).toContain('(1/6)');
    await sabine.click('Ukrainisch');
    const category = (await sabine.send(`  ${NAME} `)).sent[0]!;
    expect(category.text).toContain('(3/6)');
    await sabine.click(h.deps.city.categoryLabel('health', 'de'));
    await clickDistrict(sabine, 'Hamborn');
    await sabine.send(NEED);
    const preview = (await sabine.click('➡️ Ohne Foto weiter')).edited[0]!;
    expect(preview.text).toContain(`👤 Für: ${NAME} · Ukrainisch (den Namen sehen nur Sie)`);
    expect(preview.text).toContain('🧭 Eingestellt von einem Lotsen (Caritas)');
    const published = await sabine.click('✅ Veröffentlichen');
    expect(published.edited[0]!.text).toContain(`👤 Für: ${NAME}`);

    const [row] = await h.db.db.select().from(posts).orderBy(sql`${posts.id} desc`).limit(1);
    const sabineId = (await userRow(SABINE)).id;
    expect(row).toMatchObject({ authorId: sabineId, kind: 'need', category: 'health', intakeName: NAME, intakeLanguage: 'uk', intakeOrganisation: 'Caritas', language: 'uk', status: 'open' });
    const postId = row!.id;

    // The helper is told in Russian, with the Lotse's mark and without the person's name.
    await h.deliver();
    const note = irina.find(NEED)!;
    expect(note.text).toContain('🧭 Опубликовано лоцманом (Caritas)');
    expect(note.text).not.toContain('Мар’яна');

    // She offers help; the offer reaches the Lotse, in German, naming the person.
    await irina.click('🤝 Могу помочь', note);
    await h.deliver();
    const request = sabine.find('möchte bei Ihrer Anfrage')!;
    expect(request.text).toContain(`👤 Für: ${NAME}`);
    expect(request.text).toContain('Ирина');
    const accepted = await sabine.click('✅ Annehmen', request);
    expect(accepted.edited[0]!.text).toContain(`👤 Für: ${NAME}`);
    await h.deliver();
    const welcome = irina.find('Вашу помощь приняли')!;
    expect(welcome.text).toContain('Sabine (Caritas)');

    // The relay, both ways: the Lotse's header names the person, the helper's never does.
    await irina.send('Здравствуйте! Во вторник утром могу пойти с ней к врачу.');
    await h.deliver();
    const fromIrina = sabine.find('Во вторник утром')!;
    expect(fromIrina.text).toContain(`👤 Für: ${NAME}`);
    await sabine.send('Danke! Dienstag um 9 Uhr passt, sie wartet vor der Praxis.');
    await h.deliver();
    const fromSabine = irina.find('Dienstag um 9 Uhr')!;
    expect(fromSabine.text).toContain('Sabine (Caritas)');
    for (const message of irina.messages) expect(message.text).not.toContain('Мар’яна');

    // /browse, the shared card (inline mode: the same card as in channels) and the web desk: no name.
    const list = (await irina.send('/browse')).sent[0]!;
    expect(list.text).toContain('🧭 Опубликовано лоцманом (Caritas)');
    expect(list.text).not.toContain('Мар’яна');
    const detail = (await irina.click('1', list)).sent[0]!;
    expect(detail.text).toContain('🧭 Опубликовано лоцманом (Caritas)');
    expect(detail.text).toContain(NEED);
    expect(detail.text).not.toContain('Мар’яна');
    // The Lotse opening her own need (a card's link) reads for whom it is.
    expect((await sabine.send(`/start post_${postId}`)).sent[0]!.text).toContain(`👤 Für: ${NAME}`);
    const shared = await irina.inline(`#${postId}`);
    const card = shared!.results[0]!.input_message_content!.message_text;
    expect(card).toContain('🧭 Опубликовано лоцманом (Caritas)');
    expect(card).toContain(NEED);
    expect(card).not.toContain('Мар’яна');
    const katrin = h.user(COORDINATOR);
    await katrin.send('/start');
    const desk = actorOf(await userRow(COORDINATOR));
    expect(JSON.stringify(await listNeeds(h.db.db, h.clock, desk, {}))).not.toContain('Мар’яна');
    expect(JSON.stringify(await needHistory(h.db.db, h.clock, desk, postId))).not.toContain('Мар’яна');
    // The web desk tells the coordinators where it came from, and filters by it.
    expect((await listNeeds(h.db.db, h.clock, desk, {})).items.find((n) => n.id === postId)?.source).toBe('intake');
    expect((await needHistory(h.db.db, h.clock, desk, postId)).need.source).toBe('intake');
    expect((await listNeeds(h.db.db, h.clock, desk, { source: 'intake' })).items.map((n) => n.id)).toEqual([postId]);
    expect((await listNeeds(h.db.db, h.clock, desk, { source: 'bot' })).items.map((n) => n.id)).not.toContain(postId);

    // The Lotse's /my lists the need with the person's name.
    await sabine.send('/my');
    const own = sabine.find(NEED)!;
    expect(own.text).toContain(`👤 Für: ${NAME} · Ukrainisch`);
    expect(own.text).toContain('🧭 Eingestellt von einem Lotsen (Caritas)');

    // The weekly summary for the social office counts it among the week's new needs, and as a Lotse's.
    h.clock.advance(7 * 86_400_000);
    const week = await collectWeeklySummary(h.db.db, h.clock, desk, h.deps.city);
    expect(week.rows.find((r) => r.district === 'hamborn')).toMatchObject({ newNeeds: 1, newNeedsIntake: 1 });
    expect(week.rows.reduce((sum, r) => sum + r.newNeedsIntake, 0)).toBe(1);
    // /stats shows how many of the month's needs Lotsen took (a line that appears once /intake is in use).
    expect((await katrin.send('/stats')).sent[0]!.text).toContain('Von Lotsen für Menschen ohne Telegram eingestellt: 100 % (1)');
  });

  it('puts the mark, never the name, on the card in the city’s channel; an edit keeps the person', async () => {
    const katrin = h.user(COORDINATOR);
    const channel = { id: -1_001_000_000_401, type: 'channel' as const, title: 'Hilfe Duisburg', username: 'hilfe_duisburg' };
    h.telegram.addGroupChat(channel, { status: 'administrator', can_post_messages: true, can_edit_messages: true, can_delete_messages: true });
    await katrin.send('/channels');
    await katrin.click('➕ Kanal oder Gruppe verbinden');
    await katrin.send('Ein Beitrag aus dem Kanal', { forward_origin: { type: 'channel', chat: channel, message_id: 7, date: 1 } } as never);
    const sabine = await lotse();
    await intake(sabine, NAME, NEED);
    await h.sweep();
    await h.deliver();
    const cards = h.telegram.messages(channel.id);
    expect(cards).toHaveLength(1);
    expect(cards[0]!.text).toContain('🧭 Eingestellt von einem Lotsen (Caritas)');
    expect(cards[0]!.text).toContain(NEED);
    expect(cards[0]!.text).not.toContain('Мар’яна');

    // Editing the text from /my: the preview still says for whom, and the person stays with the post.
    await sabine.send('/my');
    await sabine.click('✏️ Bearbeiten');
    expect(sabine.last.text).toContain(`👤 Für: ${NAME} · Ukrainisch`);
    await sabine.click('✏️ Text ändern');
    await sabine.send('Потрібен супровід до лікаря у середу зранку.');
    await sabine.click('💾 Speichern');
    const [row] = await h.db.db.select().from(posts);
    expect(row).toMatchObject({ text: 'Потрібен супровід до лікаря у середу зранку.', intakeName: NAME, intakeLanguage: 'uk', intakeOrganisation: 'Caritas' });
    h.clock.advance(5_000);
    await h.sweep();
    await h.deliver();
    expect(h.telegram.messages(channel.id)[0]!.text).toContain('у середу зранку');
    expect(h.telegram.messages(channel.id)[0]!.text).not.toContain('Мар’яна');
  });

  it('takes the person’s language when the text says too little, and marks a Lotse without organisation as the city’s', async () => {
    const sabine = await lotse(null);
    const irina = await helper();
    // Digits and signs only: no language to detect, so the person's language (not Sabine's German) counts.
    const postId = await intake(sabine, 'O. K.', '15.03. 10:00–12:00 → ☎️ ?!', 'Russisch');
    const [row] = await h.db.db.select().from(posts).where(eq(posts.id, postId));
    expect(row).toMatchObject({ intakeName: 'O. K.', intakeLanguage: 'ru', intakeOrganisation: null, language: 'ru' });
    await h.deliver();
    expect(irina.last.text).toContain('🧭 Опубликовано лоцманом города');
    expect(irina.last.text).not.toContain('O. K.');
  });

  it('refuses everyone but Lotsen and coordinators, in their language', async () => {
    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    expect((await olena.send('/intake')).sent[0]!.text).toBe(
      '/intake – для лоцманів і координаторів (запити для людей без Telegram). Потрібна допомога вам самим? Тоді /need.',
    );
    const irina = await helper();
    expect((await irina.send('/intake')).sent[0]!.text).toContain('/intake – для лоцманов и координаторов');
    // A newcomer who has not chosen a role yet.
    const alex = h.user(PEOPLE.alex);
    expect((await alex.send('/intake')).sent.at(-1)!.text).toBe(NOT_ALLOWED_DE);
    // Staff not marked as Lotse.
    const sabine = await lotse();
    await h.db.db.update(users).set({ lotse: false }).where(eq(users.telegramId, SABINE.id));
    expect((await sabine.send('/intake')).sent[0]!.text).toBe(NOT_ALLOWED_DE);
    // A forged main-menu button is refused the same way; a forged language button without a dialog is stale.
    expect((await sabine.press('m:intake', sabine.last)).answer).toEqual({ text: NOT_ALLOWED_DE, showAlert: true });
    expect((await olena.press('d:lang:uk', olena.last)).answer?.showAlert).toBe(true);
    // Nothing was stored.
    expect(await h.db.db.select().from(posts)).toEqual([]);

    // A coordinator may (also from the button under an empty /my); the mark puts /intake into the Lotse's menu and /help.
    const katrin = h.user(COORDINATOR);
    await katrin.send('/start');
    expect((await katrin.send('/intake')).sent[0]!.text).toContain('(1/6)');
    await katrin.send('/cancel');
    const empty = (await katrin.send('/my')).sent[0]!;
    expect((await katrin.click('🧭 Anfrage für eine Person ohne Telegram', empty)).sent[0]!.text).toContain('(1/6)');
    await katrin.send('/staff');
    await katrin.click('🧭 1 Lotse');
    const menu = h.telegram.callsOf('setMyCommands').filter((c) => (c.payload.scope as { chat_id?: number } | undefined)?.chat_id === SABINE.id).at(-1)!;
    expect((menu.payload.commands as { command: string }[]).map((c) => c.command)).toEqual(expect.arrayContaining(['intake', 'desk']));
    expect((await sabine.send('/help')).sent[0]!.text).toContain('/intake – eine Anfrage für eine Person ohne Telegram stellen');
    expect(commandsFor('staff', 'de', h.deps.i18n, false).map((c) => c.command)).not.toContain('intake');
    expect(commandsFor('staff', 'de', h.deps.i18n, true).map((c) => c.command)).toContain('intake');
    expect(commandsFor('coordinator', 'uk', h.deps.i18n).map((c) => c.command)).toContain('intake');
    expect(commandsFor('helper', 'ru', h.deps.i18n, true).map((c) => c.command)).not.toContain('intake');
  });

  it('refuses names with digits, @ or links and says what is allowed; a good name goes on', async () => {
    const sabine = await lotse();
    await sabine.send('/intake');
    await sabine.click('Ukrainisch');
    for (const bad of ['Olena 0176 1234567', '@olena_k', 'https://t.me/olena', 'olena.de', 'Olena, Hauptstr. 5', 'x'.repeat(41)]) {
      const { sent } = await sabine.send(bad);
      expect(sent).toHaveLength(1);
      expect(sent[0]!.text).toBe(
        "Bitte nur Vornamen oder Initialen senden: Buchstaben, Leerzeichen, Bindestrich, Apostroph (' oder ’) und Punkt, höchstens 40 Zeichen – keine Ziffern, kein @, keine Links. Versuchen Sie es noch einmal.",
      );
    }
    // A sticker is no name either; a button step wants its buttons.
    expect((await sabine.sendSticker()).sent[0]!.text).toContain('Bitte nur Vornamen oder Initialen');
    expect((await sabine.send("D'Artagnan")).sent[0]!.text).toContain('(3/6)');
    // The domain checks again: a name forged into the session is refused at publishing, nothing stored.
    await sabine.click(h.deps.city.categoryLabel('health', 'de'));
    await clickDistrict(sabine, 'Hamborn');
    await sabine.send(NEED);
    await sabine.click('➡️ Ohne Foto weiter');
    const key = String(SABINE.id);
    const [stored] = await queryRows<{ value: { dialog: { data: { intake: { name: string } } } } }>(h.db.db, sql`select value from sessions where key = ${key}`);
    stored!.value.dialog.data.intake.name = 'Olena +49 176 555';
    await h.db.db.execute(sql`update sessions set value = ${JSON.stringify(stored!.value)}::jsonb where key = ${key}`);
    const refused = await sabine.click('✅ Veröffentlichen');
    expect(refused.sent.at(-1)!.text).toContain('Bitte nur Vornamen oder Initialen');
    expect(await h.db.db.select().from(posts)).toEqual([]);
  });

  it('counts a Lotse’s intake needs against INTAKE_MAX_OPEN, apart from their own posts', async () => {
    const sabine = await lotse();
    // Two needs for others (INTAKE_MAX_OPEN = 2), even with the same text for two people ...
    await intake(sabine, 'Olena', NEED);
    await intake(sabine, 'Petro', NEED);
    const intakes = await h.db.db.select().from(posts).where(sql`${posts.intakeName} is not null`);
    expect(intakes.map((p) => p.intakeName).sort()).toEqual(['Olena', 'Petro']);
    // ... leave her own limits alone: her own need still goes out (MAX_OPEN_POSTS = MAX_POSTS_PER_DAY = 1) ...
    await post(sabine, 'need', h.deps.city.categoryLabel('health', 'de'), 'Hamborn', 'Ich suche selbst eine Begleitung zum Amt.');
    expect(await h.db.db.select().from(posts)).toHaveLength(3);
    expect((await sabine.send('/need')).sent[0]!.text).toContain('Höchstzahl an offenen Beiträgen (1)');
    // ... and a third for others is refused before the dialog starts.
    const refused = (await sabine.send('/intake')).sent[0]!;
    expect(refused.text).toBe('Sie haben schon 2 offene Anfragen für andere. Schließen Sie erledigte unter /my, dann können Sie neue einstellen.');
    expect(sabine.buttons(refused)).toEqual(['📋 Meine Beiträge']);
    // One closed under /my: room for the next.
    await sabine.send('/my');
    await sabine.click('🗑 Nicht mehr nötig', sabine.find('Petro'));
    expect((await sabine.send('/intake')).sent[0]!.text).toContain('(1/6)');
  });

  it('marks the need as a Lotse’s in a helper’s morning summary too, without the name', async () => {
    const sabine = await lotse();
    const irina = await helper();
    await h.db.db.update(users).set({ dailyCap: 1 }).where(eq(users.telegramId, PEOPLE.irina.id));
    await intake(sabine, NAME, NEED);
    await intake(sabine, 'Oksana', 'Brauche Hilfe beim Ausfüllen eines Antrags beim Jobcenter, bitte.');
    await h.deliver();
    // The second is over her daily limit: it waits for the summary at 07:00.
    h.clock.set('2026-03-03T07:00:00+01:00');
    await h.deliver();
    const digest = irina.find('Вчера был')!;
    expect(digest.text).toContain('🧭 от лоцмана');
    expect(digest.text).not.toContain('Oksana');
    expect(digest.text).not.toContain('Мар’яна');
  });

  it('tells the Lotse in /privacy what is kept of the person and for how long; others are not told', async () => {
    const sabine = await lotse();
    const irina = await helper();
    const own = (await sabine.send('/privacy')).sent[0]!.text;
    expect(own).toContain('Anfragen für Menschen ohne Telegram (/intake)');
    expect(own).toContain('90 Tage nach dem Schließen oder Ablauf, oder sofort mit /deleteme');
    expect((await irina.send('/privacy')).sent[0]!.text).not.toContain('/intake');
  });

  it('leaves no trace of the person’s name (nor of the stored translation) after /deleteme by the Lotse', async () => {
    const sabine = await lotse();
    const irina = await helper();
    const postId = await intake(sabine, NAME, NEED);
    await h.deliver();
    await irina.click('🤝 Могу помочь', irina.find(NEED));
    await h.deliver();
    await sabine.click('✅ Annehmen');
    await h.deliver();
    // A stored translation of the post, as the translation job leaves it.
    await h.db.db.insert(translations).values({ postId, source: 'uk', target: 'de', sourceHash: 'x', text: 'Begleitung zum Arzt am Dienstag', engine: 'test', createdAt: h.clock.now() });

    // /mydata: her intake needs, with the names.
    const data = (await sabine.send('/mydata')).sent[0]!;
    const exported = JSON.parse(data.file!.content!.toString('utf8')) as { posts: { intakeName: string | null; intakeLanguage: string | null }[] };
    expect(exported.posts).toEqual([expect.objectContaining({ intakeName: NAME, intakeLanguage: 'uk' })]);
    expect((await dumpDatabase()).filter((row) => row.includes('Мар’яна')).length).toBeGreaterThan(0);

    await sabine.send('/deleteme');
    await sabine.click('🗑 Ja, alles löschen');
    await h.deliver();
    expect((await dumpDatabase()).filter((row) => row.includes('Мар’яна') || row.includes('Begleitung zum Arzt'))).toEqual([]);
    const [erased] = await h.db.db.select().from(posts).where(eq(posts.id, postId));
    expect(erased).toMatchObject({ text: null, intakeName: null, intakeLanguage: null, status: 'closed' });
    expect(erased!.erasedAt).not.toBeNull();
    expect(await queryRows(h.db.db, sql`select id from posts where intake_name is not null or intake_language is not null`)).toEqual([]);
  });

  it('names the person in what the Lotse alone is told about the need later (the expiry reminder)', async () => {
    const sabine = await lotse();
    await intake(sabine, NAME, NEED, 'Ukrainisch', 'family');
    await h.deliver();
    h.clock.advance(12 * 86_400_000 + 60_000);
    await h.sweep();
    await h.deliver();
    const reminder = sabine.last.text;
    expect(reminder).toContain('⏳ Ihre Anfrage');
    expect(reminder).toContain(`Familie & Kinderbetreuung · Hamborn (#1) · für ${NAME}`);
  });

  it('erases the name with the text when the retention period of an ended need is over', async () => {
    const sabine = await lotse();
    const postId = await intake(sabine, NAME, NEED);
    await sabine.send('/my');
    await sabine.click('🗑 Nicht mehr nötig');
    h.clock.advance(91 * 86_400_000);
    await h.sweep();
    const [row] = await h.db.db.select().from(posts).where(eq(posts.id, postId));
    expect(row).toMatchObject({ text: null, intakeName: null, intakeLanguage: null, intakeOrganisation: 'Caritas' });
  });
});
