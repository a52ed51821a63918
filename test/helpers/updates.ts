import type { CallbackQuery, Message, MessageEntity, Update } from 'grammy/types';

/** A Telegram user as tests describe them. */
export interface Persona {
  id: number;
  first_name: string;
  language_code?: string;
  username?: string;
  last_name?: string;
}

let updateCounter = 100_000;
let callbackCounter = 1;

export function nextUpdateId(): number {
  return ++updateCounter;
}

function chatOf(p: Persona) {
  return { id: p.id, type: 'private' as const, first_name: p.first_name, ...(p.username ? { username: p.username } : {}) };
}

function fromOf(p: Persona) {
  return {
    id: p.id,
    is_bot: false as const,
    first_name: p.first_name,
    ...(p.last_name ? { last_name: p.last_name } : {}),
    ...(p.username ? { username: p.username } : {}),
    ...(p.language_code ? { language_code: p.language_code } : {}),
  };
}

/** Entities Telegram attaches to a text: a leading /command becomes a bot_command. */
export function entitiesFor(text: string): MessageEntity[] | undefined {
  const m = /^\/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]+)?/.exec(text);
  return m ? [{ type: 'bot_command', offset: 0, length: m[0].length }] : undefined;
}

/** A private message update as Telegram sends it. */
export function messageUpdate(p: Persona, messageId: number, content: Partial<Message>, date = Math.floor(Date.now() / 1000)): Update {
  const message = {
    message_id: messageId,
    date,
    chat: chatOf(p),
    from: fromOf(p),
    ...content,
  } as Message;
  if (message.text !== undefined && message.entities === undefined) {
    const entities = entitiesFor(message.text);
    if (entities) message.entities = entities;
  }
  return { update_id: nextUpdateId(), message } as Update;
}

export function editedMessageUpdate(p: Persona, messageId: number, text: string): Update {
  const now = Math.floor(Date.now() / 1000);
  return {
    update_id: nextUpdateId(),
    edited_message: { message_id: messageId, date: now - 5, edit_date: now, chat: chatOf(p), from: fromOf(p), text },
  };
}

/** A button press on a message the bot sent. */
export function callbackUpdate(p: Persona, message: Message | undefined, data: string): { update: Update; id: string } {
  const id = String(callbackCounter++);
  const callback_query = {
    id,
    from: fromOf(p),
    chat_instance: `ci${p.id}`,
    data,
    ...(message ? { message } : {}),
  } as CallbackQuery;
  return { update: { update_id: nextUpdateId(), callback_query }, id };
}

/** The user blocked (kicked) or unblocked the bot. */
export function myChatMemberUpdate(p: Persona, status: 'kicked' | 'member'): Update {
  const botUser = { id: 7_000_000_001, is_bot: true, first_name: 'Hilfenetz', username: 'hilfenetz_test_bot' };
  return {
    update_id: nextUpdateId(),
    my_chat_member: {
      chat: chatOf(p),
      from: fromOf(p),
      date: Math.floor(Date.now() / 1000),
      old_chat_member: { user: botUser, status: status === 'kicked' ? 'member' : 'kicked' },
      new_chat_member: status === 'kicked' ? { user: botUser, status: 'kicked', until_date: 0 } : { user: botUser, status: 'member' },
    },
  } as Update;
}

/** A message in a group chat the bot was added to. */
export function groupMessageUpdate(p: Persona, chatId: number, text: string): Update {
  return {
    update_id: nextUpdateId(),
    message: {
      message_id: 1,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: 'group', title: 'Helfer Hamborn' },
      from: fromOf(p),
      text,
      ...(entitiesFor(text) ? { entities: entitiesFor(text) } : {}),
    },
  };
}

/** Telegram telling that the bot's membership in a channel or group changed (added, promoted, demoted, removed). */
export function groupMemberUpdate(p: Persona, chat: { id: number; type: 'channel' | 'group' | 'supergroup'; title: string; username?: string }, oldStatus: string, member: Record<string, unknown> & { status: string }): Update {
  const botUser = { id: 7_000_000_001, is_bot: true, first_name: 'Hilfenetz', username: 'hilfenetz_test_bot' };
  return {
    update_id: nextUpdateId(),
    my_chat_member: {
      chat,
      from: fromOf(p),
      date: Math.floor(Date.now() / 1000),
      old_chat_member: { user: botUser, status: oldStatus },
      new_chat_member: { user: botUser, ...member },
    },
  } as unknown as Update;
}

/** An inline query (`@bot <query>` typed in any chat, or a switch_inline_query button). */
export function inlineQueryUpdate(p: Persona, id: string, query: string): Update {
  return { update_id: nextUpdateId(), inline_query: { id, from: fromOf(p), query, offset: '', chat_type: 'group' } };
}
