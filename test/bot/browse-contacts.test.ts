import { eq } from 'drizzle-orm';
import { blocks, contacts, outbox, relayMessages } from '../../src/db/schema';
import { onboard, post, subscribe } from '../helpers/flows';
import { type Harness, PEOPLE, useHarness } from '../helpers/harness';
import { verifyPeople } from '../helpers/verification';

const harness = useHarness({ env: { MAX_OPEN_POSTS: '20', MAX_POSTS_PER_DAY: '20' } });
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

describe('/browse', () => {
  it('pages through open needs five at a time, filters, opens a post — and never shows the author', async () => {
    const olena = h.user({ ...PEOPLE.olena, username: 'olena_kyiv' });
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    const needs: [string, string, string][] = [
      ['🏠 Житло', 'Гамборн (Hamborn)', 'Житло 1: кімната для мами.'],
      ['🏠 Житло', 'Центр (Mitte)', 'Житло 2: квартира біля вокзалу.'],
      ['🩺 Здоров\'я', 'Гамборн (Hamborn)', 'Лікар 3: потрібен педіатр.'],
      ['🏠 Житло', '🏙 Увесь Дуйсбург', 'Житло 4: будь-де в місті.'],
      ['🏛 Установи та документи', 'Гамборн (Hamborn)', 'Документи 5: заява на Bürgergeld.'],
      ['🏠 Житло', 'Гамборн (Hamborn)', 'Житло 6: тимчасово на тиждень.'],
      ['🐾 Домашні тварини', 'Вальзум (Walsum)', 'Кіт 7: догляд на вихідні.'],
    ];
    for (const [category, district, text] of needs) {
      await post(olena, 'need', category, district, text);
      h.clock.advance(60_000);
    }
    const jonas = h.user(PEOPLE.jonas);
    await onboard(jonas, 'helper', 'Hamborn');
    // Housing is a protected category (test/bot/verification.test.ts shows it to someone not verified).
    await verifyPeople(h, jonas);
    await jonas.send('/browse');
    const list = jonas.last;
    expect(list.text).toContain('Offene Anfragen');
    // Home district first: Hamborn and whole-city posts, newest first.
    expect(list.text).toContain('🏷 Alle Themen · 📍 Hamborn');
    expect(list.text).toContain('Seite 1/1 · 5 Treffer');
    expect(list.text.indexOf('Житло 6')).toBeLessThan(list.text.indexOf('Документи 5'));
    expect(list.text).not.toContain('Житло 2');
    expect(list.text).toContain('geschrieben auf Ukrainisch');
    expect(list.text).not.toMatch(/Олена|olena_kyiv|380501/);

    await jonas.click('📍 Bezirk');
    await jonas.click('🏙 Ganz Duisburg');
    expect(jonas.last.messageId).toBe(list.messageId);
    expect(jonas.last.text).toContain('Seite 1/2 · 7 Treffer');
    await jonas.click('Weiter ›');
    expect(jonas.last.text).toContain('Seite 2/2');
    expect(jonas.last.text).toContain('Житло 1');
    await jonas.click('‹ Zurück');
    await jonas.click('🏷 Thema');
    await jonas.click('🏠 Wohnen');
    expect(jonas.last.text).toContain('4 Treffer');
    expect(jonas.messages).toHaveLength(2); // the summary and the one browse message, edited in place

    await jonas.click('1');
    const detail = jonas.last;
    expect(detail.text).toContain('Житло 6');
    expect(detail.text).not.toMatch(/Олена|olena_kyiv/);
    expect(jonas.buttons(detail)).toEqual(['🤝 Ich kann helfen', '📤 Teilen', '⚠️ Melden']);

    // Forged filters or pages are refused; a huge page number is clamped.
    expect((await jonas.press('b:l:need:atlantis:*:0', list)).answer?.showAlert).toBe(true);
    expect((await jonas.press('b:l:need:*:*:9999', list)).answer?.showAlert).toBe(true);
    await jonas.press('b:l:need:*:*:150', list);
    expect(h.telegram.message(PEOPLE.jonas.id, list.messageId)?.text).toContain('Seite 2/2');

    // Seekers browse offers.
    await olena.send('/browse');
    expect(olena.last.text).toContain('Відкриті пропозиції');
    expect(olena.last.text).toContain('Тут зараз немає відкритих пропозицій');
  });
});

