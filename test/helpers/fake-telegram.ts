import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InlineKeyboardMarkup, Message, Update, UserFromGetMe } from 'grammy/types';
import { htmlToPlain, validateTelegramHtml } from './telegram-html';

/**
 * A Bot API stand-in. One core answers Bot API methods like Telegram does (message ids per chat,
 * edits, "message is not modified", 403 for blocked users, 429 with retry_after over a configurable
 * global rate, HTML validation, length limits) and keeps what each chat sees. Two adapters expose it:
 * `fetch` (given to grammY as its client's fetch, in-process) and `listen()` (an HTTP server for
 * TELEGRAM_API_ROOT, used by the process test and the benchmarks).
 */

export interface ShownMessage {
  chatId: number;
  messageId: number;
  fromBot: boolean;
  /** The HTML as sent (text or caption). */
  html: string;
  /** What the person sees: tags stripped, entities decoded. */
  text: string;
  kind: 'text' | 'photo' | 'document' | 'copy' | 'user';
  replyMarkup?: InlineKeyboardMarkup;
  replyTo?: number;
  file?: { fileId?: string; name?: string; content?: Buffer };
  copiedFrom?: { chatId: number; messageId: number };
  editCount: number;
  deleted: boolean;
  sentAt: number;
}

export interface ApiCall {
  method: string;
  payload: Record<string, unknown>;
  at: number;
}

export interface CallbackAnswer {
  callbackQueryId: string;
  text?: string;
  showAlert: boolean;
}

type ApiResponse = { ok: true; result: unknown } | { ok: false; error_code: number; description: string; parameters?: { retry_after?: number } };

/** Methods that send a new message and count against the global rate limit. */
const SENDING = new Set(['sendMessage', 'sendPhoto', 'sendDocument', 'copyMessage', 'sendMediaGroup']);

/** A channel or group the bot may be in, with the bot's membership as getChatMember reports it. */
export interface FakeGroupChat {
  chat: { id: number; type: 'channel' | 'group' | 'supergroup'; title: string; username?: string };
  botMember: { status: 'creator' | 'administrator' | 'member' | 'restricted' | 'left' | 'kicked'; can_post_messages?: boolean; can_edit_messages?: boolean; can_delete_messages?: boolean };
}

/** What the bot answered to one inline query (answerInlineQuery). */
export interface InlineAnswer {
  inlineQueryId: string;
  results: { type: string; id: string; title?: string; description?: string; input_message_content?: { message_text: string; parse_mode?: string }; reply_markup?: InlineKeyboardMarkup }[];
  button?: { text: string; start_parameter?: string };
  cacheTime?: number;
  isPersonal: boolean;
}

export interface FakeTelegramOptions {
  botInfo?: Partial<UserFromGetMe>;
  /** Global limit on sending methods per second (sliding window); 429 beyond it. */
  ratePerSecond?: number;
  /** Added before each answer, like Telegram's network round trip. */
  latencyMs?: number;
}

class ApiFailure extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly retryAfter?: number,
  ) {
    super(description);
  }
}

/** The Bot API stand-in. */
export class FakeTelegram {
  readonly botInfo: UserFromGetMe;
  readonly calls: ApiCall[] = [];
  readonly answers: CallbackAnswer[] = [];
  readonly blocked = new Set<number>();
  readonly reactions: { chatId: number; messageId: number; reaction: unknown }[] = [];
  readonly unknownChats = new Set<number>();
  /** Channels and groups (getChat, getChatMember; sending there needs the bot's membership and rights). */
  readonly groupChats = new Map<number, FakeGroupChat>();
  readonly inlineAnswers: InlineAnswer[] = [];
  /** The default menu button as the bot last set it (setChatMenuButton without chat_id). */
  menuButton: { type?: string } | undefined;
  /** Sending calls answered with 429 because of the rate limit. */
  rateLimited = 0;
  ratePerSecond: number | undefined;
  latencyMs: number;
  private readonly chats = new Map<number, { nextId: number; messages: Map<number, ShownMessage> }>();
  private readonly sendTimes: number[] = [];
  private readonly failures: { method: string; failure: ApiFailure; times: number }[] = [];
  private readonly delays: { method: string; ms: number }[] = [];
  private readonly updates: Update[] = [];
  private updateWaiters: (() => void)[] = [];
  private nextUpdateId = 1;
  private unresponsive = false;
  private held: (() => void)[] = [];
  private fileCounter = 1;

