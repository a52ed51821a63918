import { Api, type Bot } from 'grammy';
import type { InlineKeyboardButton, Message, Update } from 'grammy/types';
import { CityDirectory, loadCity } from '../../src/city';
import { ManualClock } from '../../src/clock';
import { type Config, parseConfig } from '../../src/config';
import { createBot, type CreateBotOptions } from '../../src/bot';
import type { Context, Deps } from '../../src/bot/context';
import { createTranslator } from '../../src/i18n';
import { createLogger, createSilentLogger, type Logger } from '../../src/logger';
import { createRenderers } from '../../src/delivery';
import { type DeliveryStats, DeliveryWorker, type DeliveryWorkerOptions } from '../../src/delivery/worker';
import { createSweeps } from '../../src/background';
import { Scheduler } from '../../src/scheduler';
import { createTestDb, resetTestDb, type TestDatabase } from './db';
import { FakeTelegram, type FakeTelegramOptions, type InlineAnswer, type ShownMessage } from './fake-telegram';
import { callbackUpdate, editedMessageUpdate, inlineQueryUpdate, messageUpdate, myChatMemberUpdate, type Persona } from './updates';
import { createDeliveryPort } from '../../src/delivery/port';
import { sendDueWaves, type WaveContext, waveSettings } from '../../src/domain/waves';
import { createTranslationService, type TranslationService } from '../../src/translate/service';

/** A test token in the shape BotFather gives out. */
export const TEST_TOKEN = '123456789:TEST-token-for-hilfenetz-only_x';

export interface HarnessOptions {
  env?: Record<string, string>;
  clock?: ManualClock;
  telegram?: FakeTelegramOptions;
  /** Reuse a database (e.g. to simulate a restart with a new bot on the same data). */
  db?: TestDatabase;
  bot?: Partial<CreateBotOptions>;
  /** The bot's logger (e.g. one writing to memory, to check what the logs contain); silent by default. */
  logger?: Logger;
  /** With TRANSLATE_URL in env: overrides of the engine client (short retry pauses in tests). */
  translationEngine?: Parameters<typeof createTranslationService>[1]['engine'];
}

/**
 * The production bot (createBot) on a real, migrated database, talking to the Bot API stand-in.
 * Users are driven like people: they send texts, photos and stickers and press the buttons they see.
 */
export class Harness {
  readonly users = new Map<number, TestUser>();
  private worker?: DeliveryWorker;
  private scheduler?: Scheduler;

  constructor(
    readonly bot: Bot<Context>,
    readonly db: TestDatabase,
    readonly clock: ManualClock,
    readonly telegram: FakeTelegram,
    readonly config: Config,
    readonly deps: Deps,
    /** Machine translation when the env sets TRANSLATE_URL (the same service background work builds). */
    readonly translation: TranslationService | null = null,
  ) {}

  /** A person with a Telegram account; `language_code` is what their Telegram app reports. */
  user(persona: Persona): TestUser {
    let user = this.users.get(persona.id);
    if (!user) {
      user = new TestUser(this, persona);
      this.users.set(persona.id, user);
    }
    return user;
  }

  /**
   * The production delivery worker on this database and stand-in, without per-chat spacing (tests do
   * not wait a second between two messages to one chat unless they ask for it).
   */
  deliveryWorker(options: Partial<DeliveryWorkerOptions> = {}): DeliveryWorker {
    return new DeliveryWorker({
      db: this.db.db,
      api: new Api(this.config.BOT_TOKEN, { fetch: this.telegram.fetch }),
      clock: this.clock,
      logger: this.deps.logger,
      renderers: createRenderers(),
      renderEnv: {
        db: this.db.db,
        clock: this.clock,
        config: this.config,
        city: this.deps.city,
        i18n: this.deps.i18n,
        botUsername: this.telegram.botInfo.username,
        ...(this.translation ? { translation: this.translation } : {}),
      },
      rate: 1000,
      perChatIntervalMs: 0,
      ...options,
    });
  }

  /** Sends everything due in the outbox now (messages to other people), as the background worker would. */
  async deliver(): Promise<DeliveryStats> {
    this.worker ??= this.deliveryWorker();
    return this.worker.drain();
  }

  /** Runs the translation job once: every due job is worked off (needs TRANSLATE_URL in the env). */
  async translate(): Promise<number> {
    if (!this.translation) throw new Error('translate(): the harness has no TRANSLATE_URL');
    return this.translation.runner.runDue();
  }

