import { eq } from 'drizzle-orm';
import { contacts, notifications, posts, users } from '../../src/db/schema';
import { onboard, post, subscribe } from '../helpers/flows';
import { type Harness, PEOPLE, useHarness } from '../helpers/harness';
import { verifyPeople } from '../helpers/verification';

const harness = useHarness();
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

const HAMBORN_UK = 'Гамборн (Hamborn)';
const NEED_TEXT = 'Шукаю 2-кімнатну квартиру для мене і доньки в Гамборні, з квітня. Можу платити через Jobcenter.';

describe('a need reaches exactly the right helpers, and seeker and helper meet safely', () => {
  it('routes, contacts, relays both ways in each language, and closes', async () => {
    const olena = h.user(PEOPLE.olena); // seeker, uk
    const jonas = h.user(PEOPLE.jonas); // helper, de: Hamborn/housing
    const maria = h.user(PEOPLE.maria); // helper, de: whole city/housing
    const petro = h.user(PEOPLE.petro); // helper, uk: Mitte/housing
    const irina = h.user(PEOPLE.irina); // helper, ru: Hamborn/health

    await onboard(olena, 'seeker', HAMBORN_UK);
    await onboard(jonas, 'helper', 'Hamborn');
    await subscribe(jonas, ['🏠 Wohnen'], ['Hamborn']);
    await onboard(maria, 'helper', 'Mitte');
    await subscribe(maria, ['🏠 Wohnen'], ['🏙 Ganz Duisburg']);
    await onboard(petro, 'helper', 'Центр (Mitte)');
    await subscribe(petro, ['🏠 Житло'], ['Центр (Mitte)']);
    await onboard(irina, 'helper', 'Хамборн (Hamborn)');
    await subscribe(irina, ['🩺 Здоровье'], ['Хамборн (Hamborn)']);
    // Housing is a protected category: only verified helpers are told of its needs.
    await verifyPeople(h, jonas, maria, petro);
    expect(jonas.last.text).toContain('Themen: Wohnen');
    expect(jonas.last.text).toContain('Bezirke: Hamborn');

    // Olena posts her need through the dialog.
    await olena.send('/need');
    expect(olena.last.text).toContain('Новий запит');
    await olena.click('🏠 Житло');
    expect(olena.buttons()[0]).toBe('➡️ Гамборн (Hamborn) (ваш район)');
    await olena.click('➡️ Гамборн (Hamborn) (ваш район)');
    await olena.send(NEED_TEXT);
    await olena.click('➡️ Далі без фото');
    expect(olena.last.text).toContain('Так волонтери бачитимуть ваш запит');
    expect(olena.last.text).toContain(NEED_TEXT);
    await olena.click('✅ Опублікувати');
    expect(olena.last.text).toContain('Сповіщено 2 відповідних волонтерів');

    const [need] = await h.db.db.select().from(posts);
    expect(need).toMatchObject({ kind: 'need', category: 'housing', district: 'hamborn', language: 'uk', status: 'open', text: NEED_TEXT });

    await h.deliver();
    const notified = (user: typeof jonas) => user.messages.filter((m) => m.text.includes('Neue Anfrage') || m.text.includes('Новий запит') || m.text.includes('Новый запрос'));
    expect(notified(jonas)).toHaveLength(1);
    expect(notified(maria)).toHaveLength(1);
    expect(notified(petro)).toHaveLength(0);
    expect(notified(irina)).toHaveLength(0);
    const card = notified(jonas)[0]!;
    expect(card.text).toContain('🏠 Wohnen · 📍 Hamborn');
    expect(card.text).toContain(NEED_TEXT); // as written, not translated
    expect(card.text).toContain('geschrieben auf Ukrainisch');
    expect(card.text).not.toContain('Олена');
    expect(jonas.buttons(card)).toEqual(['🤝 Ich kann helfen', '🙅 Diesmal nicht', '⏸ Eine Woche Pause', '⚠️ Melden']);
    // One record per person told, for this need: Jonas and Maria (in the order they joined), nobody else.
    const helperIds = (await h.db.db.select({ id: users.id, telegramId: users.telegramId }).from(users).orderBy(users.id))
      .filter((u) => u.telegramId === PEOPLE.jonas.id || u.telegramId === PEOPLE.maria.id)
      .map((u) => u.id);
    const told = (await h.db.db.select().from(notifications)).sort((a, b) => a.userId - b.userId);
    expect(told.map((n) => ({ postId: n.postId, userId: n.userId }))).toEqual(helperIds.map((userId) => ({ postId: need!.id, userId })));
    expect(helperIds).toHaveLength(2);

    // Jonas offers help; Olena is asked, in Ukrainian, and learns only his first name.
    const offer = await jonas.click('🤝 Ich kann helfen', card);
    expect(offer.answer?.text).toBe('Gefragt!');
    expect(jonas.last.text).toContain('Die suchende Person entscheidet');
    const twice = await jonas.click('🤝 Ich kann helfen', card);
    expect(twice.answer).toEqual({ text: expect.stringContaining('schon Hilfe angeboten'), showAlert: true });
    await h.deliver();
    const request = olena.find('Хтось хоче допомогти!')!;
    expect(request.text).toContain('Jonas хоче допомогти з вашим запитом 🏠 Житло · Гамборн (Hamborn) (#1)');
    expect(request.text).not.toContain('jonas_hilft');
    expect(olena.buttons(request)).toEqual(['✅ Прийняти', '✖️ Відхилити']);

    await olena.click('✅ Прийняти', request);
    expect(olena.last.text).toContain('Прийнято.');
    await h.deliver();
    expect(jonas.last.text).toContain('Ihre Hilfe wurde angenommen!');
    expect(jonas.last.text).toContain('an Олена weiter');

    // The relay: Jonas writes in German, Olena answers with a photo; each sees the bot's words in their language.
    await jonas.send('Hallo! Ich kenne eine Vermieterin in Hamborn. Wann passt es Ihnen?');
    await h.deliver();
    const relayed = olena.last;
    expect(relayed.text).toBe('💬 Jonas · 🏠 Житло · Гамборн (Hamborn) (#1)\n\nHallo! Ich kenne eine Vermieterin in Hamborn. Wann passt es Ihnen?');
    expect(olena.buttons(relayed)).toEqual(['⚠️ Поскаржитися']);
    expect(h.telegram.reactions.some((r) => r.chatId === PEOPLE.jonas.id)).toBe(true);

    await olena.reply(relayed, 'Дякую! Понеділок після 14:00 <добре>');
    await olena.sendPhoto('Ось документ від Jobcenter');
    await h.deliver();
    const [answer, photo] = jonas.messages.slice(-2);
    expect(answer!.text).toBe('💬 Олена · 🏠 Wohnen · Hamborn (#1)\n\nДякую! Понеділок після 14:00 <добре>');
    expect(photo!.kind).toBe('copy');
    expect(photo!.text).toContain('💬 Олена · 🏠 Wohnen · Hamborn (#1)');
    expect(photo!.text).toContain('Ось документ від Jobcenter');
    expect(h.telegram.callsOf('forwardMessage')).toHaveLength(0);

    // Olena found a flat: she closes the need. Maria, notified earlier, now sees "already taken".
    await olena.send('/my');
    await olena.click('✅ Допомогу знайдено');
    expect(olena.last.text).toContain('Добре, що ви знайшли допомогу!');
    expect((await h.db.db.select().from(posts))[0]?.status).toBe('fulfilled');
    const taken = await maria.click('🤝 Ich kann helfen');
    expect(taken.answer).toEqual({ text: expect.stringContaining('Schon vergeben'), showAlert: true });
    const [mariaRow] = await h.db.db.select().from(users).where(eq(users.telegramId, PEOPLE.maria.id));
    expect(await h.db.db.select().from(contacts).where(eq(contacts.responderId, mariaRow!.id))).toHaveLength(0);

    // The conversation stays open until someone ends it.
    await jonas.send('/end');
    await jonas.click('🔚 Beenden');
    await h.deliver();
    expect(olena.last.text).toContain('Розмову щодо 🏠 Житло · Гамборн (Hamborn) (#1) завершено');
  });

  it('an offer reaches seekers with a matching open need and subscribers, in Russian', async () => {
    const jonas = h.user(PEOPLE.jonas); // helper offering furniture in Mitte
    const irina = h.user(PEOPLE.irina); // seeker, ru, open need donations/Mitte
    const olena = h.user(PEOPLE.olena); // seeker, uk, subscribed to offers donations/whole city
    const petro = h.user(PEOPLE.petro); // seeker, uk, need donations in Walsum: not matched

    await onboard(jonas, 'helper', 'Mitte');
    await onboard(irina, 'seeker', 'Центр (Mitte)');
    await post(irina, 'need', '📦 Пожертвования и вещи', 'Центр (Mitte)', 'Нужен диван и детская кровать, переехали в новую квартиру.');
    await onboard(olena, 'seeker', HAMBORN_UK);
    await subscribe(olena, ['📦 Пожертви та речі'], ['🏙 Увесь Дуйсбург']);
    await onboard(petro, 'seeker', 'Вальзум (Walsum)');
    await post(petro, 'need', '📦 Пожертви та речі', 'Вальзум (Walsum)', 'Потрібна пральна машина, будь ласка.');
    await h.deliver();

    await post(jonas, 'offer', '📦 Spenden & Sachspenden', 'Mitte', 'Gut erhaltenes Sofa und ein Kinderbett abzugeben, Abholung in Mitte.');
    expect(jonas.last.text).toContain('2 passende Personen wurden benachrichtigt');
    await h.deliver();
    const forIrina = irina.find('Новое предложение')!;
    expect(forIrina.text).toContain('📦 Пожертвования и вещи · 📍 Центр (Mitte)');
    expect(forIrina.text).toContain('написано на языке: немецкий');
    expect(irina.buttons(forIrina)).toEqual(['🙋 Меня интересует', '⚠️ Пожаловаться']);
    expect(olena.find('Нова пропозиція')).toBeDefined();
    expect(petro.find('Нова пропозиція')).toBeUndefined();

    await irina.click('🙋 Меня интересует', forIrina);
    expect(irina.last.text).toContain('Мы сообщили автору предложения');
    await h.deliver();
    const request = jonas.find('Jemand interessiert sich für Ihr Angebot')!;
    expect(request.text).not.toContain('Ирина');
    await jonas.click('✅ Annehmen', request);
    await h.deliver();
    expect(irina.last.text).toContain('Контакт принят!');
    await irina.send('Здравствуйте! Можно забрать в субботу?');
    await h.deliver();
    expect(jonas.last.text).toContain('Ирина · 📦 Spenden & Sachspenden · Mitte (#3)');
    await jonas.send('Ja, Samstag ab 10 Uhr passt.');
    await h.deliver();
    expect(irina.last.text).toBe('💬 Jonas · 📦 Пожертвования и вещи · Центр (Mitte) (#3)\n\nJa, Samstag ab 10 Uhr passt.');
  });
});
