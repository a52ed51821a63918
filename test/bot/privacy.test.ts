import { eq, getTableName, sql } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { queryRows } from '../../src/db';
import { privacyData } from '../../src/bot/features/privacy';
import * as schema from '../../src/db/schema';
import type { collectUserData } from '../../src/domain/privacy';
import { auditLog, blocks, contacts, notifications, outbox, posts, relayMessages, reports, sessions, subscriptions, users } from '../../src/db/schema';
import { createLogger } from '../../src/logger';
import { clickDistrict, onboard, post, subscribe } from '../helpers/flows';
import { createHarness, type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';
import type { Persona } from '../helpers/updates';
import { verifyPeople } from '../helpers/verification';

/** The person who asks for her data and then has it deleted: a seeker with a Telegram username. */
const SOFIIA: Persona = { id: 380_733, first_name: 'Софія', username: 'sofiia_dnipro', language_code: 'uk' };

const NEED_TEXT = 'Шукаю квартиру для мене і сина в Гамборні, з травня. Є довідка з Jobcenter.';
const SECOND_NEED = 'Потрібна допомога із заявою на Kindergeld, бажано цього тижня.';
const SOFIIA_SAYS = 'Дякую! Мені зручно у вівторок після обіду.';
const SOFIIA_CAPTION = 'Ось фото довідки';
const JONAS_SAYS = 'Hallo! Ich kenne eine Vermieterin in Hamborn.';

/** What /mydata exports, before it becomes JSON. */
type UserDataExport = Awaited<ReturnType<typeof collectUserData>>;
/** What JSON makes of a value: dates become ISO strings. */
type AsJson<T> = T extends Date ? string : T extends (infer U)[] ? AsJson<U>[] : T extends object ? { [K in keyof T]: AsJson<T[K]> } : T;
/** The file /mydata sends, as its reader sees it. */
const readExport = (text: string) => JSON.parse(text) as AsJson<UserDataExport & { exportedAt: Date }>;

/** /need with a photo, through the dialog's buttons (Ukrainian labels). */
async function postNeedWithPhoto(user: TestUser, category: string, district: string, text: string): Promise<string> {
  await user.send('/need');
  await user.click(category);
  await clickDistrict(user, district);
  await user.send(text);
  await user.sendPhoto();
  const fileId = user.harness.telegram.messages(user.id, { includeUser: true }).filter((m) => m.kind === 'user' && m.file?.fileId).at(-1)!.file!.fileId!;
  await user.click('✅ Опублікувати');
  return fileId;
}

/** Every row of every table, cast to text: what a look into the database would find. */
async function dumpDatabase(h: Harness): Promise<{ table: string; row: string }[]> {
  const tables = (Object.values(schema) as unknown[]).filter((v): v is PgTable => v instanceof PgTable).map((t) => getTableName(t));
  const rows: { table: string; row: string }[] = [];
  for (const table of tables) {
    const found = await queryRows<{ row: string }>(h.db.db, sql.raw(`select t::text as row from "${table}" t`));
    rows.push(...found.map((r) => ({ table, row: r.row })));
  }
  return rows;
}

/** Where in the database a value occurs (numbers only as whole numbers, not inside longer ones). */
function occurrences(dump: { table: string; row: string }[], needle: string | number): string[] {
  const matches =
    typeof needle === 'number' ? (row: string) => new RegExp(`(^|[^0-9])${needle}([^0-9]|$)`).test(row) : (row: string) => row.includes(needle);
  return dump.filter((d) => matches(d.row)).map((d) => `${d.table}: ${d.row}`);
}

describe('privacy', () => {
  const harness = useHarness();
  let h: Harness;
  beforeEach(async () => {
    h = harness.current;
  });

  /**
   * Sofiia posts a need with a photo, Jonas helps and they write both ways (she also sends a photo);
   * her second need has an offer of help from Maria still waiting for an answer.
   */
  async function conversation() {
    const sofiia = h.user(SOFIIA);
    const jonas = h.user(PEOPLE.jonas);
    const maria = h.user(PEOPLE.maria);
    await onboard(sofiia, 'seeker', 'Гамборн (Hamborn)');
    await subscribe(sofiia, ['📦 Пожертви та речі'], ['🏙 Увесь Дуйсбург']);
    await onboard(jonas, 'helper', 'Hamborn');
    await subscribe(jonas, ['🏠 Wohnen'], ['Hamborn']);
    await verifyPeople(h, jonas); // housing is protected: verified helpers only
    await onboard(maria, 'helper', 'Mitte');
    await subscribe(maria, ['🏛 Behörden & Formulare'], ['🏙 Ganz Duisburg']);

    const postPhoto = await postNeedWithPhoto(sofiia, '🏠 Житло', 'Гамборн (Hamborn)', NEED_TEXT);
    await h.deliver();
    await jonas.click('🤝 Ich kann helfen', jonas.find('Neue Anfrage'));
    await h.deliver();
    await sofiia.click('✅ Прийняти', sofiia.find('Хтось хоче допомогти!'));
    await h.deliver();
    await jonas.send(JONAS_SAYS);
    await h.deliver();
    await sofiia.send(SOFIIA_SAYS);
    await sofiia.sendPhoto(SOFIIA_CAPTION);
    const relayPhoto = h.telegram.messages(SOFIIA.id, { includeUser: true }).filter((m) => m.kind === 'user' && m.file?.fileId).at(-1)!.file!.fileId!;
    await h.deliver();
    expect(jonas.last.text).toContain(SOFIIA_CAPTION);

    await post(sofiia, 'need', '🏛 Установи та документи', 'Гамборн (Hamborn)', SECOND_NEED);
    await h.deliver();
    await maria.click('🤝 Ich kann helfen', maria.find('Neue Anfrage'));
    // Jonas offers something; Sofiia, subscribed to donations, is told about it.
    await post(jonas, 'offer', '📦 Spenden & Sachspenden', 'Hamborn', 'Kinderbett und Kinderwagen abzugeben, Abholung in Hamborn.');
    await h.deliver();
    expect(sofiia.find('Нова пропозиція')).toBeDefined();
    return { sofiia, jonas, maria, postPhoto, relayPhoto };
  }

  async function sofiiaRow() {
    const [row] = await h.db.db.select().from(users).where(eq(users.telegramId, SOFIIA.id));
    return row!;
  }

  describe('/privacy', () => {
    it.each([
      ['uk', PEOPLE.olena, ['Захист даних', 'Номер телефону нам не потрібен', 'видимі 14 днів', 'через 90 днів після закриття', '/mydata', '/deleteme']],
      ['de', PEOPLE.jonas, ['Datenschutz', 'Eine Telefonnummer brauchen wir nicht', '14 Tage lang sichtbar', '90 Tage nach dem Schließen', '/mydata', '/deleteme']],
      ['ru', PEOPLE.irina, ['Защита данных', 'Номер телефона нам не нужен', 'видны 14 дней', 'через 90 дней после закрытия', '/mydata', '/deleteme']],
    ] as const)('explains what is stored, why, how long and who sees it (%s)', async (_locale, persona, expected) => {
      const user = h.user(persona);
      const { sent } = await user.send('/privacy');
      expect(sent).toHaveLength(1);
      for (const phrase of expected) expect(sent[0]!.text).toContain(phrase);
      expect(sent[0]!.text.length).toBeLessThan(1800);
    });

    it('takes the durations from the configuration', async () => {
      const other = await createHarness({ db: h.db, clock: h.clock, env: { RETENTION_DAYS: '31', POST_TTL_DAYS: '21' } });
      const { sent } = await other.user(PEOPLE.olena).send('/privacy');
      expect(sent[0]!.text).toContain('видимі 21 день');
      expect(sent[0]!.text).toContain('через 31 день після закриття');
      expect(sent[0]!.text).toContain('через 31 день після надсилання');
    });
  });

  describe('/mydata', () => {
    it('sends a JSON file with everything about the user and nothing personal about the partner', async () => {
      const { sofiia, jonas, postPhoto, relayPhoto } = await conversation();
      const { sent } = await sofiia.send('/mydata');
      expect(sent).toHaveLength(1);
      const document = sent[0]!;
      expect(document.kind).toBe('document');
      expect(document.file?.name).toBe('hilfenetz-data-2026-03-02.json');
      expect(document.text).toContain('Усі дані, які Hilfenetz зберігає про вас');
      const raw = document.file!.content!.toString('utf8');
      const data = readExport(raw);

      expect(data.profile).toMatchObject({ telegramId: SOFIIA.id, firstName: 'Софія', username: 'sofiia_dnipro', locale: 'uk', role: 'seeker', district: 'hamborn' });
      expect(data.posts.map((p) => p.text)).toEqual([NEED_TEXT, SECOND_NEED]);
      expect(data.posts[0]!.photoFileId).toBe(postPhoto);
      expect(data.subscriptions).toEqual([expect.objectContaining({ kind: 'offer', category: 'donations', district: '*' })]);
      expect(data.contacts).toEqual([
        expect.objectContaining({ yourSide: 'author', partner: { role: 'helper', firstName: 'Jonas' }, status: 'accepted' }),
        expect.objectContaining({ yourSide: 'author', partner: { role: 'helper', firstName: 'Maria' }, status: 'offered' }),
      ]);
      expect(data.relayMessages.sent.map((m) => m.text)).toEqual([SOFIIA_SAYS, SOFIIA_CAPTION]);
      expect(data.relayMessages.sent[1]!.photoFileId).toBe(relayPhoto);
      expect(data.relayMessages.received.map((m) => m.text)).toEqual([JONAS_SAYS]);
      expect(data.notifications).toEqual({ count: 1, postIds: [3], answers: [] });
      // Everything that went to her, in order, all sent (the clock stood still): Jonas's offer of help on her
      // first need, his message, Maria's offer on her second need, and Jonas's offer matching her subscription.
      const at = h.clock.now().toISOString();
      const delivered = (kind: string, postId: number): unknown => expect.objectContaining({ kind, postId, noticeId: null, status: 'sent', createdAt: at, sentAt: at });
      expect(data.outbox).toEqual([delivered('contact.request', 1), delivered('relay', 1), delivered('contact.request', 2), delivered('post.notify', 3)]);
      expect(data.session).toEqual(expect.objectContaining({ value: expect.any(Object) }));
      expect(data.reportsMade).toEqual([]);
      expect(data.reportsAboutYou).toEqual({ count: 0, open: 0, items: [] });
      expect(data.exportedAt).toBe(h.clock.now().toISOString());

      // Nothing that identifies the people she talked to beyond the first name she saw.
      const [jonasRow] = await h.db.db.select().from(users).where(eq(users.telegramId, PEOPLE.jonas.id));
      expect(raw).not.toContain('jonas_hilft');
      expect(raw).not.toMatch(new RegExp(`(^|[^0-9])${PEOPLE.jonas.id}([^0-9]|$)`));
      expect(raw).not.toMatch(new RegExp(`(^|[^0-9])${PEOPLE.maria.id}([^0-9]|$)`));
      expect(raw).not.toContain(`"authorId": ${jonasRow!.id}`);
      expect(raw).not.toContain('responderId');
      expect(raw).not.toContain('senderId');

      // The other side's export shows her the same way.
      const theirs = readExport((await jonas.send('/mydata')).sent[0]!.file!.content!.toString('utf8'));
      expect(theirs.contacts[0]!.partner).toEqual({ role: 'seeker', firstName: 'Софія' });
      expect(theirs.notifications.count).toBe(1);
      expect(JSON.stringify(theirs)).not.toContain('sofiia_dnipro');
      expect(JSON.stringify(theirs)).not.toContain(String(SOFIIA.id));
    });

    it('includes reports made by the user and, without the reporter, reports about them', async () => {
      const olena = h.user(PEOPLE.olena);
      const jonas = h.user(PEOPLE.jonas);
      await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
      await onboard(jonas, 'helper', 'Hamborn');
      await post(jonas, 'offer', '🏠 Wohnen', 'Hamborn', 'Zimmer frei in Hamborn für eine Person, ab sofort.');
      const [o] = await h.db.db.select().from(users).where(eq(users.telegramId, PEOPLE.olena.id));
      const [j] = await h.db.db.select().from(users).where(eq(users.telegramId, PEOPLE.jonas.id));
      const now = h.clock.now();
      await h.db.db.insert(reports).values([
        { reporterId: o!.id, targetType: 'post', targetId: 1, targetUserId: j!.id, reason: 'spam', status: 'open', createdAt: now },
        { reporterId: j!.id, targetType: 'post', targetId: 99, targetUserId: o!.id, reason: 'harassment', status: 'dismissed', createdAt: now, handledBy: j!.id },
      ]);
      await h.db.db.insert(blocks).values({ blockerId: o!.id, blockedId: j!.id, createdAt: now });

      const data = readExport((await olena.send('/mydata')).sent[0]!.file!.content!.toString('utf8'));
      expect(data.reportsMade).toEqual([expect.objectContaining({ targetType: 'post', targetId: 1, reason: 'spam', status: 'open' })]);
      expect(data.reportsAboutYou).toEqual({ count: 1, open: 0, items: [{ targetType: 'post', targetId: 99, reason: 'harassment', status: 'dismissed', action: null }] });
      expect(data.blocksMade).toEqual([{ blocked: { role: 'helper', firstName: 'Jonas' }, createdAt: now.toISOString() }]);

      const about = readExport((await jonas.send('/mydata')).sent[0]!.file!.content!.toString('utf8'));
      expect(about.reportsAboutYou.items[0]).toEqual({ targetType: 'post', targetId: 1, reason: 'spam', status: 'open', action: null });
      expect(JSON.stringify(about.reportsAboutYou)).not.toContain('reporter');
      // Blocks against a person are never revealed to them.
      expect(about.blocksMade).toEqual([]);
      expect(JSON.stringify(about)).not.toContain('Олена');
    });
  });

  describe('/deleteme', () => {
    it('asks first and keeps everything when the user says no', async () => {
      const olena = h.user(PEOPLE.olena);
      await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
      const { sent } = await olena.send('/deleteme');
      expect(sent[0]!.text).toContain('Видалити всі ваші дані?');
      expect(sent[0]!.text).toContain('Цю дію не можна скасувати.');
      expect(olena.buttons(sent[0])).toEqual(['🗑 Так, видалити все', '✖️ Ні, залишити']);

      const { edited } = await olena.click('✖️ Ні, залишити');
      expect(edited[0]!.text).toContain('Нічого не видалено');
      expect(olena.buttons(edited[0])).toEqual([]);
      const [row] = await h.db.db.select().from(users).where(eq(users.telegramId, PEOPLE.olena.id));
      expect(row).toMatchObject({ firstName: 'Олена', deletedAt: null });
    });

    it('asks in German and in Russian too', async () => {
      expect((await h.user(PEOPLE.jonas).send('/deleteme')).sent[0]!.text).toContain('Das kann nicht rückgängig gemacht werden.');
      expect((await h.user(PEOPLE.irina).send('/deleteme')).sent[0]!.text).toContain('Это нельзя отменить.');
      expect(h.user(PEOPLE.irina).buttons()).toEqual(['🗑 Да, удалить всё', '✖️ Нет, оставить']);
    });

    it('erases everything personal, tells the partner, and lets the user start fresh', async () => {
      const { sofiia, jonas, maria, postPhoto, relayPhoto } = await conversation();
      const before = await sofiiaRow();
      const now = h.clock.now();
      // A report she made and one about her, and a block she made: they stay, anonymous.
      const [jonasRow] = await h.db.db.select().from(users).where(eq(users.telegramId, PEOPLE.jonas.id));
      await h.db.db.insert(reports).values([
        { reporterId: before.id, targetType: 'post', targetId: 3, targetUserId: jonasRow!.id, reason: 'spam', status: 'open', createdAt: now },
        { reporterId: jonasRow!.id, targetType: 'relay', targetId: 2, targetUserId: before.id, reason: 'other', status: 'open', createdAt: now },
      ]);
      const [mariaRow] = await h.db.db.select().from(users).where(eq(users.telegramId, PEOPLE.maria.id));
      await h.db.db.insert(blocks).values({ blockerId: before.id, blockedId: mariaRow!.id, createdAt: now });
      // Before: the scan below does find her data.
      const dumpBefore = await dumpDatabase(h);
      for (const needle of ['Софія', 'sofiia_dnipro', SOFIIA.id, NEED_TEXT, SOFIIA_SAYS, postPhoto, relayPhoto]) {
        expect({ needle, found: occurrences(dumpBefore, needle).length > 0 }).toEqual({ needle, found: true });
      }
      // Something still queued for her, e.g. a reply Jonas just wrote.
      await jonas.send('Passt Dienstag um 15 Uhr?');

      const question = (await sofiia.send('/deleteme')).sent[0]!;
      const { edited, answer } = await sofiia.click('🗑 Так, видалити все');
      expect(answer).toEqual({ text: undefined, showAlert: false });
      expect(edited[0]!.text).toContain('Ваші дані видалено.');
      expect(edited[0]!.text).toContain('/start');
      expect(sofiia.buttons(edited[0])).toEqual([]);
      expect(h.telegram.callsOf('deleteMyCommands').at(-1)?.payload).toMatchObject({ scope: { type: 'chat', chat_id: SOFIIA.id } });

      // The partner of the open conversation and the helper who was waiting are told, nothing more.
      const sentBefore = h.telegram.messages(SOFIIA.id).length;
      await h.deliver();
      expect(jonas.last.text).toContain('Das Gespräch zu 🏠 Wohnen · Hamborn (#1) wurde beendet');
      expect(jonas.messages.filter((m) => m.text.includes('wurde beendet'))).toHaveLength(1);
      expect(maria.last.text).toContain('wurde inzwischen geschlossen');
      expect(maria.messages.filter((m) => m.text.includes('wurde inzwischen geschlossen') || m.text.includes('wurde beendet'))).toHaveLength(1);
      expect(h.telegram.messages(SOFIIA.id)).toHaveLength(sentBefore);

      // What remains.
      const [gone] = await h.db.db.select().from(users).where(eq(users.id, before.id));
      expect(gone).toMatchObject({ telegramId: -before.id, firstName: null, username: null, role: 'seeker', district: 'hamborn', locale: 'uk', notificationsPaused: true, dailyCap: null, quietStart: null });
      expect(gone!.deletedAt).toEqual(h.clock.now());
      const own = await h.db.db.select().from(posts).where(eq(posts.authorId, before.id));
      expect(own.map((p) => [p.status, p.text, p.photoFileId, p.textHash])).toEqual([
        ['closed', null, null, null],
        ['closed', null, null, null],
      ]);
      expect(own.every((p) => p.erasedAt !== null)).toBe(true);
      expect((await h.db.db.select().from(contacts)).map((c) => c.status).sort()).toEqual(['cancelled', 'ended']);
      const relays = await h.db.db.select().from(relayMessages);
      expect(relays.filter((r) => r.senderId === before.id).map((r) => [r.text, r.photoFileId])).toEqual([
        [null, null],
        [null, null],
      ]);
      // What Jonas wrote to her is his, not hers; retention erases it later.
      expect(relays.filter((r) => r.senderId === jonasRow!.id).map((r) => r.text)).toEqual([JONAS_SAYS, 'Passt Dienstag um 15 Uhr?']);
      expect(await h.db.db.select().from(subscriptions).where(eq(subscriptions.userId, before.id))).toEqual([]);
      expect(await h.db.db.select().from(notifications).where(eq(notifications.userId, before.id))).toEqual([]);
      expect(await h.db.db.select().from(sessions).where(eq(sessions.key, String(SOFIIA.id)))).toEqual([]);
      const queued = await h.db.db.select().from(outbox).where(eq(outbox.userId, before.id));
      expect(queued.filter((r) => r.status === 'pending')).toEqual([]);
      expect(queued.filter((r) => r.status === 'cancelled').length).toBeGreaterThan(0);
      expect((await h.db.db.select().from(reports)).map((r) => [r.reporterId, r.targetUserId])).toEqual([
        [before.id, jonasRow!.id],
        [jonasRow!.id, before.id],
      ]);
      expect(await h.db.db.select().from(blocks)).toHaveLength(1);
      expect((await h.db.db.select().from(auditLog)).map((a) => a.action)).toEqual(['user.deleted']);

      // Nowhere in the database: not her name, username, Telegram id, texts or photo ids.
      const dump = await dumpDatabase(h);
      for (const needle of ['Софія', 'sofiia_dnipro', SOFIIA.id, NEED_TEXT, SECOND_NEED, SOFIIA_SAYS, SOFIIA_CAPTION, postPhoto, relayPhoto]) {
        expect({ needle, found: occurrences(dump, needle) }).toEqual({ needle, found: [] });
      }
      // The check itself finds things: the partner is still there.
      expect(occurrences(dump, 'jonas_hilft')).not.toEqual([]);
      expect(occurrences(dump, PEOPLE.jonas.id)).not.toEqual([]);

      // The deletion cannot be repeated from the old button, and /start begins a new profile.
      const { sent } = await sofiia.send('/start');
      expect(sent[0]!.text).toContain('Вітаємо в Hilfenetz, Софія!');
      const fresh = await sofiiaRow();
      expect(fresh.id).not.toBe(before.id);
      expect(fresh).toMatchObject({ firstName: 'Софія', username: 'sofiia_dnipro', role: null, onboardedAt: null, deletedAt: null });
      // The old question lost its buttons; a replayed press is refused and deletes nothing.
      const stale = await sofiia.press(privacyData.encode({ action: 'delete', id: before.id }), question);
      expect(stale.answer?.showAlert).toBe(true);
      expect((await sofiiaRow()).deletedAt).toBeNull();
      await sofiia.click('🙋 Мені потрібна допомога');
      await sofiia.click('Гамборн (Hamborn)');
      expect(sofiia.last.text).toContain('Усе готово.');
      expect(await h.db.db.select().from(users).where(eq(users.telegramId, SOFIIA.id))).toHaveLength(1);
    });

    it('leaves the new profile alone when a helper deletes and the sweep runs', async () => {
      const jonas = h.user(PEOPLE.jonas);
      await onboard(jonas, 'helper', 'Hamborn');
      await subscribe(jonas, ['🏠 Wohnen'], ['Hamborn']);
      await verifyPeople(h, jonas); // housing is protected: verified helpers only
      await jonas.send('/deleteme');
      await jonas.click('🗑 Ja, alles löschen');
      expect(jonas.last.text).toContain('Ihre Daten wurden gelöscht.');
      await h.sweep();
      // A need in his old district reaches nobody: his subscriptions are gone.
      const olena = h.user(PEOPLE.olena);
      await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
      await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', 'Шукаю кімнату в Гамборні на два місяці, з квітня.');
      await h.deliver();
      expect(jonas.find('Neue Anfrage')).toBeUndefined();
    });
  });
});

describe('logs', () => {
  const lines: string[] = [];
  const logger = createLogger('trace', { write: (line: string) => void lines.push(line) });
  const harness = useHarness({ logger });

  it('never contain message texts or phone numbers', async () => {
    const h = harness.current;
    lines.length = 0;
    const olena = h.user(PEOPLE.olena);
    const jonas = h.user(PEOPLE.jonas);
    const petro = h.user(PEOPLE.petro);
    const secrets = {
      post: 'GEHEIM-Anfrage: Wohnung gesucht, bitte anrufen unter +49 176 12345678',
      relay: 'GEHEIM-Relay Rufen Sie mich an: 0176 9876543',
      caption: 'GEHEIM-Foto meiner Aufenthaltserlaubnis',
      draft: 'GEHEIM-Entwurf, Telefon 0151 2223334, bitte melden',
    };

    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await onboard(jonas, 'helper', 'Hamborn');
    await subscribe(jonas, ['🏠 Wohnen'], ['Hamborn']);
    await verifyPeople(h, jonas); // housing is protected: verified helpers only
    await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', secrets.post);
    await h.deliver();
    await jonas.click('🤝 Ich kann helfen', jonas.find('Neue Anfrage'));
    await h.deliver();
    await olena.click('✅ Прийняти', olena.find('Хтось хоче допомогти!'));
    await h.deliver();
    await jonas.send(secrets.relay);
    await olena.sendPhoto(secrets.caption);
    // A relayed message that Telegram refuses, and a reply with the user's text that fails: both are logged.
    h.telegram.failNext('sendMessage', 400, 'Bad Request: can\'t parse entities');
    await h.deliver();
    await onboard(petro, 'seeker', 'Центр (Mitte)');
    await petro.send('/need');
    await petro.click('🏠 Житло');
    await clickDistrict(petro, 'Центр (Mitte)');
    h.telegram.failNext('sendMessage', 400, 'Bad Request: message is too long');
    await petro.send(secrets.draft);
    h.clock.advanceDays(120);
    await h.sweep();
    await olena.send('/mydata');
    await olena.send('/deleteme');
    await olena.click('🗑 Так, видалити все');
    await h.deliver();

    const output = lines.join('');
    expect(output).toContain('message could not be delivered');
    expect(output).toContain('update failed');
    expect(output).toContain('user data deleted');
    expect(output).toContain('sweep done');
    // The prefix as typed ('0151 '): a bare '0151' also turns up inside timestamps and durations.
    for (const needle of ['GEHEIM', '12345678', '9876543', '2223334', '176 1234', '0151 ']) {
      expect({ needle, found: output.includes(needle) }).toEqual({ needle, found: false });
    }
  });
});
