import { eq, sql } from 'drizzle-orm';
import type { Message, Update } from 'grammy/types';
import { contacts, invites, notices, posts, reports, users } from '../src/db/schema';
import { queryRows } from '../src/db';
import { createLogger } from '../src/logger';
import type { ShownMessage } from './helpers/fake-telegram';
import {
  commandText,
  forbiddenChanges,
  forgedCallbackData,
  fuzzText,
  INTAKE_NAMES,
  mediaContent,
  privilegedChanges,
  randomCallbackData,
  Rng,
  type Snapshot,
  startPayload,
  takeSnapshot,
} from './helpers/fuzz';
import { onboard, post, subscribe } from './helpers/flows';
import { createHarness, type Harness, PEOPLE, type TestUser } from './helpers/harness';
import { editedMessageUpdate, groupMessageUpdate, messageUpdate, myChatMemberUpdate, nextUpdateId, type Persona } from './helpers/updates';
import { verifyPeople } from './helpers/verification';

/**
 * Bad input: thousands of generated updates — malformed texts, unexpected media, forged and replayed
 * button data, junk commands, strangers, edited messages, chats the bot never saw — from people of every
 * role. Afterwards nothing crashed, every private message and button press was answered, Telegram never
 * had to refuse what the bot sent, and nobody changed state they were not allowed to change (checked
 * after every single update against a snapshot of the database).
 *
 * Reproduce a run: FUZZ_SEED=<seed> FUZZ_UPDATES=<n> npm test -- test/fuzz.test.ts
 * (FUZZ_VERBOSE=1 prints what was generated and how long each phase took.)
 */
const SEED = Number(process.env.FUZZ_SEED || 20_260_301);
/**
 * 1 000 updates in `npm test`; .ci/run adds a run of 3 000 (the former default, so the same sequence and
 * everything it reached), which finds what only a longer run with more state gets to.
 */
const TOTAL = Number(process.env.FUZZ_UPDATES || 1_000);
const VERBOSE = Boolean(process.env.FUZZ_VERBOSE);
const REPRODUCE = `FUZZ_SEED=${SEED} FUZZ_UPDATES=${TOTAL} npm test -- test/fuzz.test.ts`;
/** Phase A (non-privileged senders), B (with staff), C (with the coordinator). */
const PHASE_SIZES = { A: Math.round(TOTAL * 0.45), B: Math.round(TOTAL * 0.3), C: TOTAL - Math.round(TOTAL * 0.45) - Math.round(TOTAL * 0.3) };
const TIMEOUT_MS = Math.max(240_000, TOTAL * 150);

const COORDINATOR: Persona = { id: 999_001, first_name: 'Sabine', language_code: 'de' };
const CHANNEL = { id: -1_001_000_000_301, type: 'channel' as const, title: 'Hilfe Duisburg', username: 'hilfe_duisburg' };
const STAFF: Persona = { id: 777_001, first_name: 'Katrin', language_code: 'de' };
const BANNED: Persona = { id: 555_001, first_name: 'Bruno', language_code: 'de' };
const SEEKERS = [PEOPLE.olena, PEOPLE.irina, PEOPLE.alex];
const HELPERS = [PEOPLE.jonas, PEOPLE.maria, PEOPLE.petro];
/** People who never wrote to the bot before the fuzz; their names are part of the bad input. */
const NEWCOMERS: Persona[] = [
  { id: 600_001, first_name: '<b>Mallory</b> & Co', language_code: 'ar' },
  { id: 600_002, first_name: '\u202eRTL\u200f name', last_name: '</i>' },
  { id: 600_003, first_name: '👨‍👩‍👧‍👦🇺🇦', language_code: 'uk' },
  { id: 600_004, first_name: 'x'.repeat(64), language_code: 'zh-hans' },
  { id: 600_005, first_name: "'; drop table users; --", language_code: 'ru', username: 'robert_tables' },
  { id: 600_006, first_name: 'Ärger Ünal', language_code: 'de-AT' },
];
const ODD_NAMES = ['&amp;', '<script>', 'a\u0000b', '\u200d', 'Ω', 'Ирина-Мария', 'O’Brien', '{{name}}', ' ', '🙂'];
const LANGUAGE_CODES = ['uk', 'de', 'ru', 'en', 'ar', 'tr', '', 'UK', 'pt-br', 'ru-RU', 'xx', undefined];

/** Bot API methods that put something in front of the user in their chat. */
const REPLY_METHODS = new Set(['sendMessage', 'sendPhoto', 'sendDocument', 'copyMessage', 'setMessageReaction']);
/**
 * Refusals of the Bot API stand-in that are expected under fuzzing, and why:
 * - "message is not modified": a button that shows the screen already shown (the bot treats it as done);
 * - "message to edit not found": forged and replayed buttons name messages that are not in the presser's
 *   chat (or are the user's own messages); the bot then sends the screen as a new message.
 */
const EXPECTED_REFUSALS = [/message is not modified/, /message to edit not found/];
/**
 * pino's warn level: "update failed" (an error caught by the error boundary), "could not tell the user
 * about the error", failed deliveries — none of them may occur.
 */
const WARN = 40;

interface Recorded {
  method: string;
  payload: Record<string, unknown>;
  ok: boolean;
  description?: string;
}

type SenderRole = 'new' | 'seeker' | 'helper' | 'staff' | 'coordinator' | 'banned' | 'unknown';

interface Planned {
  update: Update;
  /**
   * reply: a private message or edit, answered by a message or a reaction in that chat; answer: a button
   * press (in any chat, or on an inline message), answered with answerCallbackQuery; none: no answer is
   * possible or wanted — my_chat_member (the person blocked or unblocked the bot), group messages that are
   * not commands for this bot, channel posts, inline queries (Hilfenetz has no inline mode).
   */
  expect: 'reply' | 'answer' | 'none';
  chatId?: number;
  callbackId?: string;
  what: string;
}

interface Problems {
  escaped: string[];
  crashed: string[];
  silent: string[];
  refused: string[];
  forbidden: string[];
}