describe('conversations', () => {
  async function setup() {
    const olena = h.user(PEOPLE.olena);
    const jonas = h.user(PEOPLE.jonas);
    const maria = h.user(PEOPLE.maria);
    await onboard(jonas, 'helper', 'Hamborn');
    await subscribe(jonas, ['🏠 Wohnen', '🩺 Gesundheit'], ['🏙 Ganz Duisburg']);
    await onboard(maria, 'helper', 'Hamborn');
    await subscribe(maria, ['🏠 Wohnen', '🩺 Gesundheit'], ['🏙 Ganz Duisburg']);
    // Housing is a protected category: only verified helpers are told of its needs.
    await verifyPeople(h, jonas, maria);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', 'Шукаю кімнату на два місяці.');
    await post(olena, 'need', '🩺 Здоров\'я', 'Гамборн (Hamborn)', 'Потрібен стоматолог для сина.');
    await h.deliver();
    return { olena, jonas, maria };
  }

  it('routes messages by reply, asks when it is unclear, and keeps several conversations apart', async () => {
    const { olena, jonas, maria } = await setup();
    await jonas.click('🤝 Ich kann helfen', jonas.find('Шукаю кімнату'));
    await maria.click('🤝 Ich kann helfen', maria.find('стоматолог'));
    await h.deliver();
    await olena.click('✅ Прийняти', olena.find('Jonas хоче допомогти'));
    await olena.click('✅ Прийняти', olena.find('Maria хоче допомогти'));
    await h.deliver();
    await jonas.send('Ich habe ein Zimmer frei.');
    await maria.send('Meine Zahnärztin spricht Russisch.');
    await h.deliver();
    const fromJonas = olena.find('Ich habe ein Zimmer frei.')!;
    const fromMaria = olena.find('Meine Zahnärztin')!;

    // A reply goes to the conversation it answers.
    await olena.reply(fromMaria, 'Чудово, дякую!');
    await olena.reply(fromJonas, 'Коли можна подивитися?');
    await h.deliver();
    expect(maria.last.text).toContain('Чудово, дякую!');
    expect(jonas.last.text).toContain('Коли можна подивитися?');

    // Without a reply she is asked where it should go.
    const ask = await olena.send('А ви можете в понеділок?');
    expect(ask.sent[0]?.text).toContain('Кому надіслати це повідомлення?');
    expect(olena.buttons(ask.sent[0])).toHaveLength(2);
    const chooserData = (ask.sent[0]!.replyMarkup!.inline_keyboard[0]![0] as { callback_data: string }).callback_data;
    await olena.click(/^Maria/, ask.sent[0]);
    expect(olena.last.text).toContain('👌 Надіслано: Maria');
    await h.deliver();
    expect(maria.last.text).toContain('А ви можете в понеділок?');
    expect(jonas.messages.some((m) => m.text.includes('в понеділок'))).toBe(false);
    // The chooser cannot be used twice.
    expect((await olena.press(chooserData, ask.sent[0])).answer?.showAlert).toBe(true);

    // Stickers and voice cannot be relayed.
    expect((await jonas.sendSticker()).sent[0]?.text).toContain('Ich kann nur Text und Fotos weiterleiten');
    expect(await h.db.db.select().from(relayMessages)).toHaveLength(5);
  });

  it('relays photos whose long captions are full of markup characters (shortened before escaping)', async () => {
    const { olena, jonas } = await setup();
    await jonas.click('🤝 Ich kann helfen', jonas.find('Шукаю кімнату'));
    await h.deliver();
    await olena.click('✅ Прийняти', olena.find('Jonas хоче допомогти'));
    await h.deliver();
    // Wherever the cut falls, it must not split "&amp;" or "&lt;" (found by test/fuzz.test.ts).
    for (let n = 0; n < 5; n++) await jonas.sendPhoto(`${'x'.repeat(n)}${'&<'.repeat(500 - n)}`);
    await jonas.sendPhoto('Zwei Zeilen:\nKüche & Bad <3');
    await h.deliver();
    expect((await h.db.db.select().from(outbox).where(eq(outbox.kind, 'relay'))).map((r) => r.status)).toEqual(Array(6).fill('sent'));
    const copies = olena.messages.filter((m) => m.kind === 'copy');
    expect(copies).toHaveLength(6);
    for (const copy of copies.slice(0, 5)) {
      expect(copy.text).toMatch(/^💬 Jonas · .*\n\nx{0,4}(&<)+&?…$/);
      expect([...copy.text].length).toBeLessThanOrEqual(1024);
    }
    expect(copies[5]!.text).toMatch(/\n\nZwei Zeilen:\nKüche & Bad <3$/);
  });

  it('declines politely, cancels waiting offers when the post closes, and refuses forged answers', async () => {
    const { olena, jonas, maria } = await setup();
    await jonas.click('🤝 Ich kann helfen', jonas.find('Шукаю кімнату'));
    await maria.click('🤝 Ich kann helfen', maria.find('Шукаю кімнату'));
    await h.deliver();
    const fromJonas = olena.find('Jonas хоче допомогти')!;
    // Maria cannot answer a request addressed to Olena.
    const forged = await maria.press((fromJonas.replyMarkup!.inline_keyboard[0]![0] as { callback_data: string }).callback_data, maria.last);
    expect(forged.answer).toEqual({ text: 'Das betrifft nicht Ihren Beitrag.', showAlert: true });
    expect((await maria.press('c:acc:999', maria.last)).answer?.text).toBe('Diese Kontaktanfrage gibt es nicht mehr.');

    await olena.click('✖️ Відхилити', fromJonas);
    expect(h.telegram.message(PEOPLE.olena.id, fromJonas.messageId)?.text).toContain('Відхилено');
    expect((await olena.click('✅ Прийняти', fromJonas).catch(() => null)) ?? 'no buttons left').toBe('no buttons left');
    await h.deliver();
    expect(jonas.last.text).toContain('danke, dass Sie sich gemeldet haben!');
    expect(jonas.last.text).not.toContain('Олена');

    // Olena closes the post while Maria's offer still waits: Maria is told, the request disappears.
    await olena.send('/my');
    await olena.click('🗑 Більше не потрібно', olena.find('Шукаю кімнату'));
    await h.deliver();
    expect(maria.last.text).toContain('wurde inzwischen geschlossen');
    expect(olena.buttons(olena.find('Maria хоче допомогти'))).toEqual([]);
    const statuses = (await h.db.db.select().from(contacts)).map((c) => c.status).sort();
    expect(statuses).toEqual(['cancelled', 'declined']);
  });

  it('keeps the open conversation\'s end button when the need is marked fulfilled', async () => {
    const { olena, jonas, maria } = await setup();
    await jonas.click('🤝 Ich kann helfen', jonas.find('Шукаю кімнату'));
    await maria.click('🤝 Ich kann helfen', maria.find('Шукаю кімнату'));
    await h.deliver();
    await olena.click('✅ Прийняти', olena.find('Jonas хоче допомогти'));
    const accepted = olena.find('Прийнято')!;
    expect(olena.buttons(accepted)).toEqual(['🔚 Завершити розмову']);
    await olena.send('/my');
    await olena.click('✅ Допомогу знайдено', olena.find('Шукаю кімнату'));
    await h.deliver();
    // The conversation with Jonas is still open: its end button stays; Maria's waiting offer is gone.
    expect(olena.buttons(h.telegram.message(PEOPLE.olena.id, accepted.messageId))).toEqual(['🔚 Завершити розмову']);
    expect(olena.buttons(olena.find('Maria хоче допомогти'))).toEqual([]);
  });

  it('ends a conversation with a block: the pair is never matched or connected again', async () => {
    const { olena, jonas } = await setup();
    await jonas.click('🤝 Ich kann helfen', jonas.find('Шукаю кімнату'));
    await h.deliver();
    await olena.click('✅ Прийняти');
    await h.deliver();
    await jonas.send('Schicken Sie mir Ihre Telefonnummer!!!');
    await h.deliver();
    await olena.send('/end');
    await olena.click('🚫 Завершити й заблокувати');
    expect(olena.last.text).toContain('Ця людина більше не зможе з вами зв\'язатися');
    await h.deliver();
    expect(jonas.last.text).toContain('Das Gespräch zu');
    expect(jonas.last.text).not.toContain('blockiert');
    expect(await h.db.db.select().from(blocks)).toHaveLength(1);

    // Her next need does not reach him, and he cannot offer help on her older one.
    await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', 'Шукаю нову квартиру з травня.');
    await h.deliver();
    expect(jonas.find('Шукаю нову квартиру')).toBeUndefined();
    const refused = await jonas.click('🤝 Ich kann helfen', jonas.find('стоматолог'));
    expect(refused.answer).toEqual({ text: 'Dieser Kontakt ist nicht möglich. Weitere Beiträge: /browse', showAlert: true });
    // Messages he sends now go nowhere.
    const after = await jonas.send('Hallo?');
    expect(after.sent[0]?.text).toContain('Damit kann ich gerade nichts anfangen');
    const [jonasRow] = await h.db.db.select({ id: contacts.responderId }).from(contacts).where(eq(contacts.status, 'ended'));
    expect(jonasRow).toBeDefined();
  });
});