  /** Runs the periodic sweeps once (expiry reminders, expiry, …) at the clock's time. */
  async sweep(): Promise<Record<string, number | null>> {
    this.scheduler ??= new Scheduler(this.db.db, this.clock, this.deps.logger, createSweeps(this.config, this.deps.city));
    return this.scheduler.runAll();
  }

  /** Runs the wave job once (every due wave of a need goes out) at the clock's time; returns the needs handled. */
  async sendDueWaves(): Promise<number> {
    return sendDueWaves(this.db.db, waveContext(this));
  }

  /** Feeds one raw update to the bot, as the runner would. */
  async handle(update: Update): Promise<void> {
    await this.bot.handleUpdate(update);
  }

  /** A second bot on the same database and stand-in, as after a restart or in a second process. */
  async restart(options: Partial<CreateBotOptions> = {}): Promise<Harness> {
    const bot = createBot(this.config, this.deps, {
      botInfo: this.telegram.botInfo,
      client: { fetch: this.telegram.fetch },
      userRateLimit: { limit: 10_000, timeFrameMs: 1_000 },
      ...options,
    });
    const next = new Harness(bot, this.db, this.clock, this.telegram, this.config, this.deps, this.translation);
    for (const [id, user] of this.users) next.users.set(id, new TestUser(next, user.persona));
    return next;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/** The wave job's context, as background work builds it. */
export function waveContext(h: Pick<Harness, 'clock' | 'config' | 'deps'>): WaveContext {
  return {
    clock: h.clock,
    timeZone: h.deps.city.timezone,
    quietHours: h.config.QUIET_HOURS,
    waves: waveSettings(h.config, h.deps.city),
    isProtected: (c) => h.deps.city.isProtected(c),
  };
}

/** Builds the harness: a fresh database unless one is given. */
export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const db = options.db ?? (await createTestDb());
  const clock = options.clock ?? new ManualClock();
  const telegram = new FakeTelegram(options.telegram);
  const config = parseConfig({ BOT_TOKEN: TEST_TOKEN, LOG_LEVEL: 'silent', ...options.env });
  const deps: Deps = {
    config,
    db: db.db,
    clock,
    // TEST_LOG=debug npm test -- … shows the bot's logs while debugging a test.
    logger: options.logger ?? (process.env.TEST_LOG ? createLogger(process.env.TEST_LOG) : createSilentLogger()),
    city: new CityDirectory(loadCity(config.CITY_FILE)),
    i18n: createTranslator(config.DEFAULT_LOCALE),
    // Handlers reach the delivery side through this port; tests drain the outbox themselves.
    delivery: createDeliveryPort(() => ({ db: db.db, api: bot.api, clock, i18n: deps.i18n, city: deps.city, logger: deps.logger, rate: config.BROADCAST_RATE }), () => undefined),
  };
  const translation = createTranslationService(config, { db: db.db, clock, logger: deps.logger, engine: { retries: 0, ...options.translationEngine } });
  if (translation) deps.translator = translation.engine;
  const bot = createBot(config, deps, {
    botInfo: telegram.botInfo,
    client: { fetch: telegram.fetch },
    userRateLimit: { limit: 10_000, timeFrameMs: 1_000 },
    ...options.bot,
  });
  return new Harness(bot, db, clock, telegram, config, deps, translation);
}

/** What happened in the user's chat while the bot handled one update. */
export interface Reaction {
  /** Messages the bot sent to this chat. */
  sent: ShownMessage[];
  /** Messages the bot edited in this chat (current state). */
  edited: ShownMessage[];
  /** The callback answer, for button presses. */
  answer?: { text?: string; showAlert: boolean };
}

let inlineQueries = 0;

/** One person using the bot. */
export class TestUser {
  constructor(
    readonly harness: Harness,
    readonly persona: Persona,
  ) {}

  get id(): number {
    return this.persona.id;
  }

  /** Sends a text (a leading /command gets its bot_command entity, as in Telegram). */
  send(text: string, extra: Partial<Message> = {}): Promise<Reaction> {
    const own = this.harness.telegram.recordUserMessage(this.id, text);
    return this.observe(() => this.harness.handle(messageUpdate(this.persona, own.messageId, { text, ...extra })));
  }