/**
 * Telegram's updates are UTF-8, so they never hold a lone surrogate; cuts the generators make in the
 * middle of an emoji are repaired here (in place) instead of being fed to the bot.
 */
function wellFormed(node: unknown): void {
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (typeof value === 'string') (node as Record<string, unknown>)[key] = value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
    else wellFormed(value);
  }
}

function fail(title: string, problems: string[]): void {
  if (problems.length === 0) return;
  const shown = problems.slice(0, 25).join('\n  ');
  throw new Error(`${title}: ${problems.length}\n  ${shown}${problems.length > 25 ? '\n  …' : ''}\n\nReproduce: ${REPRODUCE}`);
}

const short = (value: unknown, max = 90) => {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > max ? `${s.slice(0, max)}…` : s;
};

describe(`fuzz (seed ${SEED}, ${TOTAL} updates)`, () => {
  let h: Harness;
  const rng = new Rng(SEED);
  const recorded: Recorded[] = [];
  const logLines: { level: number; msg: string; line: string }[] = [];
  const rejections: string[] = [];
  const onRejection = (reason: unknown) => void rejections.push(`unhandled rejection: ${String((reason as Error)?.stack ?? reason).slice(0, 500)}`);
  const onException = (err: Error) => void rejections.push(`uncaught exception: ${String(err?.stack ?? err).slice(0, 500)}`);
  /** Chats the bot may have written to (for harvesting buttons). */
  const chats = new Set<number>();
  /** Recent updates per sender, for replays. */
  const history = new Map<number, Update[]>();
  const unknownPool: Persona[] = [];
  const stats = new Map<string, number>();
  let snapshot: Snapshot;
  let usedStaffCode = '';
  let postIds: number[] = [];
  let callbackCounter = 0;

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
    const logger = createLogger('warn', {
      write: (line: string) => {
        const parsed = JSON.parse(line) as { level: number; msg: string };
        logLines.push({ level: parsed.level, msg: parsed.msg, line: line.slice(0, 600) });
      },
    });
    h = await createHarness({ env: { ADMIN_TELEGRAM_IDS: String(COORDINATOR.id) }, logger });
    // Every answer of the stand-in is recorded: refusals are checked, answers to each update counted.
    const call = h.telegram.call.bind(h.telegram);
    h.telegram.call = async (method, payload) => {
      const result = await call(method, payload);
      recorded.push({ method, payload, ok: result.ok, ...(result.ok ? {} : { description: result.description }) });
      return result;
    };
    for (let i = 0; i < 25; i++) unknownPool.push(unknownPersona());
  });

  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    if (VERBOSE) {
      const logged = new Map<string, number>();
      for (const l of logLines) logged.set(l.msg, (logged.get(l.msg) ?? 0) + 1);
      process.stdout.write(`warnings and errors logged: ${JSON.stringify(Object.fromEntries(logged))}\n`);
      const lines = [...stats].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n}`);
      process.stdout.write(`fuzz seed ${SEED}, ${TOTAL} updates\n  ${lines.join('\n  ')}\n`);
    }
    await h?.close();
  });

  function unknownPersona(): Persona {
    const language = rng.pick(LANGUAGE_CODES);
    const name = rng.chance(0.5) ? rng.pick(ODD_NAMES) : fuzzText(rng).slice(0, 64);
    return {
      id: rng.int(1_000_000_000, 8_000_000_000),
      first_name: name === '' ? 'X' : name,
      ...(language !== undefined ? { language_code: language } : {}),
      ...(rng.chance(0.3) ? { username: `u${rng.int(10_000, 99_999)}` } : {}),
    };
  }

  function count(key: string): void {
    stats.set(key, (stats.get(key) ?? 0) + 1);
  }

  // ---------------------------------------------------------------- setup through the normal flows

  /** Presses the newest button in the user's chat that carries this data (or sends it on the newest message). */
  function pressData(user: TestUser, data: string) {
    const message = [...user.messages].reverse().find((m) => m.replyMarkup?.inline_keyboard.flat().some((b) => 'callback_data' in b && b.callback_data === data));
    return user.press(data, message ?? user.last);
  }

  async function userId(persona: Persona): Promise<number> {
    const [row] = await h.db.db.select({ id: users.id }).from(users).where(eq(users.telegramId, persona.id));
    return row!.id;
  }

  /** The id of the (first) post this person wrote. */
  async function postOf(persona: Persona): Promise<number> {
    const [row] = await h.db.db.select({ id: posts.id }).from(posts).where(eq(posts.authorId, await userId(persona))).orderBy(posts.id);
    return row!.id;
  }

  /** The id of the (first) offer of help this person made. */
  async function contactOf(responder: Persona): Promise<number> {
    const [row] = await h.db.db.select({ id: contacts.id }).from(contacts).where(eq(contacts.responderId, await userId(responder))).orderBy(contacts.id);
    return row!.id;
  }

  /** /broadcast to everyone with a German text, through the composer's buttons. */
  async function broadcast(author: TestUser, text: string): Promise<void> {
    await author.send('/broadcast');
    await pressData(author, 'bc:aud:everyone');
    await pressData(author, 'bc:next:-');
    await pressData(author, 'bc:next:-');
    await author.send(text);
    await pressData(author, 'bc:skip:-');
    await pressData(author, 'bc:skip:-');
    await pressData(author, 'bc:nomedia:-');
    await pressData(author, 'bc:send:-');
  }

  it('sets up real state: roles, posts, subscriptions, a conversation, a notice, reports, a ban', async () => {
    const coordinator = h.user(COORDINATOR);
    await coordinator.send('/start');
    await pressData(coordinator, 'o:dist:mitte');
    // A channel for the whole city, so that forged /channels buttons meet a real one and posts are mirrored.
    h.telegram.addGroupChat(CHANNEL);
    await coordinator.send('/channels');
    await pressData(coordinator, 'chn:add:-:-');
    await coordinator.send(`@${CHANNEL.username}`);
    await coordinator.send('/invite Sozialamt Duisburg');
    usedStaffCode = /start=staff_([A-Za-z0-9_-]+)/.exec(coordinator.last.text)![1]!;
    // A second invite stays unused: nobody but the coordinator has seen its code.
    await coordinator.send('/invite Caritas Duisburg');
    const staff = h.user(STAFF);
    await staff.send(`/start staff_${usedStaffCode}`);

    const [olena, irina, alex] = SEEKERS.map((p) => h.user(p)) as [TestUser, TestUser, TestUser];
    const [jonas, maria, petro] = HELPERS.map((p) => h.user(p)) as [TestUser, TestUser, TestUser];
    const bruno = h.user(BANNED);
    await onboard(olena, 'seeker', 'Гамборн (Hamborn)');
    await onboard(irina, 'seeker', 'Центр (Mitte)');
    await onboard(alex, 'seeker', 'Hamborn');
    await onboard(jonas, 'helper', 'Hamborn');
    await onboard(maria, 'helper', 'Hamborn');
    await onboard(petro, 'helper', '🏙 Увесь Дуйсбург');
    await onboard(bruno, 'helper', 'Hamborn');
    await subscribe(jonas, ['🏠 Wohnen'], ['Hamborn']);
    await subscribe(maria, ['🏠 Wohnen', '🩺 Gesundheit'], ['Hamborn']);
    // Housing is a protected category: only verified helpers are told of its needs or may offer help.
    await verifyPeople(h, jonas, maria);

    await post(olena, 'need', '🏠 Житло', 'Гамборн (Hamborn)', 'Шукаю кімнату для себе й доньки, недорого.');
    await post(irina, 'need', '🏛 Ведомства и документы', 'Центр (Mitte)', 'Нужна помощь с заявлением в Jobcenter.');
    await post(petro, 'offer', '🏛 Установи та документи', '🏙 Увесь Дуйсбург', 'Допоможу заповнити анкети та листи до установ.');
    await post(jonas, 'offer', '🚚 Transport & Umzug', 'Hamborn', 'Ich helfe samstags beim Umzug, mit Transporter.');
    await h.deliver();

    // Jonas and Maria offer help to Olena; she accepts Jonas, Maria's offer keeps waiting.
    const olenaPost = await postOf(PEOPLE.olena);
    await pressData(jonas, `c:req:${olenaPost}`);
    await pressData(maria, `c:req:${olenaPost}`);
    await h.deliver();
    await pressData(olena, `c:acc:${await contactOf(PEOPLE.jonas)}`);
    await h.deliver();
    await jonas.send('Hallo! Wann passt es Ihnen, die Wohnung anzusehen?');
    await olena.send('Добрий день! У суботу о 10:00.');
    await olena.sendPhoto('Ось план квартири & <адреса>');
    await h.deliver();

    // Irina is interested in Petro's offer, he accepts, she ends the conversation and blocks him.
    await pressData(irina, `c:req:${await postOf(PEOPLE.petro)}`);
    await h.deliver();
    const irinaContact = await contactOf(PEOPLE.irina);
    await pressData(petro, `c:acc:${irinaContact}`);
    await h.deliver();
    await irina.press(`c:block:${irinaContact}`, irina.last);

    // Reports: Maria reports Olena's need (stays open); Olena reports Bruno's offer, and he is banned.
    await pressData(maria, `r:post:${olenaPost}:-`);
    await pressData(maria, `r:post:${olenaPost}:spam`);
    await post(bruno, 'offer', '🏠 Wohnen', 'Hamborn', 'Zimmer frei, nur gegen Vorkasse per Western Union.');
    await h.deliver();
    const brunoPost = await postOf(BANNED);
    await pressData(olena, `r:post:${brunoPost}:-`);
    await pressData(olena, `r:post:${brunoPost}:spam`);
    const [brunoReport] = await h.db.db.select().from(reports).where(eq(reports.targetUserId, await userId(BANNED)));
    await coordinator.send('/moderation');
    await coordinator.press(`mo:banr:${brunoReport!.id}:spam`, coordinator.last);

    await broadcast(staff, 'Das Bürgerbüro Hamborn ist am Freitag geschlossen.');
    await h.deliver();

    // The cards of the open posts are in the channel (one per CHANNEL_INTERVAL).
    await h.sweep();
    for (let slot = 0; slot < 6; slot++) {
      h.clock.advance(3_000);
      await h.deliver();
    }
    expect(h.telegram.messages(CHANNEL.id).length).toBeGreaterThanOrEqual(3);

    // The state the fuzz is meant to attack is really there.
    const people = await h.db.db.select().from(users);
    const role = (p: Persona) => people.find((u) => u.telegramId === p.id);
    expect(role(COORDINATOR)?.role).toBe('coordinator');
    expect(role(STAFF)).toMatchObject({ role: 'staff', organisation: 'Sozialamt Duisburg' });
    expect(role(BANNED)?.bannedAt).toBeInstanceOf(Date);
    expect((await h.db.db.select().from(contacts).where(eq(contacts.status, 'accepted'))).length).toBe(1);
    expect((await h.db.db.select().from(contacts).where(eq(contacts.status, 'offered'))).length).toBe(1);
    expect((await h.db.db.select().from(reports).where(eq(reports.status, 'open'))).length).toBe(1);
    expect((await h.db.db.select().from(invites)).map((i) => i.usedAt !== null).sort()).toEqual([false, true]);
    expect(await h.db.db.select().from(notices)).toHaveLength(1);
    expect(jonas.find('Добрий день')).toBeDefined();
    for (const p of [COORDINATOR, STAFF, BANNED, ...SEEKERS, ...HELPERS]) chats.add(p.id);
    failOnRefusalsAndLogs('setup');
  });

  // ---------------------------------------------------------------- generating updates

  function harvest(): { chatId: number; messageId: number; data: string }[] {
    const found: { chatId: number; messageId: number; data: string }[] = [];
    for (const chatId of chats) {
      for (const m of h.telegram.messages(chatId)) {
        for (const b of m.replyMarkup?.inline_keyboard.flat() ?? []) {
          if ('callback_data' in b) found.push({ chatId, messageId: m.messageId, data: b.callback_data });
        }
      }
    }
    return found;
  }

  function privateChat(p: Persona) {
    return { id: p.id, type: 'private' as const, first_name: p.first_name };
  }

  function botMessage(p: Persona, shown: ShownMessage | undefined, messageId: number): Message {
    return {
      message_id: messageId,
      date: shown ? Math.floor(shown.sentAt / 1000) : Math.floor(Date.now() / 1000) - 60,
      chat: privateChat(p),
      from: { id: h.telegram.botInfo.id, is_bot: true, first_name: 'Hilfenetz' },
      text: shown?.text ?? 'Hilfenetz',
      ...(shown?.replyMarkup ? { reply_markup: shown.replyMarkup } : {}),
    };
  }

  /** The message a forged or replayed press claims to come from: mostly a real one in the presser's chat. */
  function envelope(p: Persona): { message?: Message; how: string } {
    const own = h.telegram.messages(p.id);
    return rng.weighted<() => { message?: Message; how: string }>([
      [3, () => (own.length > 0 ? { message: botMessage(p, own[own.length - 1], own[own.length - 1]!.messageId), how: 'newest' } : { how: 'none' })],
      [3, () => {
        const m = own.length > 0 ? rng.pick(own) : undefined;
        return m ? { message: botMessage(p, m, m.messageId), how: 'older' } : { how: 'none' };
      }],
      [1, () => ({ message: botMessage(p, undefined, rng.pick([0, -1, rng.int(1, 5_000), 2_147_483_647])), how: 'unknown id' })],
      [1, () => ({ how: 'none' })],
      // An inaccessible message (Bot API 7.0): only chat, id and date 0.
      [1, () => ({ message: { chat: privateChat(p), message_id: own.at(-1)?.messageId ?? 1, date: 0 }, how: 'inaccessible' })],
    ])();
  }

  function callback(p: Persona, data: string | undefined, message: Message | undefined, what: string): Planned {
    const id = `fz${++callbackCounter}`;
    const from = { id: p.id, is_bot: false, first_name: p.first_name, ...(p.language_code !== undefined ? { language_code: p.language_code } : {}), ...(p.username ? { username: p.username } : {}) };
    const update = {
      update_id: nextUpdateId(),
      callback_query: { id, from, chat_instance: `ci${p.id}`, ...(data !== undefined ? { data } : {}), ...(message ? { message } : {}) },
    } as Update;
    // Without a message (inline mode only) the press still has to be answered.
    return { update, expect: 'answer', callbackId: id, chatId: p.id, what };
  }

  function message(p: Persona, content: Partial<Message>, what: string): Planned {
    const text = content.text ?? content.caption ?? '';
    const own = h.telegram.recordUserMessage(p.id, text, { kind: 'user', ...(content.photo ? { file: { fileId: content.photo.at(-1)!.file_id } } : {}) });
    const update = messageUpdate(p, own.messageId, content);
    if (update.message?.text?.startsWith('/') && rng.chance(0.15)) {
      // Commands without their entity, or with a broken one.
      const m = update.message as { entities?: unknown };
      if (rng.chance(0.5)) delete m.entities;
      else m.entities = [{ type: 'bot_command', offset: rng.pick([0, 1, 5000]), length: rng.pick([0, 1, 200]) }];
    }
    return { update, expect: 'reply', chatId: p.id, what };
  }

  // ---------------------------------------------------------------- scripted flows with fuzzed content

  /** Presses the newest button in the sender's own chat whose data matches (undefined when there is none). */
  function ownButton(p: Persona, pattern: RegExp, what: string): Planned | undefined {
    for (const m of [...h.telegram.messages(p.id)].reverse().slice(0, 8)) {
      const buttons = (m.replyMarkup?.inline_keyboard.flat() ?? []).filter((b): b is { text: string; callback_data: string } => 'callback_data' in b && pattern.test(b.callback_data));
      if (buttons.length > 0) {
        const data = rng.pick(buttons).callback_data;
        return callback(p, data, botMessage(p, m, m.messageId), `${what} ${data}`);
      }
    }
    return undefined;
  }

  /** Fuzzed text that still passes a length check of min–max characters (so that the flow goes on). */
  function textWithin(min: number, max: number): string {
    let text = fuzzText(rng);
    if ([...text.trim()].length < min) text = `${text} Bitte um Hilfe, danke – Дякую – Спасибо`;
    return [...text].slice(0, rng.chance(0.9) ? max : max + 20).join('');
  }

  function photoContent(caption?: string): Partial<Message> {
    const fileId = h.telegram.newFileId('fz');
    return { photo: [{ file_id: fileId, file_unique_id: `${fileId}u`, width: 1280, height: 960 }], ...(caption !== undefined ? { caption } : {}) };
  }

  type Step = () => Planned | undefined;
  const scripts = new Map<number, { name: string; steps: Step[] }>();

  function script(p: Persona, role: SenderRole): { name: string; steps: Step[] } {
    const trusted = role === 'staff' || role === 'coordinator';
    const name = rng.weighted([
      [trusted ? 1 : 5, 'post'],
      [trusted ? 6 : 0.3, 'notice'],
      [2, 'subscribe'],
      [2, 'contact'],
    ] as const);
    const press = (pattern: RegExp): Step => () => ownButton(p, pattern, `script ${name}:`);
    const send = (text: () => string): Step => () => message(p, { text: text() }, `script ${name}: text`);
    const photo = (caption: () => string): Step => () => message(p, photoContent(caption()), `script ${name}: photo`);
    switch (name) {
      case 'post':
        return {
          name,
          steps: [
            send(() => rng.pick(['/need', '/offer'])),
            press(/^d:cat:/),
            press(/^d:dist:/),
            rng.chance(0.7) ? send(() => textWithin(10, 1000)) : photo(() => textWithin(10, 1000)),
            rng.chance(0.5) ? press(/^d:(skip|nophoto):/) : photo(() => textWithin(0, 1024)),
            press(/^d:publish:/),
          ],
        };
      case 'notice':
        return {
          name,
          steps: [
            send(() => '/broadcast'),
            press(/^bc:aud:/),
            ...Array.from({ length: rng.int(0, 2) }, () => press(/^bc:td:/)),
            press(/^bc:next:/),
            ...Array.from({ length: rng.int(0, 2) }, () => press(/^bc:tl:/)),
            press(/^bc:next:/),
            send(() => textWithin(1, 3500)),
            () => (rng.chance(0.5) ? message(p, { text: textWithin(1, 3500) }, 'script notice: text') : ownButton(p, /^bc:skip:/, 'script notice:')),
            () => (rng.chance(0.5) ? message(p, { text: textWithin(1, 3500) }, 'script notice: text') : ownButton(p, /^bc:skip:/, 'script notice:')),
            () =>
              rng.chance(0.5)
                ? ownButton(p, /^bc:nomedia:/, 'script notice:')
                : message(p, rng.chance(0.5) ? { document: { file_id: h.telegram.newFileId('doc'), file_unique_id: 'd', mime_type: 'application/pdf', file_name: 'Info.pdf' } } : photoContent(), 'script notice: media'),
            press(/^bc:send:/),
          ],
        };
      case 'subscribe':
        return {
          name,
          steps: [send(() => '/subscribe'), press(/^sb:(cats|dists):/), press(/^sb:(tc|td|allc|nonec):/), press(/^sb:(tc|td|home):/), press(/^sb:(home|pause|resume|cap|quiet):/), press(/^sb:(setcap|setq|done|home):/), press(/^sb:done:/)],
        };
      case 'contact':
        return { name, steps: [send(() => '/browse'), press(/^(b:l:|p:view:)/), press(/^p:view:/), press(/^(c:req:|r:post:)/), press(/^(r:post:|c:)/)] };
    }
  }

  /** The next step of the sender's flow, if one is running (and the fuzz does not interrupt it). */
  function scripted(p: Persona, role: SenderRole): Planned | undefined {
    let running = scripts.get(p.id);
    if (!running) {
      if (!rng.chance(0.12)) return undefined;
      running = script(p, role);
      scripts.set(p.id, running);
      count(`script:${running.name}:started`);
    } else if (!rng.chance(0.75)) {
      return undefined;
    }
    const step = running.steps.shift()!;
    if (running.steps.length === 0) scripts.delete(p.id);
    const planned = step();
    if (!planned) {
      scripts.delete(p.id);
      count(`script:${running.name}:lost`);
    } else if (running.steps.length === 0) {
      count(`script:${running.name}:completed`);
    }
    return planned;
  }

  function planPrivate(p: Persona, role: SenderRole): Planned {
    const next = scripted(p, role);
    if (next) {
      count('kind:scripted');
      return next;
    }
    const kind = rng.weighted([
      [14, 'text'],
      [14, 'command'],
      [5, 'start'],
      [10, 'media'],
      [4, 'reply'],
      [6, 'edited'],
      [14, 'forged'],
      [4, 'random-data'],
      [12, 'replayed'],
      [12, 'own-button'],
      [2, 'no-data'],
      [3, 'again'],
      [1, 'member'],
    ] as const);
    count(`${role}:${kind}`);
    count(`kind:${kind}`);
    const known = { usedStaffCode, postIds };
    switch (kind) {
      case 'text':
        return message(p, { text: fuzzText(rng) }, 'text');
      case 'command':
        return message(p, { text: commandText(rng, known) }, 'command');
      case 'start':
        return message(p, { text: `/start ${startPayload(rng, known)}`.trimEnd() }, 'start');
      case 'media': {
        const { kind: media, content } = mediaContent(rng, h.telegram.newFileId('fz'), () => fuzzText(rng));
        count(`media:${media}`);
        return message(p, content, `media ${media}`);
      }
      case 'reply': {
        const own = h.telegram.messages(p.id);
        const to = own.length > 0 && rng.chance(0.8) ? rng.pick(own).messageId : rng.int(1, 100_000);
        const reply_to_message = { message_id: to, date: 0, chat: privateChat(p), text: 'x' } as Message;
        const content = rng.chance(0.7) ? { text: fuzzText(rng) } : mediaContent(rng, h.telegram.newFileId('fz'), () => fuzzText(rng)).content;
        return message(p, { ...content, reply_to_message } as Partial<Message>, 'reply');
      }
      case 'edited': {
        const mine = h.telegram.messages(p.id, { includeUser: true }).filter((m) => !m.fromBot);
        const id = mine.length > 0 && rng.chance(0.8) ? rng.pick(mine).messageId : rng.pick([0, -5, rng.int(1, 100_000)]);
        const update = editedMessageUpdate(p, id, fuzzText(rng));
        if (rng.chance(0.2)) {
          const edited = update.edited_message as unknown as Record<string, unknown>;
          delete edited.text;
          Object.assign(edited, mediaContent(rng, h.telegram.newFileId('fz'), () => fuzzText(rng)).content);
        }
        return { update, expect: 'reply', chatId: p.id, what: 'edited' };
      }
      case 'forged': {
        const data = forgedCallbackData(rng);
        const { message: m, how } = envelope(p);
        return callback(p, data, m, `forged ${short(data, 70)} on ${how}`);
      }
      case 'random-data': {
        const data = randomCallbackData(rng);
        const { message: m, how } = envelope(p);
        return callback(p, data, m, `random data ${short(data, 70)} on ${how}`);
      }
      case 'replayed': {
        const others = harvestCache.filter((b) => b.chatId !== p.id);
        if (others.length === 0) return message(p, { text: fuzzText(rng) }, 'text');
        const b = rng.pick(others);
        const { message: m, how } = rng.chance(0.15) ? { message: botMessage(p, undefined, b.messageId), how: 'same id' } : envelope(p);
        return callback(p, b.data, m, `replayed ${b.data} (from ${b.chatId}) on ${how}`);
      }
      case 'own-button': {
        const withButtons = h.telegram
          .messages(p.id)
          .filter((m) => m.replyMarkup?.inline_keyboard.some((row) => row.some((b) => 'callback_data' in b)))
          .slice(-6);
        if (withButtons.length === 0) return message(p, { text: commandText(rng, known) }, 'command');
        const m = rng.pick(withButtons);
        // Erasing one's own data is allowed, but it would end the scenario too early; forged presses may still do it.
        const buttons = m.replyMarkup!.inline_keyboard.flat().filter((b) => 'callback_data' in b && !b.callback_data.startsWith('pv:delete'));
        if (buttons.length === 0) return message(p, { text: fuzzText(rng) }, 'text');
        const data = (rng.pick(buttons) as { callback_data: string }).callback_data;
        return callback(p, data, botMessage(p, m, m.messageId), `own button ${data}`);
      }
      case 'no-data':
        return callback(p, undefined, envelope(p).message, 'callback without data');
      case 'again': {
        const earlier = history.get(p.id) ?? [];
        if (earlier.length === 0) return message(p, { text: fuzzText(rng) }, 'text');
        const copy = structuredClone(rng.pick(earlier));
        copy.update_id = nextUpdateId();
        if (copy.callback_query) {
          copy.callback_query.id = `fz${++callbackCounter}`;
          return { update: copy, expect: 'answer', callbackId: copy.callback_query.id, chatId: p.id, what: `again: callback ${short(copy.callback_query.data)}` };
        }
        return { update: copy, expect: 'reply', chatId: p.id, what: `again: ${short(copy.message?.text ?? copy.edited_message?.text ?? 'media')}` };
      }
      case 'member':
        // The user blocked or unblocked the bot: nothing can or should be said.
        return { update: myChatMemberUpdate(p, rng.pick(['kicked', 'member'] as const)), expect: 'none', what: 'my_chat_member' };
    }
  }

  /** Updates from outside private chats: groups and channels the bot never saw, inline queries. */
  function planElsewhere(p: Persona): Planned {
    const chatId = -rng.int(1, 1_000_000_000_000);
    const kind = rng.weighted([
      [4, 'group'],
      [1, 'group-callback'],
      [1, 'channel'],
      [1, 'inline'],
    ] as const);
    count(`kind:${kind}`);
    switch (kind) {
      case 'group': {
        const text = rng.pick([commandText(rng, { postIds }), '/start@hilfenetz_test_bot', '/help', fuzzText(rng) || 'hi']);
        const update = groupMessageUpdate(p, chatId, text);
        if (rng.chance(0.3)) (update.message!.chat as { type: string }).type = 'supergroup';
        return { update, expect: 'none', what: `group ${short(text, 60)}` };
      }
      case 'group-callback': {
        const message = { message_id: rng.int(1, 100), date: 1, chat: { id: chatId, type: 'group', title: 'Gruppe' } } as Message;
        return callback(p, forgedCallbackData(rng), message, 'group callback');
      }
      case 'channel':
        return {
          update: { update_id: nextUpdateId(), channel_post: { message_id: rng.int(1, 1000), date: 1, chat: { id: chatId, type: 'channel', title: 'Kanal' }, text: fuzzText(rng) || '/start' } },
          expect: 'none',
          what: 'channel post',
        };
      case 'inline':
        return {
          update: { update_id: nextUpdateId(), inline_query: { id: `iq${++callbackCounter}`, from: { id: p.id, is_bot: false, first_name: p.first_name }, query: fuzzText(rng).slice(0, 256), offset: '' } },
          expect: 'none',
          what: 'inline query',
        };
    }
  }

  let harvestCache: { chatId: number; messageId: number; data: string }[] = [];

  // ---------------------------------------------------------------- running a phase

  type SenderPool = readonly (readonly [number, SenderRole])[];

  function pickSender(pool: SenderPool): { persona: Persona; role: SenderRole } {
    const role = rng.weighted(pool);
    const persona =
      role === 'seeker'
        ? rng.pick(SEEKERS)
        : role === 'helper'
          ? rng.pick(HELPERS)
          : role === 'staff'
            ? STAFF
            : role === 'coordinator'
              ? COORDINATOR
              : role === 'banned'
                ? BANNED
                : role === 'new'
                  ? rng.pick(NEWCOMERS)
                  : rng.chance(0.6)
                    ? rng.pick(unknownPool)
                    : unknownPersona();
    return { persona, role };
  }

  let problems: Problems;
  /** Privileged state that differs between the first and the last update of the phase. */
  let phaseChanges: string[] = [];
  let staffId: number | undefined;
  /** Where the stand-in's answers and the logs stood when the phase began. */
  let marks = { recorded: 0, logs: 0 };

  async function runPhase(name: string, size: number, pool: SenderPool): Promise<void> {
    const started = Date.now();
    problems = { escaped: [], crashed: [], silent: [], refused: [], forbidden: [] };
    marks = { recorded: recorded.length, logs: logLines.length };
    snapshot = await takeSnapshot(h.db.db, 0);
    const phaseStart = snapshot;
    staffId = await userId(STAFF);
    postIds = [...snapshot.posts.keys()].map(Number);
    harvestCache = harvest();
    let checked = 0;
    for (let i = 0; i < size; i++) {
      if (i > 0 && i % 150 === 0) harvestCache = harvest();
      const { persona, role } = pickSender(pool);
      const elsewhere = rng.chance(0.04);
      const planned = elsewhere ? planElsewhere(persona) : planPrivate(persona, role);
      wellFormed(planned.update);
      const label = `${name}#${i} ${role} ${persona.id} ${planned.what}`;
      if (planned.chatId !== undefined) chats.add(planned.chatId);
      const mark = recorded.length;
      const logMark = logLines.length;
      try {
        await h.handle(planned.update);
      } catch (err) {
        problems.escaped.push(`${label}: ${String((err as Error)?.stack ?? err).slice(0, 400)}`);
      }
      for (const line of logLines.slice(logMark)) if (line.level >= WARN) problems.crashed.push(`${label}: ${line.line}`);
      const calls = recorded.slice(mark);
      if (planned.expect === 'answer' && !calls.some((c) => c.ok && c.method === 'answerCallbackQuery' && String(c.payload.callback_query_id) === planned.callbackId)) {
        problems.silent.push(`${label}: button press not answered`);
      }
      if (planned.expect === 'reply' && !calls.some((c) => c.ok && REPLY_METHODS.has(c.method) && Number(c.payload.chat_id) === planned.chatId)) {
        problems.silent.push(`${label}: no answer in the chat (calls: ${calls.map((c) => `${c.method}${c.ok ? '' : ' ✗'}`).join(', ') || 'none'})`);
      }
      for (const c of calls) {
        if (!c.ok && !EXPECTED_REFUSALS.some((r) => r.test(c.description ?? ''))) problems.refused.push(`${label}: ${c.method} → ${c.description}`);
      }
      const before = snapshot;
      snapshot = await takeSnapshot(h.db.db, before.outboxMax);
      // Every sender but a coordinator is held to what their role allows (forbiddenChanges looks the role up).
      if (role !== 'coordinator') {
        checked++;
        const from = planned.update.message?.from ?? planned.update.edited_message?.from ?? planned.update.callback_query?.from ?? planned.update.my_chat_member?.from ?? planned.update.inline_query?.from;
        for (const change of forbiddenChanges(before, snapshot, from?.id)) problems.forbidden.push(`${label}: ${change}`);
      }
      if (!elsewhere && (planned.update.message || planned.update.edited_message || planned.update.callback_query)) {
        const list = history.get(persona.id) ?? [];
        list.push(planned.update);
        if (list.length > 10) list.shift();
        history.set(persona.id, list);
      }
    }
    phaseChanges = privilegedChanges(phaseStart, snapshot, { broadcaster: pool.some(([, r]) => r === 'staff') ? staffId : undefined });
    const handled = Date.now() - started;
    // Messages to other people (relays, requests, notices) go out at the end of the phase, and the channel's
    // cards follow what the phase did to their posts (edits, closing, renewals).
    await h.sweep();
    await h.deliver();
    h.clock.advance(3_000);
    await h.deliver();
    if (VERBOSE) {
      const rows = Object.fromEntries(
        (['users', 'posts', 'contacts', 'relays', 'blocks', 'reports', 'notices', 'audit', 'subscriptions'] as const).map((t) => [t, snapshot[t].size]),
      );
      process.stdout.write(
        `phase ${name}: ${size} updates (${checked} checked against the snapshot) in ${handled} ms, delivery ${Date.now() - started - handled} ms; rows now ${JSON.stringify(rows)}\n`,
      );
    }
  }

  /** Everything the stand-in refused and every error logged since `from` (setup, delivery, afterwards). */
  function failOnRefusalsAndLogs(stage: string, from = { recorded: 0, logs: 0 }): void {
    const refused = recorded.slice(from.recorded).filter((c) => !c.ok && !EXPECTED_REFUSALS.some((r) => r.test(c.description ?? '')));
    fail(`${stage}: Telegram refused`, refused.map((c) => `${c.method} → ${c.description} ${short(c.payload, 200)}`));
    fail(`${stage}: warnings and errors logged`, logLines.slice(from.logs).filter((l) => l.level >= WARN).map((l) => l.line));
  }

  function assertProperties(phase: string, options: { privileged: boolean; wholePhase: boolean }): void {
    fail(`[${phase}] exceptions escaped bot.handleUpdate`, problems.escaped);
    fail(`[${phase}] unhandled rejections / uncaught exceptions`, rejections);
    fail(`[${phase}] updates that failed inside the error boundary (warnings and errors logged)`, problems.crashed);
    fail(`[${phase}] updates left without an answer`, problems.silent);
    fail(`[${phase}] calls Telegram refused`, problems.refused);
    if (options.privileged) fail(`[${phase}] state changes the sender was not allowed to make`, problems.forbidden);
    if (options.wholePhase) fail(`[${phase}] privileged state changed between the start and the end of the phase`, phaseChanges);
    // Delivery (after the phase) is checked too: nothing it sent was refused, nothing it logged was an error.
    failOnRefusalsAndLogs(`[${phase}] delivery`, marks);
  }

  it(
    `phase A: ${PHASE_SIZES.A} updates from newcomers, seekers, helpers, the banned user and strangers change nothing privileged`,
    async () => {
      // A coordinator's notice is being sent while the phase runs, so that forged stop buttons meet a live one.
      await broadcast(h.user(COORDINATOR), 'Neue Sprechzeiten im Bürgerbüro Mitte.');
      await runPhase('A', PHASE_SIZES.A, [
        [8, 'new'],
        [28, 'seeker'],
        [28, 'helper'],
        [10, 'banned'],
        [16, 'unknown'],
      ]);
      assertProperties('A', { privileged: true, wholePhase: true });
    },
    TIMEOUT_MS,
  );

  it(
    `phase B: ${PHASE_SIZES.B} updates with the staff member fuzzing too (staff may only broadcast)`,
    async () => {
      await broadcast(h.user(COORDINATOR), 'Impfaktion am Samstag im Gesundheitsamt.');
      await runPhase('B', PHASE_SIZES.B, [
        [25, 'staff'],
        [6, 'new'],
        [20, 'seeker'],
        [20, 'helper'],
        [8, 'banned'],
        [12, 'unknown'],
      ]);
      assertProperties('B', { privileged: true, wholePhase: true });
    },
    TIMEOUT_MS,
  );

  it(
    `phase C: ${PHASE_SIZES.C} updates with the coordinator fuzzing too (no crash, no silence, no refusals; others still checked)`,
    async () => {
      await runPhase('C', PHASE_SIZES.C, [
        [25, 'coordinator'],
        [10, 'staff'],
        [5, 'new'],
        [20, 'seeker'],
        [20, 'helper'],
        [6, 'banned'],
        [12, 'unknown'],
      ]);
      // The coordinator may change all of it; every other sender is still checked update by update.
      assertProperties('C', { privileged: true, wholePhase: false });
    },
    TIMEOUT_MS,
  );

  it('forged and odd /intake input: only a Lotse gets a need for someone else in, and only with a plain name', async () => {
    marks = { recorded: recorded.length, logs: logLines.length };
    const intakeCount = async () => (await queryRows<{ n: number }>(h.db.db, sql`select count(*)::int as n from posts where intake_language is not null`))[0]!.n;
    const before = await intakeCount();
    /** One update, checked like the fuzz's: nothing changed that the sender may not change. */
    const checked = async (persona: Persona, act: () => Promise<unknown>) => {
      const start = await takeSnapshot(h.db.db, 0);
      await act();
      expect({ persona: persona.id, forbidden: forbiddenChanges(start, await takeSnapshot(h.db.db, start.outboxMax), persona.id) }).toEqual({ persona: persona.id, forbidden: [] });
    };
    // Seekers, helpers, the staff member (not a Lotse) and the banned user, whatever the fuzz made of them.
    for (const persona of [...SEEKERS, ...HELPERS, STAFF, BANNED]) {
      const user = h.user(persona);
      await checked(persona, () => user.send('/intake'));
      const on = user.messages.at(-1);
      for (const data of ['m:intake', 'd:lang:uk', 'd:lang:en', 'd:lang:', 'd:goto:name', 'd:publish:-']) await checked(persona, () => user.press(data, on));
      for (const [name] of INTAKE_NAMES.slice(0, 10)) await checked(persona, () => user.send(name));
    }
    expect(await intakeCount()).toBe(before);
    // Not even a dialog for someone else was opened for them.
    // Phase C's coordinator may have marked the staff member as Lotse or promoted them: then /intake is theirs.
    const entitled = await queryRows<{ id: string }>(h.db.db, sql`select telegram_id::text as id from users where lotse or role = 'coordinator'`);
    const keys = [...SEEKERS, ...HELPERS, STAFF, BANNED].map((p) => String(p.id)).filter((key) => !entitled.some((e) => e.id === key));
    const open = await queryRows<{ key: string }>(h.db.db, sql`select key from sessions where value->'dialog'->'data'->'intake' is not null`);
    expect(open.filter((row) => keys.includes(row.key))).toEqual([]);

    // A Lotse types every odd name: refused ones keep the dialog at the name step, a plain one goes on.
    const lotse: Persona = { id: 888_101, first_name: 'Lotte', language_code: 'de' };
    const lotte = h.user(lotse);
    await lotte.send('/start');
    await h.db.db.update(users).set({ role: 'staff', organisation: 'Diakonie', lotse: true }).where(eq(users.telegramId, lotse.id));
    const step = async () =>
      (await queryRows<{ step: string | null }>(h.db.db, sql`select value->'dialog'->>'step' as step from sessions where key = ${String(lotse.id)}`))[0]?.step ?? null;
    for (const [name, accepted] of INTAKE_NAMES) {
      await lotte.send('/intake');
      expect(await step()).toBe('language');
      // Forged buttons: a language the bot does not speak, a step that cannot be jumped to, publishing too early.
      for (const data of ['d:lang:en', 'd:lang:UK', 'd:goto:name', 'd:publish:-', 'd:cat:health']) {
        expect((await lotte.press(data, lotte.last)).answer?.showAlert).toBe(true);
        expect(await step()).toBe('language');
      }
      await lotte.press('d:lang:uk', lotte.last);
      expect(await step()).toBe('name');
      await lotte.send(name);
      expect({ name, step: await step() }).toEqual({ name, step: accepted ? 'category' : 'name' });
      await lotte.send('/cancel');
    }
    expect(await intakeCount()).toBe(before);
    failOnRefusalsAndLogs('intake', marks);
  });

  it('still works afterwards: a new person starts, onboards and posts; delivery and sweeps run', async () => {
    marks = { recorded: recorded.length, logs: logLines.length };
    const nadia = h.user({ id: 888_001, first_name: 'Nadia', language_code: 'uk' });
    // A helper who subscribes only now, so that the fuzz cannot have changed what he should be told.
    const hans = h.user({ id: 888_002, first_name: 'Hans', language_code: 'de' });
    await onboard(hans, 'helper', 'Hamborn');
    await subscribe(hans, ['🩺 Gesundheit'], ['Hamborn']);
    await onboard(nadia, 'seeker', 'Гамборн (Hamborn)');
    expect((await h.db.db.select().from(users).where(eq(users.telegramId, 888_001)))[0]).toMatchObject({ role: 'seeker', district: 'hamborn' });
    const need = 'Потрібен лікар-педіатр, який говорить українською.';
    await post(nadia, 'need', "🩺 Здоров'я", 'Гамборн (Hamborn)', need);
    const [row] = await h.db.db.select().from(posts).where(eq(posts.authorId, await userId({ id: 888_001, first_name: 'Nadia' })));
    expect(row).toMatchObject({ status: 'open', category: 'health', district: 'hamborn' });
    // Delivery runs: the new need reaches the new subscriber, and nothing fails.
    const delivered = await h.deliver();
    expect(delivered).toMatchObject({ failed: 0 });
    expect(delivered.sent).toBeGreaterThanOrEqual(1);
    expect(hans.messages.filter((m) => m.text.includes(need))).toHaveLength(1);
    // The sweeps run (null: failed or skipped): two days before the need expires, Nadia is asked about it.
    h.clock.advanceDays(12);
    h.clock.advance(60_000);
    const swept = await h.sweep();
    expect(Object.keys(swept).filter((name) => swept[name] === null)).toEqual([]);
    expect(swept['remind-expiring-posts']).toBeGreaterThanOrEqual(1);
    expect(await h.deliver()).toMatchObject({ failed: 0 });
    expect(nadia.messages.filter((m) => m.text.startsWith('⏳') && m.text.includes('Вам ще потрібна допомога?'))).toHaveLength(1);
    // The channel shows at most one card per post, whatever the fuzz did to the posts (edits, renewals, closing).
    for (let slot = 0; slot < 20; slot++) {
      await h.sweep();
      h.clock.advance(3_000);
      await h.deliver();
    }
    const links = h.telegram.messages(CHANNEL.id).flatMap((m) => (m.replyMarkup?.inline_keyboard.flat() ?? []).map((b) => ('url' in b ? b.url : '')));
    expect(links.length).toBeGreaterThanOrEqual(1);
    expect(new Set(links).size).toBe(links.length);
    if (VERBOSE) process.stdout.write(`channel: ${links.length} cards shown, ${h.telegram.callsOf('editMessageText').filter((c) => c.payload.chat_id === CHANNEL.id).length} edits\n`);
    failOnRefusalsAndLogs('afterwards', marks);
    fail('unhandled rejections / uncaught exceptions', rejections);
  });
});
