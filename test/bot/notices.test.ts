import { eq } from 'drizzle-orm';
import { systemClock } from '../../src/clock';
import { auditLog, notices, outbox, users } from '../../src/db/schema';
import { updateNoticeProgress } from '../../src/delivery/notice-progress';
import { onboard } from '../helpers/flows';
import { type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';
import type { Persona } from '../helpers/updates';

const COORDINATOR: Persona = { id: 999_001, first_name: 'Sabine', language_code: 'de' };
const harness = useHarness({ env: { ADMIN_TELEGRAM_IDS: String(COORDINATOR.id) } });
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

/** A coordinator invites someone as staff of an organisation; returns the invite code. */
async function invite(coordinator: TestUser, organisation: string): Promise<string> {
  await coordinator.send(`/invite ${organisation}`);
  const match = /start=staff_([A-Za-z0-9_-]+)/.exec(coordinator.last.text);
  if (!match) throw new Error(`no invite link in: ${coordinator.last.text}`);
  return match[1]!;
}

async function makeStaff(person: TestUser, organisation = 'Sozialamt Duisburg'): Promise<void> {
  const coordinator = h.user(COORDINATOR);
  const code = await invite(coordinator, organisation);
  await person.send(`/start staff_${code}`);
}

function progress(): Promise<number> {
  return updateNoticeProgress(
    { db: h.db.db, api: h.bot.api, clock: h.clock, i18n: h.deps.i18n, city: h.deps.city, logger: h.deps.logger, rate: 25 },
    { force: true },
  );
}

describe('roles and verification', () => {
  it('refuses staff-only actions to seekers, helpers and revoked staff, in their language', async () => {
    const olena = h.user(PEOPLE.olena);
    const jonas = h.user(PEOPLE.jonas);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await onboard(jonas, 'helper', 'Hamborn');
    for (const command of ['/broadcast', '/invite Caritas', '/staff']) {
      expect((await olena.send(command)).sent[0]?.text).toBe('⛔ У вас немає прав на цю дію.');
      expect((await jonas.send(command)).sent[0]?.text).toBe('⛔ Dafür haben Sie keine Berechtigung.');
    }
    // Forged composer and stop buttons do nothing either.
    // m:broadcast is the main-menu button of staff (an old menu after the rights were revoked).
    for (const data of ['bc:send:-', 'bc:aud:everyone', 'n:stop:1', 'sf:revoke:1', 'm:broadcast']) {
      expect((await jonas.press(data, jonas.last)).answer).toEqual({ text: '⛔ Dafür haben Sie keine Berechtigung.', showAlert: true });
    }
    expect(await h.db.db.select().from(notices)).toHaveLength(0);

    // Staff, then revoked: the composer they had open stops working.
    const maria = h.user(PEOPLE.maria);
    await makeStaff(maria);
    await maria.send('/broadcast');
    const composer = maria.last;
    const coordinator = h.user(COORDINATOR);
    await coordinator.send('/staff');
    await coordinator.click('⛔ 1 entziehen');
    expect((await maria.click('👥 Alle', composer)).answer?.text).toBe('⛔ Dafür haben Sie keine Berechtigung.');
    expect((await maria.send('/broadcast')).sent[0]?.text).toBe('⛔ Dafür haben Sie keine Berechtigung.');
    await h.deliver();
    expect(maria.last.text).toContain('Die Koordination hat Ihnen die Rechte als Mitarbeitende bei Hilfenetz entzogen');
  });

  it('makes single-use, expiring invites and records every grant and revoke', async () => {
    const coordinator = h.user(COORDINATOR);
    await coordinator.send('/start');
    expect((await coordinator.send('/invite')).sent[0]?.text).toContain('/invite Name der Organisation');
    expect((await coordinator.send('/invite X')).sent[0]?.text).toContain('2 bis 80 Zeichen');
    const code = await invite(coordinator, 'Ausländerbehörde Duisburg');
    expect(coordinator.last.text).toContain('https://t.me/hilfenetz_test_bot?start=staff_');
    expect(coordinator.last.text).toContain('Er gilt einmal und bis 05.03.2026, 10:00');

    const irina = h.user(PEOPLE.irina);
    await irina.send(`/start staff_${code}`);
    expect(irina.messages[0]?.text).toContain('Вы подтверждены как сотрудник Ausländerbehörde Duisburg');
    // Said once, not twice (welcome and summary used to repeat it).
    expect(irina.messages[0]?.text.split('Вы подтверждены').length).toBe(2);
    const [row] = await h.db.db.select().from(users).where(eq(users.telegramId, PEOPLE.irina.id));
    expect(row).toMatchObject({ role: 'staff', organisation: 'Ausländerbehörde Duisburg' });

    const petro = h.user(PEOPLE.petro);
    expect((await petro.send(`/start staff_${code}`)).sent[0]?.text).toContain('Це запрошення вже використано');
    expect((await petro.send('/start staff_AAAAAAAAAAAAAAAAAAAAAAAA')).sent[0]?.text).toContain('Такого запрошення немає');
    const late = await invite(coordinator, 'Caritas');
    h.clock.advanceHours(73);
    expect((await petro.send(`/start staff_${late}`)).sent[0]?.text).toContain('Термін дії запрошення минув');
    expect((await h.db.db.select().from(users).where(eq(users.telegramId, PEOPLE.petro.id)))[0]?.role).toBeNull();

    await coordinator.send('/staff');
    expect(coordinator.last.text).toContain('1. Ирина · Ausländerbehörde Duisburg');
    await coordinator.click('🛡 1 zur Koordination');
    await h.deliver();
    expect(irina.last.text).toContain('Теперь вы тоже координируете Hilfenetz');
    const actions = (await h.db.db.select().from(auditLog)).map((a) => a.action);
    expect(actions).toEqual(['invite.created', 'staff.granted', 'invite.created', 'coordinator.granted']);
  });
});

describe('composing and sending a notice', () => {
  async function population() {
    const people = {
      seekerHamUk: h.user({ id: 1001, first_name: 'Оксана', language_code: 'uk' }),
      seekerHamRu: h.user({ id: 1002, first_name: 'Ольга', language_code: 'ru' }),
      helperHamDe: h.user({ id: 1003, first_name: 'Uwe', language_code: 'de' }),
      helperHamUk: h.user({ id: 1004, first_name: 'Тарас', language_code: 'uk' }),
      helperMitteRu: h.user({ id: 1005, first_name: 'Павел', language_code: 'ru' }),
      helperCityUk: h.user({ id: 1006, first_name: 'Ірина', language_code: 'uk' }),
      helperWalsumUk: h.user({ id: 1007, first_name: 'Богдан', language_code: 'uk' }),
    };
    await onboard(people.seekerHamUk, 'seeker', 'Гамборн (Hamborn)');
    await onboard(people.seekerHamRu, 'seeker', 'Хамборн (Hamborn)');
    await onboard(people.helperHamDe, 'helper', 'Hamborn');
    await onboard(people.helperHamUk, 'helper', 'Гамборн (Hamborn)');
    await onboard(people.helperMitteRu, 'helper', 'Центр (Mitte)');
    await onboard(people.helperCityUk, 'helper', '🏙 Увесь Дуйсбург');
    await onboard(people.helperWalsumUk, 'helper', 'Вальзум (Walsum)');
    return people;
  }

  it('reaches exactly the chosen audience, each in the best language, with the organisation verified', async () => {
    const p = await population();
    const staff = h.user(PEOPLE.maria);
    await makeStaff(staff, 'Sozialamt Duisburg');
    await staff.send('/broadcast');
    await staff.click('🤝 Helfende');
    await staff.click('▫️ Hamborn');
    await staff.click('▫️ Mitte');
    await staff.click('Weiter ›');
    await staff.click('▫️ Українська');
    await staff.click('▫️ Русский');
    await staff.click('Weiter ›');
    expect(staff.last.text).toContain('Text auf Ukrainisch (1/2');
    await staff.send('Шукаємо перекладачів для прийому біженців у понеділок о 10:00, Rathaus Hamborn.');
    expect(staff.last.text).toContain('Russisch (2/2');
    await staff.click('⏭ Diese Sprache überspringen');
    await staff.click('➡️ Ohne Anhang weiter');
    const preview = staff.last;
    expect(preview.text).toContain('So sieht die Mitteilung aus');
    expect(preview.text).toContain('☑️ Sozialamt Duisburg (verifiziert)');
    expect(preview.text).toContain('Zielgruppe: 🤝 Helfende');
    expect(preview.text).toContain('Bezirke: Hamborn, Mitte');
    // Helpers in Hamborn or Mitte, or the whole city, speaking uk or ru.
    expect(preview.text).toContain('3 Personen bekommen diese Mitteilung');
    await staff.click('📣 An 3 Personen senden');
    expect(h.telegram.message(PEOPLE.maria.id, preview.messageId)?.text).toContain('Mitteilung #1 wird gesendet');
    expect(staff.buttons(h.telegram.message(PEOPLE.maria.id, preview.messageId))).toEqual(['⏹ Stopp']);

    await h.deliver();
    const got = (u: TestUser) => u.messages.filter((m) => m.text.includes('☑️'));
    expect(got(p.helperHamUk)).toHaveLength(1);
    expect(got(p.helperCityUk)).toHaveLength(1);
    expect(got(p.helperMitteRu)).toHaveLength(1);
    for (const u of [p.seekerHamUk, p.seekerHamRu, p.helperHamDe, p.helperWalsumUk]) expect(got(u)).toHaveLength(0);
    expect(got(p.helperHamUk)[0]!.text).toContain('📣 Оголошення · ☑️ Sozialamt Duisburg (підтверджено)');
    // No Russian text: the Russian speaker gets the Ukrainian one, with a note in Russian.
    expect(got(p.helperMitteRu)[0]!.text).toContain('Этого объявления нет на вашем языке; вот оно на языке: украинский.');
    expect(got(p.helperMitteRu)[0]!.text).toContain('Шукаємо перекладачів');
    expect(p.helperMitteRu.buttons(got(p.helperMitteRu)[0])).toEqual(['⚠️ Пожаловаться']);

    await progress();
    const report = h.telegram.message(PEOPLE.maria.id, preview.messageId)!;
    expect(report.text).toContain('Mitteilung #1 ist gesendet.');
    expect(report.text).toContain('Zugestellt: 3 von 3 · nicht erreichbar: 0 · fehlgeschlagen: 0');
    expect(staff.last.text).toContain('Mitteilung #1 ist gesendet.');
    expect((await h.db.db.select().from(notices))[0]).toMatchObject({ status: 'done', recipientCount: 3 });
    expect((await h.db.db.select().from(auditLog)).map((a) => a.action)).toContain('notice.sent');

    // /notices shows it to those it was meant for, and not to others.
    await p.helperCityUk.send('/notices');
    expect(p.helperCityUk.last.text).toContain('Шукаємо перекладачів');
    await p.helperCityUk.click('1');
    expect(p.helperCityUk.last.text).toContain('Sozialamt Duisburg');
    await p.seekerHamUk.send('/notices');
    expect(p.seekerHamUk.last.text).toContain('Для вас ще немає оголошень');
  });

  it('answers a forged "next" or "back" on a step without one with the stale hint, once, and no apology', async () => {
    const coordinator = h.user(COORDINATOR);
    await coordinator.send('/broadcast');
    const composer = coordinator.last;
    expect(coordinator.buttons(composer)).toContain('👥 Alle');
    for (const data of ['bc:next:-', 'bc:back:-']) {
      const r = await coordinator.press(data, composer);
      expect(r.answer).toEqual({ text: expect.stringContaining('nicht mehr aktuell'), showAlert: true });
      expect(r.sent).toEqual([]);
    }
    // The composer still works from where it was.
    await coordinator.click('👥 Alle', composer);
    expect(coordinator.buttons()).toContain('Weiter ›');
  });

  it('shows a button step again under the hint, in one message, when text is typed instead', async () => {
    const coordinator = h.user(COORDINATOR);
    await coordinator.send('/broadcast');
    const typed = await coordinator.send('an alle bitte');
    expect(typed.sent).toHaveLength(1);
    expect(typed.sent[0]!.text).toMatch(/^Bitte wählen Sie mit den Knöpfen unten\. Abbrechen: \/cancel\n\n/);
    expect(coordinator.buttons(typed.sent[0])).toContain('👥 Alle');

    // The longest preview still takes the hint: a German text of 3,497 of the 3,500 characters allowed.
    await coordinator.click('👥 Alle', typed.sent[0]);
    await coordinator.click('Weiter ›');
    await coordinator.click('Weiter ›');
    await coordinator.send(`${'Termine '.repeat(436)}ab 9 Uhr.`);
    await coordinator.click('⏭ Diese Sprache überspringen');
    await coordinator.click('⏭ Diese Sprache überspringen');
    await coordinator.click('➡️ Ohne Anhang weiter');
    const again = await coordinator.send('senden');
    expect(again.sent).toHaveLength(1);
    expect(again.sent[0]!.text).toMatch(/^Bitte wählen Sie mit den Knöpfen unten\. Abbrechen: \/cancel\n\n[^]*Termine Termine[^]*ab 9 Uhr\./);
    expect(coordinator.buttons(again.sent[0])).toEqual(['✏️ Deutsch', '‹ Zurück', '✖️ Abbrechen']); // nobody to send to here
  });

  it('counts a preview as Telegram does: a text full of "&" still takes the hint in one message', async () => {
    const coordinator = h.user(COORDINATOR);
    await coordinator.send('/broadcast');
    await coordinator.click('👥 Alle');
    await coordinator.click('Weiter ›');
    await coordinator.click('Weiter ›');
    // 3,480 characters; as HTML ("&amp;") 6,960, far over Telegram's 4,096, which counts the characters.
    await coordinator.send('Q&A '.repeat(870).trim());
    await coordinator.click('⏭ Diese Sprache überspringen');
    await coordinator.click('⏭ Diese Sprache überspringen');
    await coordinator.click('➡️ Ohne Anhang weiter');
    const again = await coordinator.send('senden');
    expect(again.sent).toHaveLength(1);
    expect(again.sent[0]!.text).toMatch(/^Bitte wählen Sie mit den Knöpfen unten\. Abbrechen: \/cancel\n\n[^]*Q&A Q&A/);
    expect(coordinator.buttons(again.sent[0])).toEqual(['✏️ Deutsch', '‹ Zurück', '✖️ Abbrechen']);
  });

  it('sends with a photo, falls back to German, and refuses texts too long for a caption', async () => {
    const p = await population();
    const coordinator = h.user(COORDINATOR);
    await coordinator.send('/broadcast');
    await coordinator.click('👥 Alle');
    await coordinator.click('Weiter ›');
    await coordinator.click('Weiter ›');
    await coordinator.send('Neue Termine im Bürgerbüro: ab Montag auch samstags 9–13 Uhr.');
    await coordinator.send('x'.repeat(1000));
    expect(coordinator.last.text).toContain('Russisch (3/3');
    await coordinator.click('⏭ Diese Sprache überspringen');
    const tooLong = await coordinator.sendPhoto();
    expect(tooLong.sent[0]?.text).toContain('höchstens 900 Zeichen');
    await coordinator.click('‹ Zurück');
    await coordinator.click('‹ Zurück');
    await coordinator.send('Нові терміни в Bürgerbüro: з понеділка також по суботах 9–13.');
    await coordinator.click('⏭ Diese Sprache überspringen');
    await coordinator.sendPhoto();
    expect(coordinator.last.text).toContain('📷 Foto angehängt');
    expect(coordinator.last.text).toContain('7 Personen bekommen');
    await coordinator.click('📣 An 7 Personen senden');
    await h.deliver();
    const ru = p.seekerHamRu.messages.find((m) => m.kind === 'photo')!;
    expect(ru.text).toContain('вот оно на языке: немецкий');
    expect(ru.text).toContain('Neue Termine im Bürgerbüro');
    const uk = p.helperWalsumUk.messages.find((m) => m.kind === 'photo')!;
    expect(uk.text).toContain('Нові терміни в Bürgerbüro');
  });

  it('stops a broadcast: nothing more is sent, the report says how many were not sent', async () => {
    await population();
    const coordinator = h.user(COORDINATOR);
    await coordinator.send('/broadcast');
    await coordinator.click('👥 Alle');
    await coordinator.click('Weiter ›');
    await coordinator.click('Weiter ›');
    await coordinator.send('Test der Mitteilung, bitte ignorieren.');
    await coordinator.click('⏭ Diese Sprache überspringen');
    await coordinator.click('⏭ Diese Sprache überspringen');
    await coordinator.click('➡️ Ohne Anhang weiter');
    await coordinator.click('📣 An 7 Personen senden');
    const stopped = await coordinator.click('⏹ Stopp');
    expect(stopped.answer?.text).toBe('Gestoppt');
    expect(coordinator.last.text).toContain('Mitteilung #1 wurde gestoppt.');
    expect(coordinator.last.text).toContain('Nicht gesendet: 7 (gestoppt)');
    await h.deliver();
    expect(h.telegram.callsOf('sendMessage').filter((c) => String(c.payload.text).includes('Test der Mitteilung'))).toHaveLength(0);
    expect((await coordinator.press('n:stop:1', coordinator.last)).answer?.text).toBe('Diese Mitteilung wird nicht mehr gesendet.');
  });

  it('delivers through 429s and 403s: every reachable person once, blocked people marked', async () => {
    const p = await population();
    p.helperHamDe.harness.telegram.block(1003);
    p.helperHamDe.harness.telegram.block(1005);
    h.telegram.ratePerSecond = 3;
    const coordinator = h.user(COORDINATOR);
    await coordinator.send('/broadcast');
    await coordinator.click('👥 Alle');
    await coordinator.click('Weiter ›');
    await coordinator.click('Weiter ›');
    await coordinator.send('Wichtig: Die Beratungsstelle zieht um.');
    await coordinator.click('⏭ Diese Sprache überspringen');
    await coordinator.click('⏭ Diese Sprache überspringen');
    await coordinator.click('➡️ Ohne Anhang weiter');
    await coordinator.click('📣 An 7 Personen senden');
    const stats = await h.deliveryWorker({ clock: systemClock, rate: 10 }).drain({ waitForRetriesMs: 5_000 });
    expect(stats.rateLimited).toBeGreaterThan(0);
    expect(stats.sent).toBe(5);
    expect(stats.unreachable).toBe(2);
    const perChat = h.telegram.sentCountByChat();
    for (const id of [1001, 1002, 1004, 1006, 1007]) {
      expect(h.telegram.messages(id).filter((m) => m.text.includes('Beratungsstelle zieht um'))).toHaveLength(1);
    }
    expect(h.telegram.messages(1003).filter((m) => m.text.includes('Beratungsstelle'))).toHaveLength(0);
    expect(perChat.get(1003)).toBe(1); // only the onboarding summary
    const blocked = await h.db.db.select().from(users).where(eq(users.telegramId, 1003));
    expect(blocked[0]?.blockedAt).toBeInstanceOf(Date);
    expect((await h.db.db.select().from(outbox).where(eq(outbox.status, 'unreachable'))).length).toBe(2);
    await progress();
    expect(coordinator.last.text).toContain('Zugestellt: 5 von 7 · nicht erreichbar: 2');
  });
});