  constructor(options: FakeTelegramOptions = {}) {
    this.botInfo = {
      id: 7_000_000_001,
      is_bot: true,
      first_name: 'Hilfenetz',
      username: 'hilfenetz_test_bot',
      can_join_groups: false,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
      has_topics_enabled: false,
      allows_users_to_create_topics: false,
      ...options.botInfo,
    } as UserFromGetMe;
    this.ratePerSecond = options.ratePerSecond;
    this.latencyMs = options.latencyMs ?? 0;
  }

  // ---------- fault injection ----------

  /** The next `times` calls of `method` fail with this error. */
  failNext(method: string, code: number, description: string, options: { times?: number; retryAfter?: number } = {}): void {
    this.failures.push({ method, failure: new ApiFailure(code, description, options.retryAfter), times: options.times ?? 1 });
  }

  /** The next call of `method` takes this long to answer (a slow or hanging Telegram). */
  delayNext(method: string, ms: number): void {
    this.delays.push({ method, ms });
  }

  /** The user blocked the bot: sending answers 403. */
  block(chatId: number): void {
    this.blocked.add(chatId);
  }

  /** A channel or group the bot is in, with its rights there (administrator with every right by default). */
  addGroupChat(chat: FakeGroupChat['chat'], botMember: FakeGroupChat['botMember'] = { status: 'administrator', can_post_messages: true, can_edit_messages: true, can_delete_messages: true }): void {
    this.groupChats.set(chat.id, { chat, botMember });
  }

  /** The bot's membership in a channel or group changes (removed, demoted, promoted). */
  setBotMember(chatId: number, botMember: FakeGroupChat['botMember']): void {
    const group = this.groupChats.get(chatId);
    if (!group) throw new Error(`no group chat ${chatId}`);
    group.botMember = botMember;
  }

  // ---------- what chats see ----------

  /** Messages in a chat, in order, as they look now (after edits; deleted ones omitted). */
  messages(chatId: number, options: { includeUser?: boolean } = {}): ShownMessage[] {
    const chat = this.chats.get(chatId);
    if (!chat) return [];
    return [...chat.messages.values()].filter((m) => !m.deleted && (options.includeUser || m.fromBot));
  }

  message(chatId: number, messageId: number): ShownMessage | undefined {
    return this.chats.get(chatId)?.messages.get(messageId);
  }

