import os from 'node:os';
import { Writable } from 'node:stream';
import { autoRetry } from '@grammyjs/auto-retry';
import { eq, sql } from 'drizzle-orm';
import { Bot } from 'grammy';
import { startBackgroundWork } from '../../src/background';
import { createBot } from '../../src/bot';
import { CityDirectory, loadCity, WHOLE_CITY } from '../../src/city';
import { systemClock } from '../../src/clock';
import { parseConfig } from '../../src/config';
import { queryRows } from '../../src/db';
import { notices, outbox, users } from '../../src/db/schema';
import { renderNoticeText } from '../../src/presentation/notice';
import { type NoticeDraft, sendNotice } from '../../src/domain/notices';
import { actorOf } from '../../src/domain/permissions';
import { createTranslator } from '../../src/i18n';
import { createLogger } from '../../src/logger';
import { type Driver, openBenchDatabase } from './database';
import { type MemoryReport, MemoryTracker } from './memory';
import { readProcMemory } from './proc-memory';
import { maxOf, minOf, percentile } from './stats';
import type { ReceivedSend } from './broadcast-standin-protocol';
import { StandIn } from './broadcast-standin-client';
import { createDeliveryPort } from '../../src/delivery/port';

const DATABASE_NAME = 'hilfenetz_bench_broadcast';
/** A token in BotFather's shape; the stand-in accepts any. */
const TOKEN = '123456789:BENCH-token-for-hilfenetz-only_xx';
/** Recipients' Telegram ids are FIRST_CHAT + 1 … FIRST_CHAT + N; the author is AUTHOR_CHAT. */
const FIRST_CHAT = 10_000_000;
const AUTHOR_CHAT = 900_000;

export const NOTICE_TEXTS = {
  de: 'Die Ausländerbehörde Duisburg ist am Freitag, 27.11., wegen einer Betriebsversammlung geschlossen. Termine werden automatisch auf die kommende Woche verschoben; Sie erhalten dazu eine neue Einladung.',
  uk: 'Відомство у справах іноземців Дуйсбурга в пʼятницю, 27.11., зачинене через збори працівників. Зустрічі автоматично переносяться на наступний тиждень; ви отримаєте нове запрошення.',
};

export type Method = 'ours' | 'baseline' | 'paced';

/** What one run of one method measured. */
export interface MethodResult {
  method: Method;
  driver: Driver | null;
  rate: number;
  latencyMs: number;
  recipients: number;
  /** sendMessage calls the stand-in accepted for the recipients (duplicates included). */
  accepted: number;
  lost: number;
  /** Recipients with more than one message, and how many messages too many they got in all. */
  duplicated: number;
  extraMessages: number;
  /** From the first to the last accepted sendMessage, by the stand-in's arrival times. */
  spanSeconds: number;
  /** (accepted − 1) / span: the exact rate of evenly spaced sends. */
  achievedRate: number;
  /** The same span from the stand-in's call log (whole milliseconds), as a cross-check. */
  callLogSpanSeconds: number;
  fraction: number;
  /** Sending calls the stand-in answered with 429, and the sender's own count of them. */
  rateLimited: number;
  /** Gaps between consecutive accepted sends (arrival times), ms. */
  gapMs: { p50: number; p99: number; max: number };
  /** The most accepted sends in any one-second window of answer times (what the stand-in limits). */
  maxInOneSecond: number;
  /** The most requests the stand-in held at once (arrived, not yet answered). */
  maxInFlight: number;
  /** The stand-in's own delay from arrival to answer (its latency plus its timer's lateness), ms. */
  answerDelayMs: { p50: number; p99: number; max: number };
  /** From the broadcast's start (sendNotice / the loop) to the last message recorded as delivered. */
  wallSeconds: number;
  memory: MemoryReport;
  /** The process's resident high-water mark (VmHWM) at the end, MiB: the peak whatever the sampling missed. */
  hwmMb?: number;
  load: { start: number; end: number };
  /** Ours only: the fan-out (sendNotice) time, the outbox afterwards, the worker's counts. */
  ours?: {
    fanOutMs: number;
    outboxStatuses: Record<string, number>;
    possibleDuplicates: number;
    noticeDone: boolean;
    workerStats: Record<string, number>;
    warnings: number;
    errors: string[];
  };
  /** Baselines only: calls that threw after auto-retry gave up. */
  baselineFailures?: number;
  command: string;
  date: string;
}