  /** Replies to a message in the chat (e.g. to a relayed message). */
  reply(to: ShownMessage | number, text: string): Promise<Reaction> {
    const toId = typeof to === 'number' ? to : to.messageId;
    const target = this.harness.telegram.message(this.id, toId);
    const replyTo = { message_id: toId, date: 0, chat: { id: this.id, type: 'private' }, text: target?.text ?? '' } as Message;
    return this.send(text, { reply_to_message: replyTo } as Partial<Message>);
  }

  sendPhoto(caption?: string, extra: Partial<Message> = {}): Promise<Reaction> {
    const fileId = this.harness.telegram.newFileId('photo');
    const own = this.harness.telegram.recordUserMessage(this.id, caption ?? '', { kind: 'user', file: { fileId } });
    const photo = [
      { file_id: `${fileId}_s`, file_unique_id: `${fileId}u1`, width: 90, height: 90, file_size: 1_000 },
      { file_id: fileId, file_unique_id: `${fileId}u2`, width: 1280, height: 960, file_size: 120_000 },
    ];
    return this.observe(() =>
      this.harness.handle(messageUpdate(this.persona, own.messageId, { photo, ...(caption ? { caption } : {}), ...extra })),
    );
  }

  sendSticker(): Promise<Reaction> {
    const own = this.harness.telegram.recordUserMessage(this.id, '');
    const sticker = { file_id: 'sticker1', file_unique_id: 's1', type: 'regular', width: 512, height: 512, is_animated: false, is_video: false };
    return this.observe(() => this.harness.handle(messageUpdate(this.persona, own.messageId, { sticker } as Partial<Message>)));
  }

  sendVoice(): Promise<Reaction> {
    const own = this.harness.telegram.recordUserMessage(this.id, '');
    const voice = { file_id: 'voice1', file_unique_id: 'v1', duration: 3 };
    return this.observe(() => this.harness.handle(messageUpdate(this.persona, own.messageId, { voice })));
  }

  sendDocument(name = 'scan.pdf'): Promise<Reaction> {
    const own = this.harness.telegram.recordUserMessage(this.id, '');
    const document = { file_id: this.harness.telegram.newFileId('doc'), file_unique_id: 'd1', file_name: name, mime_type: 'application/pdf' };
    return this.observe(() => this.harness.handle(messageUpdate(this.persona, own.messageId, { document })));
  }

  /** Edits one of the user's own earlier messages. */
  edit(messageId: number, text: string): Promise<Reaction> {
    return this.observe(() => this.harness.handle(editedMessageUpdate(this.persona, messageId, text)));
  }

  /** Types `@bot <query>` in some chat (or presses a "Share" button); returns what the bot answered. */
  async inline(query: string): Promise<InlineAnswer | undefined> {
    const id = `iq${this.id}-${++inlineQueries}`;
    await this.harness.handle(inlineQueryUpdate(this.persona, id, query));
    return this.harness.telegram.inlineAnswers.find((a) => a.inlineQueryId === id);
  }

  /** Blocks (or unblocks) the bot in Telegram. */
  async setBlocked(blocked: boolean): Promise<void> {
    if (blocked) this.harness.telegram.block(this.id);
    else this.harness.telegram.blocked.delete(this.id);
    await this.harness.handle(myChatMemberUpdate(this.persona, blocked ? 'kicked' : 'member'));
  }

  /**
   * Presses the button with this label (exact text, or a pattern) on the newest message showing it,
   * or on the given message.
   */
  async click(label: string | RegExp, on?: ShownMessage | number): Promise<Reaction> {
    const { message, button } = this.findButton(label, on);
    return this.press(button.callback_data, message);
  }

  /** Sends callback data as if a button carried it (forged or replayed data). */
  press(data: string, on?: ShownMessage | number): Promise<Reaction> {
    const message = typeof on === 'number' ? this.harness.telegram.message(this.id, on) : on;
    const telegramMessage = message
      ? ({
          message_id: message.messageId,
          date: Math.floor(message.sentAt / 1000),
          chat: { id: this.id, type: 'private', first_name: this.persona.first_name },
          from: { id: this.harness.telegram.botInfo.id, is_bot: true, first_name: 'Hilfenetz' },
          text: message.text,
          // A photo (or a copied photo) carries its caption, as in Telegram; handlers edit it with editMessageCaption.
          ...(message.kind === 'photo' || (message.kind === 'copy' && message.file) ? { caption: message.text, photo: [{ file_id: message.file?.fileId ?? 'photo', file_unique_id: 'p1', width: 1280, height: 960 }] } : {}),
          ...(message.replyMarkup ? { reply_markup: message.replyMarkup } : {}),
        } as Message)
      : undefined;
    const { update, id } = callbackUpdate(this.persona, telegramMessage, data);
    return this.observe(() => this.harness.handle(update), id);
  }

