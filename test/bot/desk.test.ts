import { eq, sql } from 'drizzle-orm';
import { auditLog, notifications, outbox, posts, users } from '../../src/db/schema';
import { announceDesk, deskContext, moveOverdueNeedsToDesk } from '../../src/domain/desk';
import { replaceSubscriptions } from '../../src/domain/subscriptions';
import { onboard, post } from '../helpers/flows';
import { type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';
import type { Persona } from '../helpers/updates';
import { verifyHelpers } from '../helpers/verification';

const HOUR = 3_600_000;
// The desk comes before the next wave here, so that both ways onto the desk can be seen.
const harness = useHarness({
  env: { WAVE_SIZE: '2', WAVE_INTERVAL: '3h', DESK_AFTER: '2h', FOLLOW_UP_AFTER: '1h', ADMIN_TELEGRAM_IDS: '900001', MAX_OPEN_POSTS: '20', MAX_POSTS_PER_DAY: '20' },
});
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

type Lang = 'uk' | 'de' | 'ru';
const COORDINATOR: Persona = { id: 900_001, first_name: 'Katrin', language_code: 'de' };
const STALE = 'Dieser Knopf ist nicht mehr aktuell. Bitte nutzen Sie die neueste Nachricht oder /start.';

async function coordinator(): Promise<TestUser> {
  const user = h.user(COORDINATOR);
  await user.send('/start');
  return user;
}

async function seeker(persona: Persona, district = 'hamborn'): Promise<TestUser> {
  const user = h.user(persona);
  await onboard(user, 'seeker', h.deps.city.districtName(district, (persona.language_code ?? 'de') as Lang));
  return user;
}

async function helper(n: number, district: string, categories = ['housing'], lang: Lang = 'de'): Promise<{ user: TestUser; id: number }> {
  const persona: Persona = { id: 800_000 + n, first_name: `Helfer${n}`, language_code: lang };
  const user = h.user(persona);
  await onboard(user, 'helper', h.deps.city.districtName(district, lang));
  const id = await userId(persona);
  await replaceSubscriptions(h.db.db, id, 'need', { categories, districts: [district] });
  // Housing is a protected category: only verified helpers are told of its needs.
  await verifyHelpers(h, id);
  return { user, id };
}

async function userId(persona: Persona): Promise<number> {
  const [row] = await h.db.db.select({ id: users.id }).from(users).where(eq(users.telegramId, persona.id));
  return row!.id;
}

async function publishNeed(user: TestUser, text: string, district = 'hamborn'): Promise<number> {
  const lang = (user.persona.language_code ?? 'de') as Lang;
  await post(user, 'need', h.deps.city.categoryLabel('housing', lang), h.deps.city.districtName(district, lang), text);
  const [latest] = await h.db.db.select({ id: posts.id }).from(posts).orderBy(sql`${posts.id} desc`).limit(1);
  return latest!.id;
}

async function postRow(postId: number) {
  const [row] = await h.db.db.select().from(posts).where(eq(posts.id, postId));
  return row!;
}

const deskNotes = (user: TestUser, prefix: string) => user.messages.filter((m) => m.text.startsWith(prefix));

describe('the Lotsen desk', () => {
  it('takes a need nobody can be told about at once; the coordinator refers the seeker to the office in her language', async () => {
    const katrin = await coordinator();
    const olena = await seeker(PEOPLE.olena);
    const postId = await publishNeed(olena, 'Шукаю квартиру для мене і доньки, терміново.');
    expect((await postRow(postId)).deskAt).not.toBeNull();

    // Coordinators hear of new desk items in one batched message.
    await h.sweep();
    await h.deliver();
    expect(deskNotes(katrin, '🧭')).toHaveLength(1);
    expect(katrin.last.text).toBe('🧭 Lotsen-Schreibtisch: 1 neue Anfrage.');
    expect(katrin.buttons()).toEqual(['🧭 Lotsen-Schreibtisch']);
    await h.sweep();
    await h.deliver();
    expect(deskNotes(katrin, '🧭')).toHaveLength(1);

    await katrin.click('🧭 Lotsen-Schreibtisch');
    const item = katrin.last.text;
    expect(item).toContain('Lotsen-Schreibtisch · 1/1');
    expect(item).toContain('Шукаю квартиру для мене і доньки');
    expect(item).toContain('Verlauf: 0 benachrichtigt · 0 abgelehnt · 0 Hilfsangebote');
    expect(item).toContain('Zuständig: noch niemand');
    expect(item).toContain('Wohnungsamt');
    // No author identity on the desk.
    expect(item).not.toContain('Олена');
    expect(katrin.buttons()).toEqual(['🙋 Übernehmen', '🏛 Amt senden (offen)', '🏛 Amt senden und schließen', '📣 An alle der Kategorie', '✖️ Schließen']);

    // The office's information, in the seeker's language; the need stays open.
    expect((await katrin.click('🏛 Amt senden (offen)')).answer?.text).toBe('Amt gesendet.');
    await h.deliver();
    expect(olena.last.text).toContain('тут вам може допомогти це відомство. Ваш запит залишається відкритим.');
    expect(olena.last.text).toContain('Житлове відомство (Wohnungsamt)');
    expect(olena.last.text).toContain('Довідка на соціальне житло');
    expect(await postRow(postId)).toMatchObject({ status: 'open', closeReason: null });
    expect(katrin.last.text).toContain('Schon an das Amt verwiesen.');

    // … or closes as "referred".
    await katrin.click('🏛 Amt senden und schließen');
    await h.deliver();
    expect(olena.last.text).toContain('Ваш запит на цьому закрито.');
    expect(await postRow(postId)).toMatchObject({ status: 'closed', closeReason: 'referred' });
    expect(katrin.last.text).toBe('🧭 Der Schreibtisch ist leer: jede Anfrage hat Hilfe oder eine Zuständige.');
    const audits = await h.db.db.select({ action: auditLog.action }).from(auditLog);
    expect(audits.map((a) => a.action)).toEqual(['desk.referred', 'desk.referred']);
  });

  it('takes a need without an accepted contact after DESK_AFTER; a Lotse takes it, and unclaimed items come back daily', async () => {
    const katrin = await coordinator();
    const jonas = await helper(1, 'hamborn');
    const irina = await seeker(PEOPLE.irina);
    const postId = await publishNeed(irina, 'Ищу комнату на два месяца для себя.');
    expect((await postRow(postId)).deskAt).toBeNull();

    h.clock.advance(2 * HOUR - 1_000);
    await h.sweep();
    expect((await postRow(postId)).deskAt).toBeNull();
    h.clock.advance(1_000);
    await h.sweep();
    await h.deliver();
    expect((await postRow(postId)).deskAt).not.toBeNull();
    expect(irina.last.text).toBe('🧭 Для вашего запроса 🏠 Жильё · Хамборн (Hamborn) (#1) ещё не нашлось помощи. Теперь им лично занимается человек из города.');
    expect(katrin.last.text).toBe('🧭 Lotsen-Schreibtisch: 1 neue Anfrage.');

    // Staff work the desk once a coordinator marked them as Lotse (audit-logged).
    const petro = h.user(PEOPLE.petro);
    await petro.send('/start');
    await h.db.db.update(users).set({ role: 'staff', organisation: 'Caritas' }).where(eq(users.telegramId, PEOPLE.petro.id));
    expect((await petro.send('/desk')).sent[0]?.text).toBe('Стіл лоцманів бачать координатори та працівники, яких координатор позначив як лоцманів.');
    await katrin.send('/staff');
    expect((await katrin.click('🧭 1 Lotse')).answer?.text).toBe('Петро ist jetzt Lotse.');
    expect(katrin.last.text).toContain('Caritas · 🧭 Lotse');
    expect(katrin.buttons()).toContain('🧭 1 kein Lotse');
    const [granted] = await h.db.db.select().from(auditLog).where(eq(auditLog.action, 'lotse.granted'));
    expect(granted?.targetUserId).toBe(await userId(PEOPLE.petro));
    await petro.send('/desk');
    expect(petro.last.text).toContain('Стіл лоцманів · 1/1');
    expect(petro.last.text).toContain('Історія: сповіщено 1 · відмовилися 0');

    // Unclaimed: announced again a day later, to the coordinator and the Lotse.
    h.clock.advance(24 * HOUR);
    await h.sweep();
    await h.deliver();
    expect(katrin.last.text).toBe('🧭 Lotsen-Schreibtisch: 1 Anfrage noch ohne Zuständige.');
    expect(petro.last.text).toBe('🧭 Стіл лоцманів: 1 запит ще без відповідального.');

    // The Lotse takes it: the seeker gets an offer of help from them, with their organisation.
    await petro.send('/desk');
    const taken = await petro.click('🙋 Взяти');
    expect(taken.answer).toEqual({ text: 'Взято. Людина побачить вашу пропозицію і вирішить.', showAlert: true });
    await h.deliver();
    expect(irina.last.text).toContain('Caritas');
    expect((await postRow(postId)).deskOwnerId).toBe(await userId(PEOPLE.petro));
    expect(petro.last.text).toContain('Відповідальний: Петро');
    // The coordinator sees the owner and cannot take it any more; a forged "take" is refused.
    await katrin.send('/desk');
    expect(katrin.last.text).toContain('Zuständig: Петро (Caritas)');
    expect(katrin.buttons()).not.toContain('🙋 Übernehmen');
    expect((await katrin.press(`dk:take:${postId}:-`, katrin.last)).answer?.text).toBe('Diese Anfrage hat schon jemand anderes übernommen.');

    // Owned: no more daily announcements.
    const before = katrin.messages.length;
    h.clock.advance(25 * HOUR);
    await h.sweep();
    await h.deliver();
    expect(katrin.messages.slice(before).filter((m) => m.text.startsWith('🧭 Lotsen-Schreibtisch:'))).toHaveLength(0);
    expect(jonas.user.messages.some((m) => m.text.includes('#1'))).toBe(true);
  });

  it('sends a desk item once more to every subscriber of the category in the city, and closes it with a reason', async () => {
    const katrin = await coordinator();
    const near = await helper(1, 'hamborn');
    const far = await helper(2, 'sued', ['housing'], 'uk');
    const other = await helper(3, 'sued', ['family']);
    const maria = await seeker(PEOPLE.maria);
    const postId = await publishNeed(maria, 'Wir suchen eine Wohnung für drei Personen.');
    h.clock.advance(2 * HOUR);
    await h.sweep();
    await h.deliver();

    await katrin.send('/desk');
    expect((await katrin.click('📣 An alle der Kategorie')).answer?.text).toBe('1 Person benachrichtigt.');
    await h.deliver();
    expect(far.user.messages.filter((m) => m.text.startsWith('🆕') && m.text.includes(`#${postId}`))).toHaveLength(1);
    expect(near.user.messages.filter((m) => m.text.startsWith('🆕') && m.text.includes(`#${postId}`))).toHaveLength(1);
    expect(other.user.messages.filter((m) => m.text.includes(`#${postId}`))).toHaveLength(0);
    expect(maria.last.text).toBe('🔎 Wir suchen weiter für Ihre Anfrage 🏠 Wohnen · Hamborn (#1): 1 weitere helfende Person wurde benachrichtigt.');
    expect(katrin.buttons()).not.toContain('📣 An alle der Kategorie');
    expect((await katrin.press(`dk:all:${postId}:-`, katrin.last)).answer?.text).toBe('Diese Anfrage wurde schon einmal an alle gesendet.');

    await katrin.click('✖️ Schließen');
    expect(katrin.last.text).toBe('Warum wird diese Anfrage geschlossen?');
    expect(katrin.buttons()).toEqual(['Erledigt', 'Nicht erreichbar', 'Nicht unser Thema', 'Doppelt', '‹ Zurück']);
    await katrin.click('‹ Zurück');
    expect(katrin.last.text).toContain('Lotsen-Schreibtisch · 1/1');
    await katrin.click('✖️ Schließen');
    expect((await katrin.click('Doppelt')).answer?.text).toBe('Geschlossen.');
    expect(await postRow(postId)).toMatchObject({ status: 'closed', closeReason: 'duplicate' });
    // Old and forged buttons: a localized hint, never an error.
    expect((await katrin.press(`dk:reason:${postId}:resolved`, katrin.last)).answer?.text).toBe('Diese Anfrage liegt nicht mehr auf dem Schreibtisch. /desk zeigt den aktuellen Stand.');
    expect((await katrin.press('dk:take:abc:-', katrin.last)).answer?.text).toBe(STALE);
    // Helpers and seekers may not.
    expect((await near.user.send('/desk')).sent[0]?.text).toBe('⛔ Dafür haben Sie keine Berechtigung.');
    expect((await near.user.press(`dk:take:${postId}:-`, near.user.last)).answer).toEqual({ text: '⛔ Dafür haben Sie keine Berechtigung.', showAlert: true });
  });

  it('moves and announces each need once, with two job runs at the same time', async () => {
    await coordinator();
    const seekers = [await seeker(PEOPLE.maria), await seeker(PEOPLE.irina)];
    await helper(1, 'hamborn');
    for (const [i, s] of seekers.entries()) await publishNeed(s, `Eine Wohnung gesucht, Nummer ${i + 1} bitte.`);
    h.clock.advance(2 * HOUR);
    const ctx = deskContext(h.config, h.clock, h.deps.city.timezone);
    const moved = await Promise.all([moveOverdueNeedsToDesk(h.db.db, ctx), moveOverdueNeedsToDesk(h.db.db, ctx)]);
    expect(moved.reduce((a, b) => a + b, 0)).toBe(2);
    const announced = await Promise.all([h.db.db.transaction((tx) => announceDesk(tx, h.clock)), h.db.db.transaction((tx) => announceDesk(tx, h.clock))]);
    expect(announced.reduce((a, b) => a + b, 0)).toBe(2);
    await h.deliver();
    expect(await h.db.db.select().from(outbox).where(eq(outbox.kind, 'desk.landed'))).toHaveLength(2);
    for (const s of seekers) expect(s.messages.filter((m) => m.text.startsWith('🧭'))).toHaveLength(1);
    expect(await h.db.db.select().from(notifications)).toHaveLength(2);
  });
});
