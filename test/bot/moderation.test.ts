import { eq } from 'drizzle-orm';
import { auditLog, posts, reports, users } from '../../src/db/schema';
import { onboard, post, subscribe } from '../helpers/flows';
import { createHarness, type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';
import type { Persona } from '../helpers/updates';
import { verifyPeople } from '../helpers/verification';

const COORDINATOR: Persona = { id: 999_001, first_name: 'Sabine', language_code: 'de' };
const COORDINATOR_UK: Persona = { id: 999_002, first_name: 'Оксана', language_code: 'uk' };
const harness = useHarness({ env: { ADMIN_TELEGRAM_IDS: `${COORDINATOR.id},${COORDINATOR_UK.id}` } });
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

async function row(telegramId: number) {
  return (await h.db.db.select().from(users).where(eq(users.telegramId, telegramId)))[0]!;
}

/** Olena (uk seeker) posts a need; Jonas and Maria (de helpers) are notified; Jonas offers help, she accepts. */
async function scene() {
  const olena = h.user(PEOPLE.olena);
  const jonas = h.user(PEOPLE.jonas);
  const maria = h.user(PEOPLE.maria);
  await onboard(jonas, 'helper', 'Hamborn');
  await subscribe(jonas, ['🏠 Wohnen'], ['Hamborn']);
  await verifyPeople(h, jonas); // housing is protected: verified helpers only
  await onboard(maria, 'helper', 'Hamborn');
  await subscribe(maria, ['🏠 Wohnen'], ['Hamborn']);
  await verifyPeople(h, maria); // housing is protected: verified helpers only
  await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
  await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', 'Шукаю кімнату для себе й доньки.');
  await h.deliver();
  await jonas.click('🤝 Ich kann helfen');
  await h.deliver();
  await olena.click('✅ Прийняти');
  await h.deliver();
  return { olena, jonas, maria };
}

async function report(user: TestUser, on: Parameters<TestUser['click']>[1], buttonLabel: string, reason: string) {
  await user.click(buttonLabel, on);
  return user.click(reason);
}

describe('reporting', () => {
  it('reports a post, a relayed message and a notice; the reporter is thanked, never revealed', async () => {
    const { olena, jonas, maria } = await scene();
    const card = maria.find('Neue Anfrage')!;
    await maria.click('⚠️ Melden', card);
    expect(maria.last.text).toContain('Warum möchten Sie das melden?');
    expect(maria.buttons()).toEqual(['💸 Spam oder Betrug', '😡 Belästigung', '🔞 Unangemessen', '❓ Anderes', '✖️ Abbrechen']);
    const thanks = await maria.click('💸 Spam oder Betrug');
    expect(thanks.answer?.text).toBe('Danke, gemeldet');
    expect(maria.last.text).toContain('Danke für Ihre Meldung.');
    // Again: refused politely.
    const again = await report(maria, card, '⚠️ Melden', '💸 Spam oder Betrug');
    expect(again.answer).toEqual({ text: 'Sie haben das schon gemeldet – danke! Unser Team kümmert sich darum.', showAlert: true });

    // A relayed message can be reported by its recipient, who is offered to block the sender.
    await jonas.send('Schicken Sie mir Geld, dann helfe ich.');
    await h.deliver();
    const relayed = olena.find('Schicken Sie mir Geld')!;
    await report(olena, relayed, '⚠️ Поскаржитися', '💸 Спам або шахрайство');
    expect(olena.last.text).toContain('Дякуємо за скаргу.');
    expect(olena.buttons()).toEqual(['🚫 Завершити й заблокувати']);
    // Somebody else cannot report it (forged data).
    const forged = await maria.press('r:relay:1:spam', maria.last);
    expect(forged.answer?.text).toBe('Das kann nicht (mehr) gemeldet werden.');
    // Nobody is told who reported.
    await h.deliver();
    expect(olena.messages.some((m) => m.text.includes('Maria'))).toBe(false);
    expect(jonas.messages.some((m) => /Meldung|gemeldet/.test(m.text))).toBe(false);
    expect(await h.db.db.select().from(reports)).toHaveLength(2);
  });

  it('tells coordinators about new reports in batches, not one message per report', async () => {
    const { maria, jonas } = await scene();
    const coordinator = h.user(COORDINATOR);
    const coordinatorUk = h.user(COORDINATOR_UK);
    await coordinator.send('/start');
    await coordinatorUk.send('/start');
    await report(maria, maria.find('Neue Anfrage'), '⚠️ Melden', '😡 Belästigung');
    await report(jonas, jonas.find('Neue Anfrage'), '⚠️ Melden', '❓ Anderes');
    await h.sweep();
    await h.sweep();
    await h.deliver();
    const batches = coordinator.messages.filter((m) => m.text.startsWith('🛡 Moderation:'));
    expect(batches.map((m) => m.text)).toEqual(['🛡 Moderation: 2 neue Meldungen.']);
    expect(coordinatorUk.messages.filter((m) => m.text.startsWith('🛡 Модерація:'))).toHaveLength(1);
    expect(coordinator.buttons(batches[0])).toEqual(['🛡 Meldungen']);
  });
});

describe('the moderation queue', () => {
  it('is for coordinators only', async () => {
    const { jonas } = await scene();
    expect((await jonas.send('/moderation')).sent[0]?.text).toBe('⛔ Dafür haben Sie keine Berechtigung.');
    expect((await jonas.press('mo:banr:1:spam', jonas.last)).answer?.text).toBe('⛔ Dafür haben Sie keine Berechtigung.');
    const staff = h.user(PEOPLE.irina);
    await staff.send('/start');
    await h.db.db.update(users).set({ role: 'staff', organisation: 'Caritas' }).where(eq(users.telegramId, PEOPLE.irina.id));
    expect((await staff.send('/moderation')).sent[0]?.text).toBe('⛔ У вас нет прав на это действие.');
  });

  it('removes a post, warns, bans and unbans — each person told in their language', async () => {
    const { olena, jonas, maria } = await scene();
    const petro = h.user(PEOPLE.petro);
    await onboard(petro, 'helper', 'Гамборн (Hamborn)');
    await report(maria, maria.find('Neue Anfrage'), '⚠️ Melden', '💸 Spam oder Betrug');
    await jonas.send('Gib mir deine Adresse, sofort!');
    await h.deliver();
    await report(olena, olena.find('Gib mir deine Adresse'), '⚠️ Поскаржитися', '😡 Переслідування');

    const coordinator = h.user(COORDINATOR);
    await coordinator.send('/moderation');
    expect(coordinator.last.text).toContain('Offene Meldungen: 2');
    await coordinator.click('📋 2 Meldungen prüfen');
    const screen = coordinator.last;
    expect(screen.text).toContain('Meldung 1 von 2');
    expect(screen.text).toContain('Grund: 💸 Spam oder Betrug');
    expect(screen.text).toContain('Gemeldet: Beitrag #1');
    expect(screen.text).toContain('Von: Олена');
    expect(screen.text).toContain('Шукаю кімнату для себе й доньки.');
    expect(coordinator.buttons()).toEqual(['✅ Verwerfen', '🗑 Beitrag entfernen', '⚠️ Verwarnen', '⛔ Sperren', '➡️ Nächste', '‹ Übersicht']);

    // Remove the post: gone from browsing, author told in Ukrainian.
    await coordinator.click('🗑 Beitrag entfernen');
    expect((await h.db.db.select().from(posts))[0]?.status).toBe('removed');
    await h.deliver();
    expect(olena.last.text).toContain('видалено модерацією. Причина: 💸 Спам або шахрайство');

    // Next: the harassing message. Warn first, then ban.
    expect(coordinator.last.text).toContain('Gemeldet: eine weitergeleitete Nachricht');
    expect(coordinator.last.text).toContain('Gib mir deine Adresse, sofort!');
    expect(coordinator.last.text).toContain('Von: Jonas');
    await coordinator.click('⛔ Sperren');
    expect(coordinator.last.text).toContain('Aus welchem Grund sperren?');
    await coordinator.click('😡 Belästigung');
    expect(coordinator.last.text).toContain('Keine offenen Meldungen');
    await h.deliver();
    expect(jonas.last.text).toContain('Ihr Konto wurde gesperrt.');
    expect(jonas.last.text).toContain('Grund: 😡 Belästigung');
    expect(olena.messages.filter((m) => m.text.includes('Розмову щодо'))).toHaveLength(1); // the partner is told it ended, once
    expect((await row(PEOPLE.jonas.id)).bannedAt).toBeInstanceOf(Date);

    // Banned: cannot post, contact or relay — told so in German.
    expect((await jonas.send('/offer')).sent[0]?.text).toContain('Ihr Konto ist gesperrt');
    await post(olena, 'need', '🩺 Здоров\'я', 'Гамборн (Hamborn)', 'Потрібен стоматолог для доньки.');
    await h.deliver();
    expect(jonas.find('Потрібен стоматолог')).toBeUndefined(); // banned users are not notified
    const viaBrowse = await jonas.press('c:req:2', jonas.last);
    expect(viaBrowse.answer?.text).toContain('Ihr Konto ist gesperrt');
    // Writing into the ended conversation: reminded why, not "I don't know what to do with this".
    expect((await jonas.send('Hallo?')).sent.map((m) => m.text)).toEqual(['⛔ Ihr Konto ist gesperrt. Sie können keine Beiträge erstellen und niemanden kontaktieren.']);

    // Unban from the list.
    await coordinator.send('/moderation');
    await coordinator.click('⛔ 1 gesperrte Person');
    expect(coordinator.last.text).toContain('1. Jonas');
    await coordinator.click('♻️ 1 entsperren');
    await h.deliver();
    expect(jonas.last.text).toContain('Ihre Sperre wurde aufgehoben.');
    expect((await row(PEOPLE.jonas.id)).bannedAt).toBeNull();

    const actions = (await h.db.db.select().from(auditLog)).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['post.removed', 'user.banned', 'user.unbanned']));
    void petro;
  });

  it('dismisses and warns', async () => {
    const { maria, jonas, olena } = await scene();
    await report(maria, maria.find('Neue Anfrage'), '⚠️ Melden', '❓ Anderes');
    await jonas.send('Sie sind dumm.');
    await h.deliver();
    await report(olena, olena.find('Sie sind dumm'), '⚠️ Поскаржитися', '😡 Переслідування');
    const coordinator = h.user(COORDINATOR_UK);
    await coordinator.send('/moderation');
    await coordinator.click('📋 Розглянути 2 скарги');
    await coordinator.click('✅ Відхилити скаргу');
    expect(coordinator.last.text).toContain('Скарга 1 з 1');
    await coordinator.click('⚠️ Попередити');
    await h.deliver();
    expect(jonas.last.text).toContain('Hinweis der Moderation');
    expect(jonas.last.text).toContain('Belästigung');
    expect((await h.db.db.select().from(reports)).map((r) => [r.status, r.action]).sort()).toEqual([
      ['actioned', 'warn'],
      ['dismissed', 'dismiss'],
    ]);
    // The same report cannot be handled twice (an old button).
    const stale = await coordinator.press('mo:dis:1:-', coordinator.last);
    expect(stale.answer?.text).toBe('Уже опрацьовано.');
  });

  it('keeps a ban in force after /deleteme and a fresh /start', async () => {
    const { jonas } = await scene();
    const coordinator = h.user(COORDINATOR);
    await h.db.db.insert(reports).values({ reporterId: 1, targetType: 'post', targetId: 1, targetUserId: (await row(PEOPLE.jonas.id)).id, reason: 'spam', status: 'open', createdAt: h.clock.now() }).onConflictDoNothing();
    await coordinator.send('/moderation');
    await coordinator.click(/Meldung/);
    while (!coordinator.last.text.includes('Von: Jonas')) await coordinator.click('➡️ Nächste');
    await coordinator.click('⛔ Sperren');
    await coordinator.click('💸 Spam oder Betrug');
    await jonas.send('/deleteme');
    await jonas.click('🗑 Ja, alles löschen');
    await jonas.send('/start');
    expect((await jonas.send('/offer')).sent[0]?.text).toContain('Ihr Konto ist gesperrt');
  });
});