  /** Every sending call that reached a chat, counted per chat (for duplicate checks). */
  sentCountByChat(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const [chatId, chat] of this.chats) {
      const n = [...chat.messages.values()].filter((m) => m.fromBot).length;
      if (n > 0) counts.set(chatId, n);
    }
    return counts;
  }

  callsOf(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Records a message the user sent (the harness uses this to allocate ids like Telegram). */
  recordUserMessage(chatId: number, text: string, extra: Partial<ShownMessage> = {}): ShownMessage {
    const chat = this.chat(chatId);
    const message: ShownMessage = {
      chatId,
      messageId: chat.nextId++,
      fromBot: false,
      html: text,
      text,
      kind: 'user',
      editCount: 0,
      deleted: false,
      sentAt: Date.now(),
      ...extra,
    };
    chat.messages.set(message.messageId, message);
    return message;
  }

  newFileId(prefix = 'file'): string {
    return `${prefix}_${this.fileCounter++}_AgACAgIAAxkBAAI`;
  }

  // ---------- updates for getUpdates (HTTP mode) ----------

  pushUpdate(update: Omit<Update, 'update_id'> & { update_id?: number }): Update {
    const full = { ...update, update_id: update.update_id ?? this.nextUpdateId++ };
    this.updates.push(full);
    const waiters = this.updateWaiters;
    this.updateWaiters = [];
    waiters.forEach((w) => w());
    return full;
  }

  /** Updates not yet confirmed by a getUpdates offset. */
  get pendingUpdates(): number {
    return this.updates.length;
  }

  // ---------- the API ----------

  async call(method: string, payload: Record<string, unknown>): Promise<ApiResponse> {
    this.calls.push({ method, payload, at: Date.now() });
    if (this.latencyMs > 0 && method !== 'getUpdates') await sleep(this.latencyMs);
    const delay = this.delays.findIndex((d) => d.method === method);
    if (delay >= 0) await sleep(this.delays.splice(delay, 1)[0]!.ms);
    try {
      return { ok: true, result: await this.dispatch(method, payload) };
    } catch (err) {
      if (err instanceof ApiFailure) {
        return {
          ok: false,
          error_code: err.code,
          description: err.description,
          ...(err.retryAfter !== undefined ? { parameters: { retry_after: err.retryAfter } } : {}),
        };
      }
      throw err;
    }
  }

  private async dispatch(method: string, p: Record<string, unknown>): Promise<unknown> {
    const injected = this.failures.findIndex((f) => f.method === method || f.method === '*');
    if (injected >= 0) {
      const f = this.failures[injected]!;
      if (--f.times <= 0) this.failures.splice(injected, 1);
      throw f.failure;
    }
    if (SENDING.has(method)) {
      const chatId = Number(p.chat_id);
      if (this.blocked.has(chatId)) throw new ApiFailure(403, 'Forbidden: bot was blocked by the user');
      if (this.unknownChats.has(chatId)) throw new ApiFailure(400, 'Bad Request: chat not found');
      this.checkGroupWrite(chatId, 'post');
      this.enforceRate();
    }
    if (method === 'editMessageText' || method === 'deleteMessage') this.checkGroupWrite(Number(p.chat_id), method === 'deleteMessage' ? 'delete' : 'edit');
    switch (method) {
      case 'getMe':
        return this.botInfo;
      case 'getUpdates':
        return this.getUpdates(p);
      case 'sendMessage':
        return this.send(p, 'text', this.checkText(p.text, p.parse_mode, 4096));
      case 'sendPhoto':
        return this.send(p, 'photo', this.checkText(p.caption ?? '', p.parse_mode, 1024), this.fileOf(p.photo, 'photo'));
      case 'sendDocument':
        return this.send(p, 'document', this.checkText(p.caption ?? '', p.parse_mode, 1024), this.fileOf(p.document, 'doc'));
      case 'copyMessage':
        return this.copy(p);
      case 'editMessageText':
        return this.edit(p, this.checkText(p.text, p.parse_mode, 4096));
      case 'editMessageCaption':
        return this.edit(p, this.checkText(p.caption ?? '', p.parse_mode, 1024));
      case 'editMessageReplyMarkup':
        return this.edit(p, undefined);
      case 'deleteMessage': {
        const m = this.message(Number(p.chat_id), Number(p.message_id));
        if (!m || m.deleted) throw new ApiFailure(400, 'Bad Request: message to delete not found');
        m.deleted = true;
        return true;
      }
      case 'answerCallbackQuery':
        if (this.answers.some((a) => a.callbackQueryId === String(p.callback_query_id))) {
          throw new ApiFailure(400, 'Bad Request: query is too old and response timeout expired or query ID is invalid');
        }
        this.answers.push({
          callbackQueryId: String(p.callback_query_id),
          text: p.text as string | undefined,
          showAlert: Boolean(p.show_alert),
        });
        return true;
      case 'setMyCommands':
        this.checkCommands(p.commands);
        return true;
      case 'setChatMenuButton': {
        const button = (typeof p.menu_button === 'string' ? JSON.parse(p.menu_button) : p.menu_button) as { type?: string } | undefined;
        if (button !== undefined && !['commands', 'web_app', 'default'].includes(String(button.type))) throw new ApiFailure(400, 'Bad Request: unsupported menu button type');
        this.menuButton = button ?? { type: 'default' };
        return true;
      }
      case 'setMessageReaction':
        this.reactions.push({ chatId: Number(p.chat_id), messageId: Number(p.message_id), reaction: p.reaction });
        return true;
      case 'deleteMyCommands':
      case 'setWebhook':
      case 'deleteWebhook':
      case 'sendChatAction':
      case 'close':
        return true;
      case 'getChat':
        return this.getChat(p.chat_id);
      case 'getChatMember': {
        const group = this.groupChats.get(Number(p.chat_id));
        if (!group) throw new ApiFailure(400, 'Bad Request: chat not found');
        if (Number(p.user_id) !== this.botInfo.id) return { user: { id: Number(p.user_id), is_bot: false, first_name: 'User' }, status: 'left' };
        return { user: { id: this.botInfo.id, is_bot: true, first_name: this.botInfo.first_name, username: this.botInfo.username }, ...group.botMember };
      }
      case 'answerInlineQuery':
        return this.answerInline(p);
      case 'getFile':
        return { file_id: p.file_id, file_unique_id: `u${String(p.file_id)}`, file_size: 1000, file_path: `photos/${String(p.file_id)}.jpg` };
      default:
        throw new ApiFailure(404, 'Not Found: method not found');
    }
  }

  /** Like Telegram: a bot that left a channel or group gets 403; in a channel it needs the right for what it does. */
  private checkGroupWrite(chatId: number, what: 'post' | 'edit' | 'delete'): void {
    const group = this.groupChats.get(chatId);
    if (!group) return;
    const member = group.botMember;
    const where = group.chat.type === 'channel' ? 'channel chat' : 'group chat';
    if (member.status === 'kicked') throw new ApiFailure(403, `Forbidden: bot was kicked from the ${where}`);
    if (member.status === 'left') throw new ApiFailure(403, `Forbidden: bot is not a member of the ${where}`);
    if (group.chat.type !== 'channel' || member.status === 'creator') return;
    const right = what === 'post' ? member.can_post_messages : what === 'edit' ? member.can_edit_messages : member.can_delete_messages;
    if (member.status !== 'administrator' || !right) throw new ApiFailure(400, 'Bad Request: need administrator rights in the channel chat');
  }

  private getChat(ref: unknown): unknown {
    const text = String(ref);
    const group = text.startsWith('@')
      ? [...this.groupChats.values()].find((g) => g.chat.username?.toLowerCase() === text.slice(1).toLowerCase())
      : this.groupChats.get(Number(text));
    if (group) return { ...group.chat, accent_color_id: 0, max_reaction_count: 11, accepted_gift_types: { unlimited_gifts: false, limited_gifts: false, unique_gifts: false, premium_subscription: false } };
    const id = Number(text);
    if (Number.isSafeInteger(id) && id > 0 && this.chats.has(id)) return { id, type: 'private', first_name: 'User', accent_color_id: 0, max_reaction_count: 11 };
    throw new ApiFailure(400, 'Bad Request: chat not found');
  }

  private answerInline(p: Record<string, unknown>): true {
    const id = String(p.inline_query_id);
    if (this.inlineAnswers.some((a) => a.inlineQueryId === id)) throw new ApiFailure(400, 'Bad Request: query is too old and response timeout expired or query ID is invalid');
    const results = (typeof p.results === 'string' ? JSON.parse(p.results) : p.results) as InlineAnswer['results'];
    if (!Array.isArray(results) || results.length > 50) throw new ApiFailure(400, 'Bad Request: RESULTS_TOO_MUCH');
    const ids = new Set<string>();
    for (const r of results) {
      if (!r.id || Buffer.byteLength(r.id, 'utf8') > 64 || ids.has(r.id)) throw new ApiFailure(400, 'Bad Request: RESULT_ID_INVALID');
      ids.add(r.id);
      if (r.type === 'article' && (!r.title || !r.input_message_content)) throw new ApiFailure(400, 'Bad Request: RESULT_TYPE_INVALID');
      if (r.input_message_content) this.checkText(r.input_message_content.message_text, r.input_message_content.parse_mode, 4096);
      this.checkMarkup(r.reply_markup);
    }
    const button = (typeof p.button === 'string' ? JSON.parse(p.button) : p.button) as InlineAnswer['button'];
    if (button?.start_parameter !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(button.start_parameter)) throw new ApiFailure(400, 'Bad Request: START_PARAM_INVALID');
    this.inlineAnswers.push({ inlineQueryId: id, results, button, cacheTime: p.cache_time as number | undefined, isPersonal: Boolean(p.is_personal) });
    return true;
  }

  private enforceRate(): void {
    if (!this.ratePerSecond) return;
    const now = Date.now();
    while (this.sendTimes.length > 0 && this.sendTimes[0]! <= now - 1000) this.sendTimes.shift();
    if (this.sendTimes.length >= this.ratePerSecond) {
      this.rateLimited++;
      const wait = Math.max(1, Math.ceil((this.sendTimes[0]! + 1000 - now) / 1000));
      throw new ApiFailure(429, `Too Many Requests: retry after ${wait}`, wait);
    }
    this.sendTimes.push(now);
  }

  private checkText(value: unknown, parseMode: unknown, max: number): string {
    const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value);
    const plain = parseMode === 'HTML' ? htmlToPlain(text) : text;
    if (parseMode === 'HTML') {
      const problem = validateTelegramHtml(text);
      if (problem) throw new ApiFailure(400, problem);
    }
    // The limits count Unicode code points (4096 astral emoji are accepted, 4097 are not); only entity
    // offsets and lengths are counted in UTF-16 code units.
    if ([...plain].length > max) throw new ApiFailure(400, max === 4096 ? 'Bad Request: message is too long' : 'Bad Request: message caption is too long');
    return text;
  }

  private checkMarkup(markup: unknown): InlineKeyboardMarkup | undefined {
    if (markup === undefined || markup === null || markup === '') return undefined;
    const m = (typeof markup === 'string' ? JSON.parse(markup) : markup) as InlineKeyboardMarkup;
    if (!Array.isArray(m.inline_keyboard)) return undefined;
    for (const row of m.inline_keyboard) {
      for (const button of row) {
        if (!button.text) throw new ApiFailure(400, 'Bad Request: text buttons are unallowed in the inline keyboard');
        if ('callback_data' in button) {
          const size = Buffer.byteLength(button.callback_data, 'utf8');
          if (size < 1 || size > 64) throw new ApiFailure(400, 'Bad Request: BUTTON_DATA_INVALID');
        }
      }
    }
    return m;
  }

  private checkCommands(commands: unknown): void {
    const list = (typeof commands === 'string' ? JSON.parse(commands) : commands) as { command: string; description: string }[];
    for (const c of list) {
      if (!/^[a-z0-9_]{1,32}$/.test(c.command) || c.description.length < 1 || c.description.length > 256) {
        throw new ApiFailure(400, 'Bad Request: BOT_COMMAND_INVALID');
      }
    }
  }

  private fileOf(value: unknown, prefix: string): ShownMessage['file'] {
    if (typeof value === 'string') return { fileId: value };
    if (value && typeof value === 'object' && 'content' in value) {
      const v = value as { name?: string; content: Buffer };
      return { fileId: this.newFileId(prefix), name: v.name, content: v.content };
    }
    throw new ApiFailure(400, 'Bad Request: wrong file identifier/HTTP URL specified');
  }

  private chat(chatId: number) {
    let chat = this.chats.get(chatId);
    if (!chat) {
      chat = { nextId: 1, messages: new Map() };
      this.chats.set(chatId, chat);
    }
    return chat;
  }

  private send(p: Record<string, unknown>, kind: ShownMessage['kind'], html: string, file?: ShownMessage['file']): Message {
    const chatId = Number(p.chat_id);
    const chat = this.chat(chatId);
    const replyParameters = (typeof p.reply_parameters === 'string' ? JSON.parse(p.reply_parameters) : p.reply_parameters) as
      | { message_id?: number; allow_sending_without_reply?: boolean }
      | undefined;
    let replyTo = replyParameters?.message_id;
    // Like Telegram: a reply to a message that is gone goes out without the quote when that is allowed.
    const target = replyTo === undefined ? undefined : chat.messages.get(replyTo);
    if (replyTo !== undefined && (!target || target.deleted) && replyParameters?.allow_sending_without_reply) replyTo = undefined;
    const message: ShownMessage = {
      chatId,
      messageId: chat.nextId++,
      fromBot: true,
      html,
      text: p.parse_mode === 'HTML' ? htmlToPlain(html) : html,
      kind,
      replyMarkup: this.checkMarkup(p.reply_markup),
      replyTo,
      file,
      editCount: 0,
      deleted: false,
      sentAt: Date.now(),
    };
    chat.messages.set(message.messageId, message);
    return this.toTelegramMessage(message);
  }

  private copy(p: Record<string, unknown>): { message_id: number } {
    const from = this.message(Number(p.from_chat_id), Number(p.message_id));
    if (!from || from.deleted) throw new ApiFailure(400, 'Bad Request: message to copy not found');
    const caption = p.caption !== undefined ? this.checkText(p.caption, p.parse_mode, 1024) : from.html;
    const sent = this.send({ ...p, parse_mode: p.caption !== undefined ? p.parse_mode : undefined }, 'copy', caption, from.file);
    const copied = this.message(Number(p.chat_id), sent.message_id)!;
    copied.copiedFrom = { chatId: from.chatId, messageId: from.messageId };
    return { message_id: sent.message_id };
  }

  private edit(p: Record<string, unknown>, html: string | undefined): Message | true {
    const message = this.message(Number(p.chat_id), Number(p.message_id));
    if (!message || message.deleted || !message.fromBot) throw new ApiFailure(400, 'Bad Request: message to edit not found');
    const markup = this.checkMarkup(p.reply_markup);
    const sameText = html === undefined || html === message.html;
    const sameMarkup = JSON.stringify(markup ?? null) === JSON.stringify(message.replyMarkup ?? null);
    if (sameText && sameMarkup) {
      throw new ApiFailure(400, 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
    }
    if (html !== undefined) {
      message.html = html;
      message.text = p.parse_mode === 'HTML' ? htmlToPlain(html) : html;
    }
    message.replyMarkup = markup;
    message.editCount++;
    return this.toTelegramMessage(message);
  }

  private toTelegramMessage(m: ShownMessage): Message {
    const base = {
      message_id: m.messageId,
      date: Math.floor(m.sentAt / 1000),
      chat: (this.groupChats.get(m.chatId)?.chat ?? { id: m.chatId, type: 'private' as const, first_name: 'User' }) as Message['chat'],
      from: { id: this.botInfo.id, is_bot: true, first_name: this.botInfo.first_name, username: this.botInfo.username },
      ...(m.replyMarkup ? { reply_markup: m.replyMarkup } : {}),
    };
    if (m.kind === 'photo') {
      return { ...base, caption: m.text, photo: [{ file_id: m.file?.fileId ?? 'x', file_unique_id: 'u', width: 1, height: 1 }] };
    }
    if (m.kind === 'document') {
      return { ...base, caption: m.text, document: { file_id: m.file?.fileId ?? 'x', file_unique_id: 'u', file_name: m.file?.name } };
    }
    return { ...base, text: m.text };
  }

  private async getUpdates(p: Record<string, unknown>): Promise<Update[]> {
    const offset = Number(p.offset ?? 0);
    // Confirm everything below the offset, as Telegram does.
    while (this.updates.length > 0 && this.updates[0]!.update_id < offset) this.updates.shift();
    if (this.updates.length === 0) {
      const timeout = Math.min(Number(p.timeout ?? 0), 2) * 1000;
      if (timeout > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeout);
          this.updateWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
    return this.updates.slice(0, Number(p.limit ?? 100));
  }

  // ---------- adapters ----------

  /** grammY client `fetch`: the full grammY stack (transformers, serialisation) runs, without a socket. */
  readonly fetch = (async (input: unknown, init?: { body?: unknown; headers?: Record<string, string> }) => {
    const url = new URL(String(input));
    const method = url.pathname.split('/').pop() ?? '';
    const contentType = init?.headers?.['content-type'] ?? 'application/json';
    const payload = await parseBody(init?.body, contentType);
    const result = await this.call(method, payload);
    return { ok: true, status: 200, json: async () => result };
  }) as unknown as typeof fetch;

  /** An HTTP Bot API server on 127.0.0.1 for TELEGRAM_API_ROOT. */
  async listen(port = 0): Promise<{ url: string; server: Server; close(): Promise<void> }> {
    const server = createServer((req, res) => void this.handleHttp(req, res));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const address = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${address.port}`,
      server,
      close: () =>
        new Promise<void>((resolve) => {
          this.updateWaiters.forEach((w) => w());
          this.setUnresponsive(false);
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  /**
   * An unresponsive Telegram (HTTP mode): requests are accepted and never answered until this is turned
   * off again; the held requests then get a 502, as from a proxy whose upstream was away.
   */
  setUnresponsive(on: boolean): void {
    this.unresponsive = on;
    if (!on) {
      const held = this.held;
      this.held = [];
      held.forEach((release) => release());
    }
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.unresponsive) {
      req.resume();
      await new Promise<void>((resolve) => this.held.push(resolve));
      if (!res.destroyed) res.writeHead(502).end(JSON.stringify({ ok: false, error_code: 502, description: 'Bad Gateway' }));
      return;
    }
    try {
      const match = /^\/bot([^/]+)\/(\w+)$/.exec(req.url?.split('?')[0] ?? '');
      if (!match) {
        res.writeHead(404).end(JSON.stringify({ ok: false, error_code: 404, description: 'Not Found' }));
        return;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const payload = await parseBody(body.length > 0 ? body : undefined, req.headers['content-type'] ?? 'application/json');
      const result = await this.call(match[2]!, payload);
      res.writeHead(result.ok ? 200 : result.error_code, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    } catch (err) {
      res.writeHead(500).end(JSON.stringify({ ok: false, error_code: 500, description: `Internal Server Error: ${(err as Error).message}` }));
    }
  }
}

async function parseBody(body: unknown, contentType: string): Promise<Record<string, unknown>> {
  if (body === undefined || body === null) return {};
  if (typeof body === 'string') return JSON.parse(body) as Record<string, unknown>;
  const buffer = Buffer.isBuffer(body) ? body : await readStream(body as AsyncIterable<Uint8Array>);
  if (!contentType.startsWith('multipart/form-data')) return JSON.parse(buffer.toString('utf8')) as Record<string, unknown>;
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!boundary) throw new Error('multipart body without boundary');
  const parts = parseMultipart(buffer, boundary[1] ?? boundary[2]!);
  const fields: Record<string, unknown> = {};
  const files = new Map<string, { name: string; content: Buffer }>();
  for (const part of parts) {
    if (part.filename !== undefined) files.set(part.name, { name: part.filename, content: part.content });
    else {
      const value = part.content.toString('utf8');
      fields[part.name] = /^[[{]/.test(value) ? JSON.parse(value) : value;
    }
  }
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === 'string' && value.startsWith('attach://')) fields[key] = files.get(value.slice('attach://'.length));
  }
  return fields;
}

/**
 * A small multipart/form-data parser, tolerant of the compact part headers grammY writes
 * (`content-disposition:form-data;name="x"`), which the form parser of Node 20 refuses.
 */
function parseMultipart(body: Buffer, boundary: string): { name: string; filename?: string; content: Buffer }[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: { name: string; filename?: string; content: Buffer }[] = [];
  let position = body.indexOf(delimiter);
  while (position >= 0) {
    const start = position + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next - 2); // skip CRLF after the delimiter and before the next
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString('utf8');
    const disposition = /content-disposition:\s*form-data\s*;([^\r\n]*)/i.exec(headers)?.[1] ?? '';
    const name = /(?:^|;)\s*name="([^"]*)"/i.exec(disposition)?.[1];
    const filename = /filename="?([^";]*)"?/i.exec(disposition)?.[1];
    if (name !== undefined) parts.push({ name, ...(filename !== undefined ? { filename } : {}), content: part.subarray(headerEnd + 4) });
    position = next;
  }
  return parts;
}

async function readStream(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
