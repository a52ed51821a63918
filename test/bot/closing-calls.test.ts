import { Bot, InlineKeyboard } from 'grammy';
import type { Context } from '../../src/bot/context';
import { closingCalls } from '../../src/bot/closing-calls';
import { removeKeyboard } from '../../src/bot/dialog';
import { FakeTelegram } from '../helpers/fake-telegram';
import { callbackUpdate, messageUpdate, type Persona } from '../helpers/updates';

const person: Persona = { id: 4_100_001, first_name: 'Iryna', language_code: 'uk' };

/**
 * A bare grammY bot with closingCalls and one handler, against the Bot API stand-in: what Telegram is
 * asked, in which order, and what the person's messages show afterwards.
 */
function botWith(handler: (ctx: Context) => Promise<void>) {
  const telegram = new FakeTelegram();
  const bot = new Bot<Context>('123:closing-calls', { botInfo: telegram.botInfo, client: { fetch: telegram.fetch } });
  bot.use(closingCalls);
  bot.use(handler);
  const methods = () => telegram.calls.map((call) => call.method);
  return { telegram, bot, methods };
}

/** A message with one button, sent by the bot, as the stand-in shows it. */
async function messageWithButton(bot: Bot<Context>, telegram: FakeTelegram, label: string) {
  const sent = await bot.api.sendMessage(person.id, label, { reply_markup: new InlineKeyboard().text(label, `x:${label}`) });
  telegram.calls.length = 0;
  return sent;
}

const keyboardOf = (telegram: FakeTelegram, messageId: number) =>
  telegram.messages(person.id).find((m) => m.messageId === messageId)?.replyMarkup?.inline_keyboard ?? [];

describe('closingCalls', () => {
  it('takes the buttons away after the update’s own messages, and answers the button once, last', async () => {
    const { telegram, bot, methods } = botWith(async (ctx) => {
      await ctx.answerCallbackQuery(); // only stops the spinner: waits for the end
      await removeKeyboard(ctx, old.message_id);
      await ctx.reply('Наступний крок');
    });
    const old = await messageWithButton(bot, telegram, 'Далі');
    const press = callbackUpdate(person, old, 'x:Далі');
    await bot.handleUpdate(press.update);

    expect(methods()).toEqual(['sendMessage', 'answerCallbackQuery', 'editMessageReplyMarkup']);
    expect(telegram.answers.filter((a) => a.callbackQueryId === press.id)).toHaveLength(1);
    expect(keyboardOf(telegram, old.message_id)).toEqual([]);
  });

  it('keeps the keyboard a later edit gave the same message (a screen shown in place)', async () => {
    const { telegram, bot, methods } = botWith(async (ctx) => {
      await removeKeyboard(ctx, old.message_id);
      await ctx.api.editMessageText(person.id, old.message_id, 'Меню', { reply_markup: new InlineKeyboard().text('Мої запити', 'x:mine') });
    });
    const old = await messageWithButton(bot, telegram, 'Далі');
    await bot.handleUpdate(messageUpdate(person, telegram.recordUserMessage(person.id, '/menu').messageId, { text: '/menu' }));

    expect(methods()).toEqual(['editMessageText']);
    expect(keyboardOf(telegram, old.message_id)).toEqual([[{ text: 'Мої запити', callback_data: 'x:mine' }]]);
  });

  it('still removes it when the update edits a message with the same id in another chat', async () => {
    const helper: Persona = { id: 4_100_002, first_name: 'Jonas', language_code: 'de' };
    const { telegram, bot, methods } = botWith(async (ctx) => {
      await removeKeyboard(ctx, old.message_id);
      await ctx.api.editMessageText(helper.id, card.message_id, 'Erledigt', { reply_markup: new InlineKeyboard().text('OK', 'x:ok') });
    });
    const old = await messageWithButton(bot, telegram, 'Далі');
    const card = await bot.api.sendMessage(helper.id, 'Karte');
    telegram.calls.length = 0;
    expect(card.message_id).toBe(old.message_id); // ids count per chat
    await bot.handleUpdate(messageUpdate(person, telegram.recordUserMessage(person.id, '/cancel').messageId, { text: '/cancel' }));

    expect(methods()).toEqual(['editMessageText', 'editMessageReplyMarkup']);
    expect(keyboardOf(telegram, old.message_id)).toEqual([]);
  });

  it('removes each keyboard once, however often it is asked for', async () => {
    const { telegram, bot, methods } = botWith(async (ctx) => {
      await removeKeyboard(ctx, first.message_id);
      await removeKeyboard(ctx, second.message_id);
      await removeKeyboard(ctx, first.message_id);
    });
    const first = await messageWithButton(bot, telegram, 'Один');
    const second = await messageWithButton(bot, telegram, 'Два');
    await bot.handleUpdate(messageUpdate(person, telegram.recordUserMessage(person.id, '/cancel').messageId, { text: '/cancel' }));

    expect(methods()).toEqual(['editMessageReplyMarkup', 'editMessageReplyMarkup']);
    expect([keyboardOf(telegram, first.message_id), keyboardOf(telegram, second.message_id)]).toEqual([[], []]);
  });

  it('says nothing after a failure: the keyboards stay and the error handler answers the button', async () => {
    const { telegram, bot, methods } = botWith(async (ctx) => {
      await ctx.answerCallbackQuery();
      await removeKeyboard(ctx, old.message_id);
      throw new Error('database gone');
    });
    const old = await messageWithButton(bot, telegram, 'Далі');
    await expect(bot.handleUpdate(callbackUpdate(person, old, 'x:Далі').update)).rejects.toThrow('database gone');

    expect(methods()).toEqual([]);
    expect(keyboardOf(telegram, old.message_id)).toHaveLength(1);
  });

  it('removes the keyboard at once outside an update it wraps', async () => {
    const telegram = new FakeTelegram();
    const bot = new Bot<Context>('123:closing-calls', { botInfo: telegram.botInfo, client: { fetch: telegram.fetch } });
    const old = await messageWithButton(bot, telegram, 'Далі');
    bot.use(async (ctx) => {
      await removeKeyboard(ctx, old.message_id);
      expect(telegram.calls.map((call) => call.method)).toEqual(['editMessageReplyMarkup']);
    });
    await bot.handleUpdate(messageUpdate(person, telegram.recordUserMessage(person.id, 'hi').messageId, { text: 'hi' }));
    expect(keyboardOf(telegram, old.message_id)).toEqual([]);
  });
});