  /** Bot messages in this chat, oldest first, as they look now. */
  get messages(): ShownMessage[] {
    return this.harness.telegram.messages(this.id);
  }

  /** The newest bot message. */
  get last(): ShownMessage {
    const all = this.messages;
    const last = all[all.length - 1];
    if (!last) throw new Error(`${this.persona.first_name} has no messages from the bot`);
    return last;
  }

  /** Labels of the buttons on a message (the newest by default). */
  buttons(on?: ShownMessage): string[] {
    const message = on ?? this.last;
    return (message.replyMarkup?.inline_keyboard ?? []).flat().map((b) => b.text);
  }

  /** The newest message whose text matches. */
  find(pattern: RegExp | string): ShownMessage | undefined {
    return [...this.messages].reverse().find((m) => (typeof pattern === 'string' ? m.text.includes(pattern) : pattern.test(m.text)));
  }

  private findButton(label: string | RegExp, on?: ShownMessage | number): { message: ShownMessage; button: InlineKeyboardButton.CallbackButton } {
    const matches = (b: InlineKeyboardButton) => 'callback_data' in b && (typeof label === 'string' ? b.text === label : label.test(b.text));
    const candidates =
      on === undefined
        ? [...this.messages].reverse()
        : [typeof on === 'number' ? this.harness.telegram.message(this.id, on)! : this.harness.telegram.message(this.id, on.messageId)!];
    for (const message of candidates) {
      const button = message?.replyMarkup?.inline_keyboard.flat().find(matches);
      if (message && button) return { message, button: button as InlineKeyboardButton.CallbackButton };
    }
    const seen = candidates
      .slice(0, 3)
      .map((m) => `#${m?.messageId}: [${(m?.replyMarkup?.inline_keyboard ?? []).flat().map((b) => b.text).join(' | ')}]`)
      .join('\n');
    throw new Error(`${this.persona.first_name}: no button ${String(label)} in the chat. Newest keyboards:\n${seen}`);
  }

  private async observe(action: () => Promise<void>, callbackId?: string): Promise<Reaction> {
    const telegram = this.harness.telegram;
    const before = new Map(telegram.messages(this.id).map((m) => [m.messageId, m.editCount]));
    await action();
    const after = telegram.messages(this.id);
    const reaction: Reaction = {
      sent: after.filter((m) => !before.has(m.messageId)),
      edited: after.filter((m) => before.has(m.messageId) && before.get(m.messageId) !== m.editCount),
    };
    if (callbackId) {
      const answer = telegram.answers.find((a) => a.callbackQueryId === callbackId);
      if (answer) reaction.answer = { text: answer.text, showAlert: answer.showAlert };
    }
    return reaction;
  }
}

/** Three people with different Telegram languages, as most tests need them. */
export const PEOPLE = {
  olena: { id: 380_501, first_name: 'Олена', language_code: 'uk' },
  jonas: { id: 490_101, first_name: 'Jonas', language_code: 'de', username: 'jonas_hilft' },
  irina: { id: 370_201, first_name: 'Ирина', language_code: 'ru' },
  alex: { id: 440_301, first_name: 'Alex', language_code: 'en' },
  maria: { id: 490_102, first_name: 'Maria', language_code: 'de' },
  petro: { id: 380_502, first_name: 'Петро', language_code: 'uk' },
} satisfies Record<string, Persona>;

/**
 * Jest wiring for a test file: one database for the file (PGlite takes a second or two to start),
 * emptied before each test, and a fresh harness (bot, clock, Bot API stand-in) per test.
 */
export function useHarness(options: Omit<HarnessOptions, 'db'> = {}): { readonly current: Harness } {
  let db: TestDatabase | undefined;
  let current: Harness | undefined;
  beforeAll(async () => {
    db = await createTestDb();
  });
  beforeEach(async () => {
    await resetTestDb(db!);
    current = await createHarness({ ...options, db, clock: options.clock ?? new ManualClock() });
  });
  afterAll(async () => {
    await db?.close();
  });
  return {
    get current() {
      if (!current) throw new Error('useHarness: no harness outside a test');
      return current;
    },
  };
}
