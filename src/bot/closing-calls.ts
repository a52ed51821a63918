import { GrammyError, type MiddlewareFn } from 'grammy';
import type { Context } from './context';

/**
 * The one call allowed to go out as the webhook's reply, set only while closingCalls starts it. A plain
 * variable rather than an AsyncLocalStorage (which would switch on promise hooks for the whole process on
 * Node 20): grammY asks canUseWebhookReply synchronously, before the first await of the call (the
 * transformers pass it straight on); the webhook test shows the reply is used.
 */
let closingMethod: string | null = null;

/**
 * In webhook mode, the first closing call of an update travels in the HTTP response to Telegram's request
 * instead of a request of its own (one call fewer per button press, and per dialog left by a command;
 * bench:updates). Only a closing call: it comes after the update's work is done and written (the chat
 * lease is released before it), so Telegram's 200 cannot hide a failure it should deliver again, and
 * nobody needs its result. Every other call goes out as usual. Polling has no reply to use.
 */
export function canUseWebhookReply(method: string): boolean {
  return method === closingMethod;
}

/** Starts `call` as the webhook reply where there is one (see canUseWebhookReply). */
function startAsReply<T>(method: string, call: () => Promise<T>): Promise<T> {
  closingMethod = method;
  try {
    return call();
  } finally {
    closingMethod = null;
  }
}

/** An answer without text or alert: it only stops the button's spinner. */
function isEmptyAnswer(args: unknown[]): boolean {
  const [other] = args;
  return other === undefined || (typeof other === 'object' && other !== null && Object.keys(other).length === 0);
}

/** Calls that change a message: one of them after a removal was asked for decides what the message shows. */
const MESSAGE_EDITS = new Set(['editMessageText', 'editMessageReplyMarkup', 'editMessageCaption', 'editMessageMedia', 'deleteMessage']);

/**
 * Asks for a message's inline keyboard to go once the update is done (see closingCalls). False outside
 * closingCalls (an update without a private chat, a test's bare context): the caller removes it now.
 */
export function deferKeyboardRemoval(ctx: Context, messageId: number): boolean {
  const pending = ctx.keyboardsToRemove;
  if (!pending) return false;
  if (pending.size === 0) {
    // From the first removal on, a later edit of the same message (a screen shown in place with buttons of
    // its own) takes it off the list: the message keeps what the edit gave it. Message ids count per chat,
    // so an edit in another chat (a helper's card) leaves the list alone.
    const chat = String(ctx.chat?.id);
    ctx.api.config.use((prev, method, payload, signal) => {
      const { message_id: id, chat_id: inChat } = payload as { message_id?: unknown; chat_id?: unknown };
      if (MESSAGE_EDITS.has(method) && typeof id === 'number' && String(inChat) === chat) pending.delete(id);
      return prev(method, payload, signal);
    });
  }
  pending.add(messageId);
  return true;
}

/** Removes a message's inline keyboard now; ignores messages that are gone or unchanged. */
export async function removeKeyboardNow(ctx: Context, chatId: number, messageId: number): Promise<void> {
  try {
    await ctx.api.editMessageReplyMarkup(chatId, messageId, { reply_markup: undefined });
  } catch (err) {
    if (!(err instanceof GrammyError)) throw err;
  }
}

/**
 * What is left to say once an update's work is done and written, said last:
 * - Every callback query is answered exactly once, so that no button keeps spinning. An empty answer a
 *   handler gives while it runs waits for the end of the update and goes out then, once, together with
 *   the unanswered ones. Answers with a text (an alert, a refusal) go out at once.
 * - The keyboards of messages a dialog left behind (removeKeyboard) go at the end too.
 * The first of these closing calls is the webhook reply where there is one (the button's answer, else
 * the first keyboard removal). After a failure nothing here is said: the error handler answers the
 * button as it asks, and the keyboards stay, as the session that pointed to them was not written.
 */
export const closingCalls: MiddlewareFn<Context> = async (ctx, next) => {
  const removals = new Set<number>();
  ctx.keyboardsToRemove = removals;
  let answered = !ctx.callbackQuery;
  let handling = true;
  const original = ctx.answerCallbackQuery.bind(ctx);
  if (ctx.callbackQuery) {
    ctx.answerCallbackQuery = (...args: Parameters<typeof original>) => {
      if (handling && isEmptyAnswer(args)) return Promise.resolve(true);
      answered = true;
      return original(...args);
    };
  }
  try {
    await next();
  } finally {
    handling = false;
    ctx.keyboardsToRemove = undefined;
  }
  const chatId = ctx.chat?.id;
  const closing: Promise<unknown>[] = [];
  if (!answered) closing.push(startAsReply('answerCallbackQuery', () => original()));
  for (const messageId of removals) {
    if (chatId === undefined) break;
    const remove = () => removeKeyboardNow(ctx, chatId, messageId);
    closing.push(closing.length === 0 ? startAsReply('editMessageReplyMarkup', remove) : remove());
  }
  await Promise.all(closing.map((call) => call.catch(() => undefined)));
};