export interface CaseOptions {
  driver: Driver;
  rate: number;
  latencyMs: number;
  command: string;
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const load = () => Math.round(os.loadavg()[0]! * 100) / 100;
const today = () => new Date().toISOString().slice(0, 10);

// ---------------------------------------------------------------------------------------- analysis

/** Lost, duplicated, rate and spacing of the messages the stand-in accepted for `chats`. */
export function analyse(sends: readonly ReceivedSend[], chats: ReadonlySet<number>, rate: number) {
  const mine = sends.filter((s) => chats.has(s.chatId));
  const accepted = mine.filter((s) => s.status === 200).sort((a, b) => a.receivedAt - b.receivedAt);
  const perChat = new Map<number, number>();
  for (const s of accepted) perChat.set(s.chatId, (perChat.get(s.chatId) ?? 0) + 1);
  let lost = 0;
  for (const chat of chats) if (!perChat.has(chat)) lost++;
  const over = [...perChat.values()].filter((n) => n > 1);
  const spanMs = accepted.length > 1 ? accepted[accepted.length - 1]!.receivedAt - accepted[0]!.receivedAt : Number.NaN;
  const logged = accepted.map((s) => s.loggedAt);
  const callLogSpanMs = logged.length > 1 ? maxOf(logged) - minOf(logged) : Number.NaN;
  const achievedRate = accepted.length > 1 ? ((accepted.length - 1) * 1000) / spanMs : Number.NaN;
  const gaps = accepted.slice(1).map((s, i) => s.receivedAt - accepted[i]!.receivedAt);
  // The stand-in counts a send when it answers it: the busiest second by answer times.
  const answered = accepted.map((s) => s.answeredAt).sort((a, b) => a - b);
  let maxInOneSecond = 0;
  for (let i = 0, j = 0; i < answered.length; i++) {
    while (answered[i]! - answered[j]! >= 1000) j++;
    maxInOneSecond = Math.max(maxInOneSecond, i - j + 1);
  }
  let inFlight = 0;
  let maxInFlight = 0;
  const events = mine.flatMap((s) => [[s.receivedAt, 1] as const, [s.answeredAt, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const [, change] of events) maxInFlight = Math.max(maxInFlight, (inFlight += change));
  const delays = mine.map((s) => s.answeredAt - s.receivedAt);
  return {
    accepted: accepted.length,
    lost,
    duplicated: over.length,
    extraMessages: over.reduce((sum, n) => sum + n - 1, 0),
    spanSeconds: spanMs / 1000,
    callLogSpanSeconds: callLogSpanMs / 1000,
    achievedRate,
    fraction: achievedRate / rate,
    rateLimited: mine.filter((s) => s.status === 429).length,
    otherErrors: mine.filter((s) => s.status !== 200 && s.status !== 429).length,
    gapMs: { p50: percentile(gaps, 50), p99: percentile(gaps, 99), max: maxOf(gaps) },
    maxInOneSecond,
    maxInFlight,
    answerDelayMs: { p50: percentile(delays, 50), p99: percentile(delays, 99), max: maxOf(delays) },
    firstReceivedAt: accepted[0]?.receivedAt ?? Number.NaN,
    lastReceivedAt: accepted[accepted.length - 1]?.receivedAt ?? Number.NaN,
  };
}

/** The figures of an analysis that a MethodResult reports as they are. */
function resultFigures(a: ReturnType<typeof analyse>) {
  const { otherErrors, firstReceivedAt, lastReceivedAt, ...figures } = a;
  return figures;
}

// ---------------------------------------------------------------------------------------- ours

/** A pino destination that keeps warnings and errors for the report instead of printing them. */
export function captureLogs() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          const entry = JSON.parse(line) as { level: number; msg: string; err?: { message?: string } };
          lines.push({ level: entry.level, msg: entry.err?.message ? `${entry.msg}: ${entry.err.message}` : entry.msg });
        } catch {
          lines.push({ level: 50, msg: line });
        }
      }
      done();
    },
  });
  return { stream, lines };
}

