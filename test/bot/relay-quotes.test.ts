import type { Message } from 'grammy/types';
import { relayMessages } from '../../src/db/schema';
import { onboard, post, subscribe } from '../helpers/flows';
import type { ShownMessage } from '../helpers/fake-telegram';
import { type Harness, PEOPLE, type TestUser, useHarness } from '../helpers/harness';

const harness = useHarness();
let h: Harness;
beforeEach(() => {
  h = harness.current;
});

/** Olena (Ukrainian) needs a room; Jonas (German) offers help and she accepts: the relay is open. */
async function openConversation(): Promise<{ olena: TestUser; jonas: TestUser }> {
  const olena = h.user(PEOPLE.olena);
  const jonas = h.user(PEOPLE.jonas);
  await onboard(jonas, 'helper', 'Hamborn');
  await subscribe(jonas, ['🏠 Wohnen'], ['🏙 Ganz Duisburg']);
  await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
  await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', 'Шукаю кімнату на два місяці.');
  await h.deliver();
  await jonas.click('🤝 Ich kann helfen', jonas.find('Шукаю кімнату'));
  await h.deliver();
  await olena.click('✅ Прийняти', olena.find('Jonas хоче допомогти'));
  await h.deliver();
  return { olena, jonas };
}

/** The message a person typed themselves (the stand-in keeps those too). */
function own(user: TestUser, text: string): ShownMessage {
  const found = h.telegram.messages(user.id, { includeUser: true }).find((m) => !m.fromBot && m.text === text);
  if (!found) throw new Error(`${user.persona.first_name} never wrote "${text}"`);
  return found;
}

/** A reply the way Telegram delivers it: with the replied-to message attached. */
function replyTo(user: TestUser, to: ShownMessage): Partial<Message> {
  return { reply_to_message: { message_id: to.messageId, date: 0, chat: { id: user.id, type: 'private', first_name: user.persona.first_name }, text: to.text } as Message } as Partial<Message>;
}

describe('relayed replies quote what they answer', () => {
  it('quotes the partner’s original, or one’s own message as the partner received it, and nothing else', async () => {
    const { olena, jonas } = await openConversation();
    await jonas.send('Ich habe ein Zimmer frei.');
    await h.deliver();
    const room = olena.find('Ich habe ein Zimmer frei.')!;
    expect(room.replyTo).toBeUndefined();

    // Olena replies to Jonas's message: Jonas sees her answer quoting his own message.
    await olena.reply(room, 'Коли можна подивитися?');
    await h.deliver();
    const answer = jonas.find('Коли можна подивитися?')!;
    expect(answer.replyTo).toBe(own(jonas, 'Ich habe ein Zimmer frei.').messageId);

    // Jonas replies to his own earlier message: Olena's copy of it is quoted.
    await jonas.reply(own(jonas, 'Ich habe ein Zimmer frei.'), 'Das Zimmer ist ab Montag frei.');
    await h.deliver();
    expect(olena.find('Das Zimmer ist ab Montag frei.')!.replyTo).toBe(room.messageId);

    // A photo that replies is copied with the quote as well.
    await olena.sendPhoto('Ось мій документ', replyTo(olena, olena.find('Das Zimmer ist ab Montag frei.')!));
    await h.deliver();
    const photo = jonas.find('Ось мій документ')!;
    expect(photo.kind).toBe('copy');
    expect(photo.replyTo).toBe(own(jonas, 'Das Zimmer ist ab Montag frei.').messageId);

    // No reply, a reply to the bot's own message, a reply to an id that never existed: relayed, no quote.
    await olena.send('Дякую!');
    await olena.reply(olena.messages[0]!, 'Все добре.');
    await olena.reply(987_654, 'Ще одне питання.');
    await h.deliver();
    for (const text of ['Дякую!', 'Все добре.', 'Ще одне питання.']) expect(jonas.find(text)?.replyTo).toBeUndefined();
    expect(await h.db.db.select().from(relayMessages)).toHaveLength(7);
  });

  it('sends the reply without the quote when the quoted message is gone', async () => {
    const { olena, jonas } = await openConversation();
    await jonas.send('Ich habe ein Zimmer frei.');
    await h.deliver();
    // Jonas deleted his message in his chat; Olena still answers the copy she has.
    h.telegram.message(jonas.id, own(jonas, 'Ich habe ein Zimmer frei.').messageId)!.deleted = true;
    await olena.reply(olena.find('Ich habe ein Zimmer frei.')!, 'Коли можна подивитися?');
    const stats = await h.deliver();
    const answer = jonas.find('Коли можна подивитися?')!;
    expect(answer.replyTo).toBeUndefined();
    expect(stats.failed).toBe(0);
    expect(stats.sent).toBe(1);
  });
});