describe('pre-moderation of first posts', () => {
  it('holds a new user’s first post for approval; later posts go straight out', async () => {
    const pre = await createHarness({ db: h.db, env: { ADMIN_TELEGRAM_IDS: String(COORDINATOR.id), PREMODERATE_FIRST_POST: 'true' } });
    // Telegram lets a bot write only to people who opened it: the coordinator has.
    const coordinator = pre.user(COORDINATOR);
    await coordinator.send('/start');
    const jonas = pre.user(PEOPLE.jonas);
    await onboard(jonas, 'helper', 'Hamborn');
    await subscribe(jonas, ['🏠 Wohnen'], ['🏙 Ganz Duisburg']);
    await verifyPeople(h, jonas); // housing is protected: verified helpers only
    const olena = pre.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', 'Шукаю кімнату для себе й доньки.');
    expect(olena.last.text).toContain('Наша команда швидко перевірить ваш перший допис');
    await pre.deliver();
    expect(jonas.find('Neue Anfrage')).toBeUndefined();
    await pre.sweep();
    await pre.deliver();
    expect(coordinator.last.text).toContain('Moderation: 1 Beitrag zur Freigabe.');
    await coordinator.send('/moderation');
    await coordinator.click('⏳ 1 Beitrag freigeben');
    expect(coordinator.last.text).toContain('erster Beitrag einer neuen Person');
    await coordinator.click('✅ Freigeben');
    await pre.deliver();
    expect(olena.last.text).toContain('перевірено й опубліковано');
    expect(jonas.find('Neue Anfrage')).toBeDefined();
    await post(olena, 'need', '🩺 Здоров\'я', 'Гамборн (Hamborn)', 'Потрібен стоматолог для доньки.');
    expect(olena.last.text).toContain('Опубліковано!');
  });
});
