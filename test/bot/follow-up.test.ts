import { eq, sql } from 'drizzle-orm';
import { contacts, notifications, outbox, posts, users } from '../../src/db/schema';
import { askDueFollowUps } from '../../src/domain/follow-up';
import { replaceSubscriptions } from '../../src/domain/subscriptions';
import { onboard, post } from '../helpers/flows';
import { type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';
import type { Persona } from '../helpers/updates';
import { verifyHelpers } from '../helpers/verification';

const HOUR = 3_600_000;
const harness = useHarness({ env: { WAVE_SIZE: '2', WAVE_INTERVAL: '3h', FOLLOW_UP_AFTER: '1h', DESK_AFTER: '30d' } });
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

type Lang = 'uk' | 'de' | 'ru';
const STALE = 'Dieser Knopf ist nicht mehr aktuell. Bitte nutzen Sie die neueste Nachricht oder /start.';
const ACCEPT = { uk: '✅ Прийняти', de: '✅ Annehmen', ru: '✅ Принять' } as const;
const ASK = {
  uk: ['✅ Так, дякую', '⏳ Ще триває', '🔎 Ні, шукаю далі'],
  de: ['✅ Ja, danke', '⏳ Läuft noch', '🔎 Nein, ich suche weiter'],
  ru: ['✅ Да, спасибо', '⏳ Ещё в процессе', '🔎 Нет, ищу дальше'],
} as const;

async function helper(n: number, lang: Lang = 'de'): Promise<{ user: TestUser; id: number }> {
  const persona: Persona = { id: 810_000 + n, first_name: `Helfer${n}`, language_code: lang };
  const user = h.user(persona);
  await onboard(user, 'helper', h.deps.city.districtName('hamborn', lang));
  const [row] = await h.db.db.select({ id: users.id }).from(users).where(eq(users.telegramId, persona.id));
  await replaceSubscriptions(h.db.db, row!.id, 'need', { categories: ['housing'], districts: ['hamborn'] });
  // Housing is a protected category: only verified helpers are told of its needs.
  await verifyHelpers(h, row!.id);
  return { user, id: row!.id };
}

/**
 * A seeker publishes a need, the first of the (German-speaking) candidates whom the wave told offers help, the
 * seeker accepts; returns the seeker, the helper who offered, and the post and contact ids. Waves break ties at
 * random, so which candidate is told is not fixed.
 */
async function acceptedHelp(
  seekerPersona: Persona,
  candidates: TestUser[],
  text: string,
): Promise<{ seeker: TestUser; helperUser: TestUser; postId: number; contactId: number }> {
  const lang = (seekerPersona.language_code ?? 'de') as Lang;
  const seeker = h.user(seekerPersona);
  await onboard(seeker, 'seeker', h.deps.city.districtName('hamborn', lang));
  await post(seeker, 'need', h.deps.city.categoryLabel('housing', lang), h.deps.city.districtName('hamborn', lang), text);
  const [latest] = await h.db.db.select({ id: posts.id }).from(posts).orderBy(sql`${posts.id} desc`).limit(1);
  const postId = latest!.id;
  await h.deliver();
  const isCard = (m: { text: string }) => m.text.startsWith('🆕') && m.text.includes(`#${postId}`);
  const helperUser = candidates.find((c) => c.messages.some(isCard));
  if (!helperUser) throw new Error(`none of ${candidates.length} candidates was told of post #${postId}`);
  await helperUser.click('🤝 Ich kann helfen', helperUser.messages.find(isCard));
  await h.deliver();
  await seeker.click(ACCEPT[lang]);
  await h.deliver();
  const [contact] = await h.db.db.select().from(contacts).where(eq(contacts.postId, postId));
  return { seeker, helperUser, postId, contactId: contact!.id };
}

async function postRow(postId: number) {
  const [row] = await h.db.db.select().from(posts).where(eq(posts.id, postId));
  return row!;
}

const REPORT = { uk: '⚠️ Повідомити про проблему', de: '⚠️ Ein Problem melden', ru: '⚠️ Сообщить о проблеме' } as const;
const questions = (user: TestUser) => user.messages.filter((m) => m.text.startsWith('💬'));

describe('follow-up after an accepted offer of help', () => {
  it('asks FOLLOW_UP_AFTER later; "still in progress" asks again in 3 days; "no" reopens the need and the waves go on', async () => {
    const jonas = await helper(1);
    const anna = await helper(2);
    const third = await helper(3, 'uk');
    const { seeker: olena, helperUser, postId, contactId } = await acceptedHelp(PEOPLE.olena, [jonas.user, anna.user], 'Шукаю кімнату на два місяці для себе.');
    expect(await postRow(postId)).toMatchObject({ status: 'in_contact' });
    const toldFirst = (await h.db.db.select().from(notifications).where(eq(notifications.postId, postId))).map((n) => n.userId);
    expect(toldFirst).toHaveLength(2);

    h.clock.advance(HOUR - 1_000);
    await h.sweep();
    await h.deliver();
    expect(questions(olena)).toHaveLength(0);
    h.clock.advance(1_000);
    await h.sweep();
    await h.sweep();
    await h.deliver();
    expect(questions(olena)).toHaveLength(1);
    // Housing is protected: the question also asks about the helper, with "report a problem".
    expect(olena.last.text).toBe(
      '💬 Щодо вашого запиту 🏠 Житло · Гамборн (Hamborn) (#1): чи отримали ви потрібну допомогу?\n\n🛡 Чи все було гаразд із помічником? Якщо ні, скажіть нам – координація побачить це одразу.',
    );
    expect(olena.buttons()).toEqual([...ASK.uk, REPORT.uk]);

    // Still in progress: asked again three days later, not before.
    const later = await olena.click('⏳ Ще триває');
    expect(later.sent[0]?.text).toBe('Добре, ми запитаємо ще раз через три дні.');
    // The answer buttons go; "report a problem" stays.
    expect(olena.buttons(questions(olena)[0])).toEqual([REPORT.uk]);
    h.clock.advance(3 * 24 * HOUR - 1_000);
    await h.sweep();
    await h.deliver();
    expect(questions(olena)).toHaveLength(1);
    h.clock.advance(1_000);
    await h.sweep();
    await h.deliver();
    expect(questions(olena)).toHaveLength(2);

    // No: the conversation ends, the helper is told politely, the need is open and the next wave goes out.
    const no = await olena.click('🔎 Ні, шукаю далі');
    expect(no.sent[0]?.text).toBe('Дякуємо за відповідь. Розмову завершено, ми шукаємо допомогу для вас далі.');
    await h.deliver();
    expect(helperUser.last.text).toBe('🙏 Danke für Ihre Hilfe bei 🏠 Wohnen · Hamborn (#1). Die Person sucht weiter nach Unterstützung; das Gespräch ist beendet.');
    const [contact] = await h.db.db.select().from(contacts).where(eq(contacts.id, contactId));
    expect(contact).toMatchObject({ status: 'ended', followUpAt: null });
    expect(await postRow(postId)).toMatchObject({ status: 'open' });
    expect(await h.sendDueWaves()).toBe(1);
    await h.deliver();
    const toldNow = (await h.db.db.select().from(notifications).where(eq(notifications.postId, postId))).map((n) => n.userId);
    expect(toldNow.sort()).toEqual([jonas.id, anna.id, third.id].sort());
    // The old question is stale now.
    expect((await olena.press(`fu:yes:${contactId}`, questions(olena)[1])).answer?.text).toBe('Ця кнопка вже неактуальна. Скористайтеся найновішим повідомленням або /start.');
  });

  it('"yes" fulfils the need; forged answers get the stale hint', async () => {
    const jonas = await helper(1);
    const { seeker: irina, postId, contactId } = await acceptedHelp(PEOPLE.irina, [jonas.user], 'Ищу комнату на два месяца для себя.');
    h.clock.advance(HOUR);
    await h.sweep();
    await h.deliver();
    expect(irina.buttons()).toEqual([...ASK.ru, REPORT.ru]);
    expect((await irina.click('✅ Да, спасибо')).sent[0]?.text).toBe('Здорово, что получилось! Ваш запрос выполнен.');
    expect(await postRow(postId)).toMatchObject({ status: 'fulfilled' });
    const again = await irina.press(`fu:no:${contactId}`, irina.last);
    expect(again.answer?.showAlert).toBe(true);
    // Someone else's conversation, and nonsense.
    const maria = h.user(PEOPLE.maria);
    await maria.send('/start');
    expect((await maria.press(`fu:yes:${contactId}`, maria.last)).answer?.text).toBe(STALE);
    expect((await maria.press('fu:maybe:1', maria.last)).answer?.text).toBe(STALE);
  });

  it('asks each seeker once, with two job runs at the same time', async () => {
    const jonas = await helper(1);
    await acceptedHelp(PEOPLE.maria, [jonas.user], 'Wir suchen eine Wohnung für drei Personen.');
    await acceptedHelp(PEOPLE.irina, [jonas.user], 'Ищу комнату на два месяца для себя.');
    h.clock.advance(HOUR);
    const runs = await Promise.all([askDueFollowUps(h.db.db, h.clock), askDueFollowUps(h.db.db, h.clock), askDueFollowUps(h.db.db, h.clock)]);
    expect(runs.reduce((a, b) => a + b, 0)).toBe(2);
    expect(await h.db.db.select().from(outbox).where(eq(outbox.kind, 'followup.ask'))).toHaveLength(2);
  });
});