/**
 * The production path: N recipients and a staff author in a fresh database, a notice sent with
 * sendNotice() (one transaction fans it out into N outbox rows) while the background work of
 * src/background.ts runs — its DeliveryWorker with the production renderers, BROADCAST_RATE = the limit,
 * PAID_BROADCAST above 30/s, an Api without auto-retry, one message per chat per second — against a fresh
 * stand-in with the same limit. Polls the outbox until nothing is pending or sending.
 */
export async function runOurs(options: CaseOptions & { recipients: number }): Promise<MethodResult> {
  const { driver, rate, latencyMs, recipients, log } = options;
  const standIn = await StandIn.start(rate, latencyMs);
  const database = await openBenchDatabase(driver, DATABASE_NAME);
  const { db } = database;
  try {
    const config = parseConfig({
      BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: standIn.url,
      BROADCAST_RATE: String(rate),
      PAID_BROADCAST: rate > 30 ? 'true' : 'false',
      LOG_LEVEL: 'warn',
    });
    const logs = captureLogs();
    const logger = createLogger('warn', logs.stream);
    const city = new CityDirectory(loadCity(config.CITY_FILE));
    const i18n = createTranslator(config.DEFAULT_LOCALE);
    let background: ReturnType<typeof startBackgroundWork> | undefined;
    const delivery = createDeliveryPort(() => ({ db, api: bot.api, clock: systemClock, i18n, city, logger, rate }), () => background?.worker.wake());
    const deps = { db, logger, clock: systemClock, city, i18n, delivery };
    const bot = createBot(config, deps, { botInfo: standIn.botInfo });

    // The people: set-based, languages cycling uk/de/ru, both roles, every district and the whole city.
    const now = systemClock.now();
    const [author] = await db
      .insert(users)
      .values({ telegramId: AUTHOR_CHAT, firstName: 'Amt', locale: 'de', role: 'staff', organisation: 'Ausländerbehörde Duisburg', district: WHOLE_CITY, onboardedAt: now, createdAt: now, lastSeenAt: now })
      .returning();
    const areas = [...deps.city.districts.map((d) => d.key), WHOLE_CITY];
    await db.execute(sql`
      insert into ${users} (telegram_id, first_name, locale, role, district, onboarded_at, created_at, last_seen_at)
      select ${FIRST_CHAT} + g, 'P' || g, (array['uk','de','ru'])[1 + g % 3], (array['seeker','helper'])[1 + g % 2],
             (array[${sql.join(areas.map((a) => sql`${a}`), sql`, `)}])[1 + g % ${areas.length}], ${now}, ${now}, ${now}
      from generate_series(1, ${recipients}) g`);
    await db.execute(sql`analyze ${users}`);
    const chats = new Set(Array.from({ length: recipients }, (_, i) => FIRST_CHAT + 1 + i));
    // The composer's message that the progress job edits (in production the preview the author confirmed).
    const progressMessage = await bot.api.sendMessage(AUTHOR_CHAT, 'Vorschau der Mitteilung');

    background = startBackgroundWork({ config, database, deps, api: bot.api, botUsername: standIn.botInfo.username });
    await sleep(1_000); // the worker is up and idle, as in production before someone presses "send"
    const loadStart = load();
    const memory = new MemoryTracker();
    const draft: NoticeDraft = { audience: 'everyone', districts: [], languages: [], texts: NOTICE_TEXTS };
    const started = performance.now();
    const notice = await sendNotice(db, systemClock, actorOf(author!), draft, { chatId: AUTHOR_CHAT, messageId: progressMessage.message_id });
    const fanOutMs = performance.now() - started;
    background.worker.wake(); // what the /broadcast handler does after sendNotice
    log(`    ours: notice #${notice.id} queued for ${notice.recipientCount} in ${fanOutMs.toFixed(0)} ms; sending …`);

    // Nothing left pending or sending: an `exists` on the partial index on (notice_id, status) stops at the
    // first such row. Counting them (100,000 rows at first) five times a second cost the sender CPU.
    const deadline = started + (recipients / rate) * 3_000 + 60_000;
    const remaining = sql`from ${outbox} where ${outbox.noticeId} = ${notice.id} and ${outbox.status} in ('pending', 'sending')`;
    let lastLog = performance.now();
    for (;;) {
      const [left] = await queryRows<{ any: boolean }>(db, sql`select exists (select 1 ${remaining}) as any`);
      memory.sample();
      if (!left?.any) break;
      const count = async () => (await queryRows<{ n: number }>(db, sql`select count(*)::int as n ${remaining}`))[0]?.n;
      if (performance.now() > deadline) {
        log(`    ours: gave up waiting, ${await count()} messages not sent`);
        break;
      }
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`    ours: ${await count()} left after ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
      await sleep(200);
    }
    const wallSeconds = (performance.now() - started) / 1000;
    // The progress job (every second, edits every 3 s) marks the notice done and reports to the author.
    let noticeDone = false;
    for (let i = 0; i < 50 && !noticeDone; i++) {
      noticeDone = (await db.select({ status: notices.status }).from(notices).where(eq(notices.id, notice.id)))[0]?.status === 'done';
      if (!noticeDone) await sleep(100);
    }
    await background.stop();
    const loadEnd = load();
    const workerStats = { ...background.worker.stats } as unknown as Record<string, number>;
    const report = await standIn.report();
    const mem = memory.finish();
    const hwmMb = highWaterMb();

    const statusRows = await queryRows<{ status: string; n: number; dup: number }>(
      db,
      sql`select status, count(*)::int as n, count(*) filter (where possible_duplicate)::int as dup from ${outbox} where ${outbox.noticeId} = ${notice.id} group by status`,
    );
    const a = analyse(report.sends, chats, rate);
    if (a.otherErrors > 0) log(`    ours: ${a.otherErrors} answers other than 200/429`);
    const errors = logs.lines.filter((l) => l.level >= 50).map((l) => l.msg);
    return {
      method: 'ours',
      driver,
      rate,
      latencyMs,
      recipients,
      ...resultFigures(a),
      wallSeconds,
      memory: mem,
      hwmMb,
      load: { start: loadStart, end: loadEnd },
      ours: {
        fanOutMs,
        outboxStatuses: Object.fromEntries(statusRows.map((r) => [r.status, r.n])),
        possibleDuplicates: statusRows.reduce((sum, r) => sum + r.dup, 0),
        noticeDone,
        workerStats,
        warnings: logs.lines.filter((l) => l.level === 40).length,
        errors: [...new Set(errors)].slice(0, 5),
      },
      command: options.command,
      date: today(),
    };
  } finally {
    await database.close();
    await standIn.close();
  }
}

// ---------------------------------------------------------------------------------------- baselines

/** The message a German recipient of ours gets, for the baselines. */
function baselineText(): string {
  const i18n = createTranslator('de');
  return renderNoticeText({ t: i18n.fixed('de') }, { organisation: 'Ausländerbehörde Duisburg', texts: NOTICE_TEXTS }, 'de')!;
}

/** The peak resident set of this process so far (VmHWM), MiB. */
function highWaterMb(): number | undefined {
  return readProcMemory(process.pid)?.hwmMb;
}

/**
 * Runs a baseline sender against a fresh stand-in and reports like runOurs: `send` gets an Api with
 * auto-retry, the message and the recipients' chat ids, samples memory itself and returns the calls that
 * failed after retrying.
 */
async function runSender(
  method: Exclude<Method, 'ours'>,
  options: CaseOptions & { recipients: number },
  send: (api: Bot['api'], text: string, ids: number[], memory: MemoryTracker) => Promise<number>,
): Promise<MethodResult> {
  const { rate, latencyMs, recipients } = options;
  const standIn = await StandIn.start(rate, latencyMs);
  try {
    const bot = new Bot(TOKEN, { botInfo: standIn.botInfo, client: { apiRoot: standIn.url } });
    bot.api.config.use(autoRetry());
    const text = baselineText();
    const ids = Array.from({ length: recipients }, (_, i) => FIRST_CHAT + 1 + i);
    const loadStart = load();
    const memory = new MemoryTracker();
    const started = performance.now();
    const failures = await send(bot.api, text, ids, memory);
    const wallSeconds = (performance.now() - started) / 1000;
    const loadEnd = load();
    const mem = memory.finish();
    const hwmMb = highWaterMb();
    const report = await standIn.report();
    const a = analyse(report.sends, new Set(ids), rate);
    return {
      method,
      driver: null,
      rate,
      latencyMs,
      recipients,
      ...resultFigures(a),
      wallSeconds,
      memory: mem,
      hwmMb,
      load: { start: loadStart, end: loadEnd },
      baselineFailures: failures,
      command: options.command,
      date: today(),
    };
  } finally {
    await standIn.close();
  }
}

/**
 * What grammY's documentation recommends for broadcasts: a plain sequential loop over the recipients on
 * an Api with the auto-retry plugin (default options), against a fresh stand-in with the same limit and
 * latency. It waits for each answer before the next call, so it is bound by the latency.
 */
export function runBaseline(options: CaseOptions & { recipients: number }): Promise<MethodResult> {
  return runSender('baseline', options, async (api, text, ids, memory) => {
    let failures = 0;
    for (const id of ids) {
      try {
        await api.sendMessage(id, text, { parse_mode: 'HTML' });
      } catch {
        failures++; // the documented loop has no catch: one failure would end the broadcast there
      }
      if (id % 100 === 0) memory.sample();
    }
    return failures;
  });
}

/**
 * The strongest simple sender: the recipients' ids in memory, no database, no bookkeeping, one
 * `sendMessage` every (1000 + 15) / rate ms by a fixed schedule (the same 15 ms window margin as ours,
 * so that it is never refused), as many requests in flight as the latency needs, auto-retry for a 429.
 * A late timer is made up by sending the overdue ones at once (the stand-in's sliding second still
 * holds). What ours would be without a database, a crash-safe outbox or other work in the process.
 */
export function runPaced(options: CaseOptions & { recipients: number }): Promise<MethodResult> {
  return runSender('paced', options, async (api, text, ids, memory) => {
    const intervalMs = 1015 / options.rate;
    let failures = 0;
    let next = 0;
    const inFlight = new Set<Promise<void>>();
    const started = performance.now();
    while (next < ids.length) {
      const due = Math.min(ids.length, Math.floor((performance.now() - started) / intervalMs) + 1);
      for (; next < due; next++) {
        const call: Promise<void> = api
          .sendMessage(ids[next]!, text, { parse_mode: 'HTML' })
          .then(
            () => undefined,
            () => void failures++,
          )
          .finally(() => inFlight.delete(call));
        inFlight.add(call);
      }
      if (next % 100 === 0) memory.sample();
      await sleep(1);
    }
    await Promise.all([...inFlight]);
    return failures;
  });
}
