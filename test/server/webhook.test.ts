import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { Bot } from 'grammy';
import type { Update } from 'grammy/types';
import { canUseWebhookReply, closingCalls } from '../../src/bot/closing-calls';
import type { Context } from '../../src/bot/context';
import { users } from '../../src/db/schema';
import { createLogger } from '../../src/logger';
import { createWebhookHandler, nestingDepthExceeds, parseUpdate, type WebhookHandler } from '../../src/server/webhook';
import { FakeTelegram } from '../helpers/fake-telegram';
import { createHarness, type Harness, PEOPLE } from '../helpers/harness';
import { waitFor } from '../helpers/wait';
import { callbackUpdate, messageUpdate, type Persona } from '../helpers/updates';

const SECRET = 'webhook_secret_0123456789';
const MiB = 1024 * 1024;

/** A pino logger at debug level that keeps its lines, to check what a request leaves in the logs. */
function memoryLogger() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  return { logger: createLogger('debug', stream), lines };
}

/** A plain node http server that sends every request on `path` to its handler. */
async function serve(routes: Record<string, WebhookHandler>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const handler = routes[(req.url ?? '/').split('?')[0]!];
    if (!handler) {
      res.writeHead(404).end();
      return;
    }
    // The handler answers every outcome itself; a rejection here would be a bug.
    handler(req, res).catch((err: unknown) => {
      res.writeHead(599).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const LOG_DEBUG = 20;

describe('webhook endpoint with the production bot', () => {
  let h: Harness;
  let url: string;
  let server: Server;
  const log = memoryLogger();

  beforeAll(async () => {
    h = await createHarness();
    const main = createWebhookHandler({ bot: h.bot, secret: SECRET, logger: log.logger });
    const starting = createWebhookHandler({ bot: h.bot, secret: SECRET, logger: log.logger, isReady: () => false });
    ({ url, server } = await serve({ '/telegram': main, '/starting': starting }));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await h.close();
  });

  const post = (body: string, headers: Record<string, string> = { 'x-telegram-bot-api-secret-token': SECRET }, path = '/telegram') =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  /** A /start (or other text) from a person, as Telegram would post it. */
  const textUpdate = (persona: Persona, text: string): Update =>
    messageUpdate(persona, h.telegram.recordUserMessage(persona.id, text).messageId, { text });

  async function expectRefused(response: Response, status: number, error: string): Promise<void> {
    expect({ status: response.status, body: await response.text() }).toEqual({ status, body: JSON.stringify({ error }) });
    expect(response.headers.get('content-type')).toBe('application/json');
  }

  /** Headers only (no body yet) with node's client, to show that the answer does not wait for a body. */
  function headersOnly(headers: Record<string, string>): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request(`${url}/telegram`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } });
      req.once('response', (res) => {
        res.resume();
        resolve(res);
        req.destroy();
      });
      req.once('error', reject);
      req.flushHeaders();
    });
  }

  it('greets a Ukrainian user who sends /start through the webhook', async () => {
    const response = await post(JSON.stringify(textUpdate(PEOPLE.olena, '/start')));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    expect(h.telegram.messages(PEOPLE.olena.id)[0]?.text).toContain('Вітаємо в Hilfenetz, Олена!');
  });

  it('closes a button press with its callback answer as the webhook reply; answers with a text go to Telegram', async () => {
    const person = PEOPLE.maria;
    expect((await post(JSON.stringify(textUpdate(person, '/start')))).status).toBe(200);
    const shown = h.telegram.messages(person.id).at(-1)!;
    const data = (shown.replyMarkup?.inline_keyboard[0]?.[0] as { callback_data?: string } | undefined)?.callback_data;
    expect(data).toBeDefined();
    const message = {
      message_id: shown.messageId,
      date: Math.floor(shown.sentAt / 1000),
      chat: { id: person.id, type: 'private', first_name: person.first_name },
      text: shown.text,
      reply_markup: shown.replyMarkup,
    } as NonNullable<Update['message']>;
    const question = shown.text; // the stand-in edits its message objects in place
    const press = callbackUpdate(person, message, data!);
    const response = await post(JSON.stringify(press.update));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    // Telegram runs the reply; the stand-in never saw that call, and the next step came as usual.
    expect(JSON.parse(await response.text())).toEqual({ method: 'answerCallbackQuery', callback_query_id: press.id });
    expect(h.telegram.answers.filter((a) => a.callbackQueryId === press.id)).toEqual([]);
    expect(h.telegram.messages(person.id).at(-1)!.text).not.toBe(question);

    // Forged data: the bot answers with a short text itself, through the Bot API, and replies nothing.
    const forged = callbackUpdate(person, message, 'x'.repeat(40));
    const refused = await post(JSON.stringify(forged.update));
    expect({ status: refused.status, body: await refused.text() }).toEqual({ status: 200, body: '' });
    const answer = h.telegram.answers.find((a) => a.callbackQueryId === forged.id);
    expect(answer?.text).toEqual(expect.any(String));
  });

  it('takes a left dialog’s buttons away in the webhook reply, after the answer went through the Bot API', async () => {
    const person = { id: 380_503, first_name: 'Дмитро', language_code: 'uk' }; // nobody else's chat in this file
    expect((await post(JSON.stringify(textUpdate(person, '/start')))).status).toBe(200);
    const question = h.telegram.messages(person.id).at(-1)!;
    expect(question.replyMarkup?.inline_keyboard.length).toBeGreaterThan(0);

    const response = await post(JSON.stringify(textUpdate(person, '/cancel')));
    expect(response.status).toBe(200);
    expect(JSON.parse(await response.text())).toEqual({ method: 'editMessageReplyMarkup', chat_id: person.id, message_id: question.messageId });
    // The stand-in never saw the removal (Telegram runs the reply); the answer itself came as usual.
    expect(h.telegram.calls.filter((c) => c.method === 'editMessageReplyMarkup' && c.payload.chat_id === person.id)).toEqual([]);
    expect(h.telegram.messages(person.id).at(-1)!.text).toBe('✖️ Скасовано. Нічого не збережено. Що бажаєте зробити? /help');
  });

  it('answers 503 with retry-after while the bot has not confirmed its identity', async () => {
    const response = await post(JSON.stringify(textUpdate(PEOPLE.jonas, '/start')), undefined, '/starting');
    expect(response.headers.get('retry-after')).toBe('5');
    await expectRefused(response, 503, 'starting, try again');
    expect(h.telegram.messages(PEOPLE.jonas.id)).toHaveLength(0);
  });

  it('refuses a missing or wrong secret with 401 before reading the body', async () => {
    const body = JSON.stringify(textUpdate(PEOPLE.irina, '/help'));
    await expectRefused(await post(body, {}), 401, 'unauthorized');
    await expectRefused(await post(body, { 'x-telegram-bot-api-secret-token': 'wrong_secret_0123456789' }), 401, 'unauthorized');
    await expectRefused(await post(body, { 'x-telegram-bot-api-secret-token': `${SECRET}x` }), 401, 'unauthorized');
    await expectRefused(await post(body, { 'x-telegram-bot-api-secret-token': SECRET.slice(0, -1) }), 401, 'unauthorized');
    expect(h.telegram.messages(PEOPLE.irina.id)).toHaveLength(0);
    // A body announced but never sent: the 401 comes anyway, and the connection is closed.
    const waiting = await headersOnly({ 'content-length': '4096', 'x-telegram-bot-api-secret-token': 'wrong_secret_0123456789' });
    expect(waiting.statusCode).toBe(401);
    expect(waiting.headers.connection).toBe('close');
  });

  it('refuses bodies over 1 MiB with 413, declared or chunked, without reading them', async () => {
    const big = JSON.stringify({ update_id: 1, message: { text: 'x'.repeat(2 * MiB) } });
    await expectRefused(await post(big), 413, 'body too large');
    // Chunked (no content-length): reading stops at the cap.
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 3 * MiB) controller.close();
        else {
          sent += chunk.length;
          controller.enqueue(chunk);
        }
      },
    });
    const chunked = await fetch(`${url}/telegram`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      body: stream,
      duplex: 'half',
    });
    await expectRefused(chunked, 413, 'body too large');
    // Announced as 2 MiB and never sent: answered at once.
    const waiting = await headersOnly({ 'content-length': String(2 * MiB), 'x-telegram-bot-api-secret-token': SECRET });
    expect(waiting.statusCode).toBe(413);
    expect(waiting.headers.connection).toBe('close');
  });

  it('refuses what is not an update with 400', async () => {
    await expectRefused(await post('this is not json'), 400, 'not json');
    await expectRefused(await post('{"update_id":1,'), 400, 'not json');
    await expectRefused(await post(''), 400, 'not json');
    for (const body of ['null', '42', '[]', '{}', '"update"', '{"update_id":"x"}', '{"update_id":-1}', '{"update_id":1.5}']) {
      await expectRefused(await post(body), 400, 'not an update');
    }
  });

  it('refuses 10,000-deep nesting with 400 before parsing, and keeps running', async () => {
    const depth = 10_000;
    await expectRefused(await post(`${'['.repeat(depth)}${']'.repeat(depth)}`), 400, 'too deeply nested');
    await expectRefused(await post(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`), 400, 'too deeply nested');
    // Inside a valid update too: the nesting counts wherever it is.
    await expectRefused(await post(`{"update_id":7,"message":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`), 400, 'too deeply nested');
    expect((await post('{"update_id":8}')).status).toBe(200);
  });

  it('handles an update with NUL characters in the name and the text', async () => {
    const petro = { ...PEOPLE.petro, first_name: 'Пет\u0000ро' };
    const start = await post(JSON.stringify(textUpdate(petro, '/start')));
    expect(start.status).toBe(200);
    expect(h.telegram.messages(petro.id)[0]?.text).toContain('Вітаємо в Hilfenetz, Пет\uFFFDро!');
    const [row] = await h.db.db.select().from(users).where(eq(users.telegramId, petro.id));
    expect(row?.firstName).toBe('Пет\uFFFDро');
    const before = h.telegram.messages(petro.id).length;
    expect((await post(JSON.stringify(textUpdate(petro, 'Прив\u0000іт')))).status).toBe(200);
    expect(h.telegram.messages(petro.id).length).toBeGreaterThan(before);
  });

  it('still serves a valid update after all the hostile ones, which left nothing above debug in the logs', async () => {
    const irina = { ...PEOPLE.irina, id: 370_777 };
    const response = await post(JSON.stringify(textUpdate(irina, '/start')));
    expect(response.status).toBe(200);
    expect(h.telegram.messages(irina.id)[0]?.text).toContain('Ирина');
    const refusals = log.lines.filter((l) => l.msg === 'webhook request refused');
    expect(refusals.length).toBeGreaterThanOrEqual(20);
    expect(refusals.every((l) => l.level === LOG_DEBUG)).toBe(true);
    expect(log.lines.filter((l) => l.level > LOG_DEBUG)).toEqual([]);
  });
});

describe('webhook endpoint when the bot fails', () => {
  const botInfo = new FakeTelegram().botInfo;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('answers 500 (Telegram delivers again) when handling throws, and 200 after the timeout even if the update fails later', async () => {
    const bot = new Bot<Context>('1:x', { botInfo });
    let failedLate = false;
    bot.use(async (ctx) => {
      if (ctx.update.update_id === 1) throw new Error('database unavailable');
      await sleep(300);
      failedLate = true;
      throw new Error('database unavailable (late)');
    });
    const log = memoryLogger();
    const { url, server } = await serve({ '/telegram': createWebhookHandler({ bot, secret: SECRET, logger: log.logger, timeoutMs: 50 }) });
    try {
      const post = (update: object) =>
        fetch(`${url}/telegram`, { method: 'POST', headers: { 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(update) });
      const failed = await post({ update_id: 1 });
      expect(failed.status).toBe(500);
      expect(await failed.json()).toEqual({ error: 'update failed, please retry' });
      expect(log.lines).toContainEqual(expect.objectContaining({ level: 40, msg: 'webhook update failed; Telegram will retry', update_id: 1 }));

      const slow = await post({ update_id: 2 });
      expect(slow.status).toBe(200);
      await sleep(400);
      // The late failure is logged, not an unhandled rejection (which would end the process).
      expect(failedLate).toBe(true);
      expect(log.lines).toContainEqual(expect.objectContaining({ level: 40, msg: 'update failed after Telegram was answered', update_id: 2 }));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('sends the closing answer of a button as a request when Telegram was already answered (timeout)', async () => {
    const telegram = new FakeTelegram();
    const bot = new Bot<Context>('1:x', { botInfo: telegram.botInfo, client: { fetch: telegram.fetch, canUseWebhookReply } });
    bot.use(closingCalls);
    bot.use(async () => {
      await sleep(150); // longer than the webhook's timeout
    });
    const log = memoryLogger();
    const { url, server } = await serve({ '/telegram': createWebhookHandler({ bot, secret: SECRET, logger: log.logger, timeoutMs: 50 }) });
    try {
      const person: Persona = { id: 380_504, first_name: 'Оксана', language_code: 'uk' };
      const press = callbackUpdate(person, undefined, 'x:slow');
      const response = await fetch(`${url}/telegram`, { method: 'POST', headers: { 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(press.update) });
      expect({ status: response.status, body: await response.text() }).toEqual({ status: 200, body: '' });
      // Not lost in a reply nobody reads any more: the button stops spinning.
      await waitFor('the closing answer at the Bot API', () => telegram.answers.some((a) => a.callbackQueryId === press.id), 5_000, undefined, 20);
      expect(telegram.answers.filter((a) => a.callbackQueryId === press.id)).toHaveLength(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('parseUpdate and nestingDepthExceeds', () => {
  it('counts brackets outside strings only, escapes included', () => {
    expect(nestingDepthExceeds('[[[]]]', 3)).toBe(false);
    expect(nestingDepthExceeds('[[[[]]]]', 3)).toBe(true);
    expect(nestingDepthExceeds('{"a":{"b":{"c":{}}}}', 3)).toBe(true);
    expect(nestingDepthExceeds('{"text":"[[[[{{{{"}', 1)).toBe(false);
    expect(nestingDepthExceeds('{"text":"a\\"[[[[\\\\"}', 1)).toBe(false);
    expect(nestingDepthExceeds('{"text":"\\\\"}[[', 2)).toBe(false);
    expect(nestingDepthExceeds('{"text":"\\\\",[[', 2)).toBe(true);
    expect(nestingDepthExceeds('{"t":"\\u005b\\u005b"}', 1)).toBe(false);
  });

  it('accepts an object with an integer update_id ≥ 0 and passes everything else on', () => {
    expect(parseUpdate('{"update_id":0,"message":{"text":"hi"},"future_field":[1]}', 64)).toEqual({ update_id: 0, message: { text: 'hi' }, future_field: [1] });
    expect(parseUpdate('{"update_id":1}', 64)).toEqual({ update_id: 1 });
    expect(parseUpdate('[{"update_id":1}]', 64)).toBe('not an update');
    expect(parseUpdate(`${'['.repeat(65)}${']'.repeat(65)}`, 64)).toBe('too deeply nested');
  });
});
