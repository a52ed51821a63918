import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { asc, eq, sql } from 'drizzle-orm';
import { Bot } from 'grammy';
import { startBackgroundWork } from '../../src/background';
import { CityDirectory, loadCity, WHOLE_CITY } from '../../src/city';
import { systemClock } from '../../src/clock';
import { type Config, type Locale, parseConfig } from '../../src/config';
import { type Database, queryRows } from '../../src/db';
import { notices, outbox, translationJobs, users, type UserRow } from '../../src/db/schema';
import { createDeliveryPort } from '../../src/delivery/port';
import { routingContext } from '../../src/domain/matching';
import { sendNotice } from '../../src/domain/notices';
import { OUTBOX_KINDS } from '../../src/domain/outbox-kinds';
import { actorOf } from '../../src/domain/permissions';
import { type NewPost, type PostsContext, publishPost } from '../../src/domain/posts';
import { waveSettings } from '../../src/domain/waves';
import { createTranslator } from '../../src/i18n';
import { createLogger } from '../../src/logger';
import { detectLanguage } from '../../src/translate/detect';
import { analyse, captureLogs, NOTICE_TEXTS } from './broadcast-run';
import { StandIn } from './broadcast-standin-client';
import { type Driver, openBenchDatabase } from './database';
import { Prng } from './prng';
import { analyse as vacuumAnalyse, seedHelpers } from './seed';
import { percentile } from './stats';
import { TranslateStandIn } from './translate-standin';
import { processCpuMs } from './updates-load';

/** A token in BotFather's shape; the stand-in accepts any. */
const TOKEN = '123456789:BENCH-token-for-hilfenetz-only_xx';
/** The notice's recipients are FIRST_CHAT + 1 … + N (seekers); the notice's author is AUTHOR_CHAT; posts' authors from AUTHOR_BASE + 1. */
const FIRST_CHAT = 10_000_000;
const AUTHOR_CHAT = 900_000;
const AUTHOR_BASE = 8_000_000_000;
const LANGUAGES = ['uk', 'de', 'ru'] as const satisfies readonly Locale[];
const SEED = 20_261_205;

/** The notice in all three languages (German and Ukrainian as in bench:broadcast). */
const NOTICE_TEXTS_3 = {
  ...NOTICE_TEXTS,
  ru: 'Ведомство по делам иностранцев Дуйсбурга в пятницу, 27.11., закрыто из-за собрания сотрудников. Встречи автоматически переносятся на следующую неделю; вы получите новое приглашение.',
};

/** A need in the author's language; the number keeps texts apart (the same text twice a day is refused). */
function needText(language: Locale, index: number): string {
  switch (language) {
    case 'uk':
      return `Шукаю супровід до Jobcenter у вівторок і допомогу з формулярами, заявка ${index}.`;
    case 'ru':
      return `Мы ищем сопровождение в Jobcenter во вторник и помощь с бумагами, заявка ${index}.`;
    default:
      return `Wir suchen Begleitung zum Jobcenter am Dienstag und Hilfe mit Formularen, Anfrage ${index}.`;
  }
}

/** p50 / p99 / max of a list of milliseconds. */
export interface Spread {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

function spread(values: readonly number[]): Spread {
  return { n: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: values.length ? Math.max(...values) : Number.NaN };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const load = () => Math.round(os.loadavg()[0]! * 100) / 100;
/** Wall clock with sub-millisecond resolution, comparable with the stand-in's times (another process). */
const preciseNow = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------- delivery

/** One delivery run: a notice while needs are published, with translation off or on. */
export interface DeliveryCase {
  driver: Driver;
  translation: boolean;
  /** False: the notice alone, as in bench:broadcast (the same run's reference for what the needs cost). */
  needs: boolean;
  /** BROADCAST_RATE and the stand-in's limit. */
  rate: number;
  /** The Bot API stand-in's answer latency, ms. */
  latencyMs: number;
  /** The engine stand-in's answer delay, ms (translation on only). */
  engineDelayMs: number;
  /** TRANSLATE_WAIT as configured (e.g. 5s). */
  translateWait: string;
  /** The notice's recipients (seekers, uk/de/ru a third each). */
  recipients: number;
  /** Helpers with five need subscriptions each (bench:match's seeding), whom the needs notify. */
  helpers: number;
  /** One need published every so many ms, from `leadSeconds` before the notice until it is delivered. */
  postEveryMs: number;
  leadSeconds: number;
}

/** What one delivery run measured. */
export interface DeliveryResult extends DeliveryCase {
  kind: 'delivery';
  notice: {
    accepted: number;
    lost: number;
    duplicated: number;
    rateLimited: number;
    fanOutMs: number;
    /** From sendNotice() to the stand-in's receipt of the last notice message. */
    wallSeconds: number;
    /** recipients / wallSeconds, and that over the limit: the target's figure. */
    wallRate: number;
    wallFraction: number;
    /** (accepted − 1) / first-to-last span, as bench:broadcast reports it. */
    spanFraction: number;
  };
  /** Everything the governor sent between the notice's first and last message: notice, notifications, edits. */
  window: { seconds: number; notice: number; notifications: number; edits: number; fraction: number };
  /**
   * CPU from sendNotice() until the notice was delivered, per message sent in the window: this process
   * (worker, publishing, translation job) and this database's PostgreSQL backends (null on PGlite, which
   * runs inside this process). Less dependent on the machine's load than the rate.
   */
  cpuMsPerMessage: { process: number; database: number | null };
  posts: { published: number; duringNotice: number; notified: number; publishMs: Spread };
  notifications: {
    /** From publishPost's commit to Telegram's answer to the notification, per phase. */
    firstMessageMs: { quiet: Spread; duringNotice: Spread };
    /** Readers of another language than the post's: how their notification went out. */
    crossLanguage: { sent: number; translated: number; editedLater: number; original: number };
    /** Readers of another language: commit → the translation in their chat (first message or edit). */
    translatedMs: { quiet: Spread; duringNotice: Spread };
  };
  engineRequests: number | null;
  /** Post messages still pending when the run gave up waiting for them. */
  leftover: number;
  warnings: number;
  errors: string[];
  load: { start: number; end: number };
  command: string;
  date: string;
}

interface PublishedPost {
  id: number;
  ms: number;
  /** Wall-clock ms of the commit. */
  committedAt: number;
  recipients: number;
  duringNotice: boolean;
}

/** The people of a delivery run: the notice's author, its recipients, the helpers and the needs' authors. */
async function seedPeople(db: Database, city: CityDirectory, c: DeliveryCase, authorsNeeded: number): Promise<{ author: UserRow; authors: UserRow[] }> {
  const now = systemClock.now();
  const [author] = await db
    .insert(users)
    .values({ telegramId: AUTHOR_CHAT, firstName: 'Amt', locale: 'de', role: 'staff', organisation: 'Ausländerbehörde Duisburg', district: WHOLE_CITY, onboardedAt: now, createdAt: now, lastSeenAt: now })
    .returning();
  const areas = [...city.districts.map((d) => d.key), WHOLE_CITY];
  const areaList = sql.join(areas.map((a) => sql`${a}`), sql`, `);
  await db.execute(sql`
    insert into ${users} (telegram_id, first_name, locale, role, district, onboarded_at, created_at, last_seen_at)
    select ${FIRST_CHAT} + g, 'P' || g, (array['uk','de','ru'])[1 + g % 3], 'seeker', (array[${areaList}])[1 + g % ${areas.length}], ${now}, ${now}, ${now}
    from generate_series(1, ${c.recipients}) g`);
  // Helpers first: seedHelpers subscribes every helper there is.
  await seedHelpers(db, { categories: city.categories.map((k) => k.key), districts: city.districts.map((d) => d.key) }, c.helpers);
  // Authors of the needs: helpers without subscriptions (so the seekers' notice stays the seekers' own), author i writes in LANGUAGES[i % 3].
  await db.execute(sql`
    insert into ${users} (telegram_id, first_name, locale, role, district, onboarded_at, created_at, last_seen_at)
    select ${AUTHOR_BASE}::bigint + g, 'A' || g, (array['uk','de','ru'])[1 + (g - 1) % 3], 'helper', ${WHOLE_CITY}, ${now}, ${now}, ${now}
    from generate_series(1, ${authorsNeeded}) g`);
  await vacuumAnalyse(db);
  const authors = await db.select().from(users).where(sql`${users.telegramId} > ${AUTHOR_BASE} and ${users.telegramId} <= ${AUTHOR_BASE + authorsNeeded}`).orderBy(asc(users.telegramId));
  return { author: author!, authors };
}

/** The production posts context for this configuration (as the bot's postsContext builds it). */
function postsContextFor(config: Config, city: CityDirectory): PostsContext {
  return { ...routingContext(config, systemClock, city), config, waves: waveSettings(config, city), translate: config.TRANSLATE_URL !== undefined };
}

/** The needs of a run: unprotected categories (unverified helpers), any district, one language after another. */
function needsPlan(city: CityDirectory, count: number): NewPost[] {
  const prng = new Prng(SEED);
  const categories = city.categories.map((c) => c.key).filter((k) => !city.isProtected(k));
  const districts = city.districts.map((d) => d.key);
  return Array.from({ length: count }, (_, i) => {
    const language = LANGUAGES[i % LANGUAGES.length]!;
    const text = needText(language, i);
    // What the /need dialog stores: the detected language, the author's as a fallback.
    return { kind: 'need', category: prng.pick(categories), district: prng.pick(districts), text, photoFileId: null, language: detectLanguage(text, language).language };
  });
}

/**
 * The production path with translation off or on: the background work of src/background.ts (the
 * DeliveryWorker with BROADCAST_RATE, the translation job against the engine stand-in, the sweeps) while
 * needs are published with publishPost once every `postEveryMs` (each a first wave of WAVE_SIZE helpers of
 * all three languages) and, after `leadSeconds`, a notice in three languages to `recipients` seekers is
 * sent with sendNotice(). Posting stops when the notice is delivered; then the run waits for the needs'
 * messages (and edits) that are due within 15 s.
 */
export async function runDelivery(c: DeliveryCase, command: string, log: (line: string) => void): Promise<DeliveryResult> {
  const telegram = await StandIn.start(c.rate, c.latencyMs);
  const engine = c.translation ? await TranslateStandIn.start(c.engineDelayMs) : null;
  const database = await openBenchDatabase(c.driver, 'hilfenetz_bench_translate');
  const { db } = database;
  try {
    const config = parseConfig({
      BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: telegram.url,
      BROADCAST_RATE: String(c.rate),
      PAID_BROADCAST: c.rate > 30 ? 'true' : 'false',
      LOG_LEVEL: 'warn',
      QUIET_HOURS: 'off',
      ...(engine ? { TRANSLATE_URL: engine.url, TRANSLATE_WAIT: c.translateWait } : {}),
    });
    const logs = captureLogs();
    const logger = createLogger('warn', logs.stream);
    const city = new CityDirectory(loadCity(config.CITY_FILE));
    const i18n = createTranslator(config.DEFAULT_LOCALE);
    const api = new Bot(TOKEN, { botInfo: telegram.botInfo, client: { apiRoot: telegram.url } }).api;
    let background: ReturnType<typeof startBackgroundWork> | undefined;
    const delivery = createDeliveryPort(() => ({ db, api, clock: systemClock, i18n, city, logger, rate: c.rate }), () => background?.worker.wake());
    const deps = { db, logger, clock: systemClock, city, i18n, delivery };

    const maxPosts = Math.ceil(((c.leadSeconds + (c.recipients / c.rate) * 3 + 60) * 1000) / c.postEveryMs);
    const { author, authors } = await seedPeople(db, city, c, maxPosts);
    const chats = new Set(Array.from({ length: c.recipients }, (_, i) => FIRST_CHAT + 1 + i));
    const progressMessage = await api.sendMessage(AUTHOR_CHAT, 'Vorschau der Mitteilung');
    background = startBackgroundWork({ config, database, deps, api, botUsername: telegram.botInfo.username });
    const worker = background.worker;
    await sleep(1_000); // everything up and idle
    const loadStart = load();

    // Needs, one every postEveryMs, each woken like the /need handler does.
    const ctx = postsContextFor(config, city);
    const plan = needsPlan(city, maxPosts);
    const published: PublishedPost[] = [];
    let noticeSent = false;
    let posting = true;
    const postLoop = (async () => {
      let next = performance.now();
      for (let i = 0; c.needs && posting && i < plan.length; i++) {
        const started = performance.now();
        const result = await publishPost(db, ctx, authors[i]!, plan[i]!);
        published.push({ id: result.post.id, ms: performance.now() - started, committedAt: Date.now(), recipients: result.recipients, duringNotice: noticeSent });
        worker.wake();
        next += c.postEveryMs;
        await sleep(Math.max(0, next - performance.now()));
      }
    })();

    if (c.needs) await sleep(c.leadSeconds * 1000);
    const sentAt = preciseNow();
    const started = performance.now();
    noticeSent = true;
    const cpuStart = { process: process.cpuUsage(), database: await backendCpu(db, c.driver) };
    const draft = { audience: 'seekers' as const, districts: [], languages: [], texts: NOTICE_TEXTS_3 };
    const notice = await sendNotice(db, systemClock, actorOf(author), draft, { chatId: AUTHOR_CHAT, messageId: progressMessage.message_id });
    const fanOutMs = performance.now() - started;
    worker.wake();
    log(`    notice #${notice.id} queued for ${notice.recipientCount} in ${fanOutMs.toFixed(0)} ms; sending …`);
    const deadline = started + (c.recipients / c.rate) * 3_000 + 60_000;
    await waitUntil(db, sql`${outbox.noticeId} = ${notice.id} and ${outbox.status} in ('pending', 'sending')`, deadline, (left) => log(`    ${left} notice messages left after ${((performance.now() - started) / 1000).toFixed(0)} s`));
    const cpuEnd = { process: process.cpuUsage(cpuStart.process), database: await backendCpu(db, c.driver) };
    posting = false;
    await postLoop;
    // The needs' messages that are due soon (waiting notifications, edits released by the job).
    const settled = await waitUntil(
      db,
      sql`${outbox.postId} is not null and (${outbox.status} = 'sending' or (${outbox.status} = 'pending' and ${outbox.notBefore} < ${new Date(Date.now() + 15_000)}))`,
      performance.now() + 30_000,
    );
    for (let i = 0; i < 50; i++) {
      if ((await db.select({ status: notices.status }).from(notices).where(eq(notices.id, notice.id)))[0]?.status === 'done') break;
      await sleep(100);
    }
    await background.stop();
    const loadEnd = load();
    const report = await telegram.report();
    const engineRequests = engine ? (await engine.report()).requests : null;

    // The notice: every message the stand-in accepted for the seekers.
    const a = analyse(report.sends, chats, c.rate);
    const wallSeconds = (a.lastReceivedAt - sentAt) / 1000;
    // Everything else the governor sent meanwhile: notifications to helpers and edits of late translations.
    const inWindow = (s: { receivedAt: number; status: number }) => s.status === 200 && s.receivedAt >= a.firstReceivedAt && s.receivedAt <= a.lastReceivedAt;
    const others = report.sends.filter((s) => !chats.has(s.chatId) && s.chatId !== AUTHOR_CHAT && inWindow(s)).length;
    const edits = report.edits.filter((s) => s.chatId !== AUTHOR_CHAT && inWindow(s)).length;
    const windowSeconds = (a.lastReceivedAt - a.firstReceivedAt) / 1000;
    const windowSends = a.accepted + others + edits;

    const messages = await postMessages(db, published, c.translation);
    const databaseCpuMs = cpuStart.database && cpuEnd.database ? [...cpuEnd.database].reduce((sum, [pid, ms]) => sum + ms - (cpuStart.database!.get(pid) ?? 0), 0) : null;
    const errors = logs.lines.filter((l) => l.level >= 50).map((l) => l.msg);
    return {
      ...c,
      kind: 'delivery',
      notice: {
        accepted: a.accepted,
        lost: a.lost,
        duplicated: a.duplicated,
        rateLimited: report.rateLimited,
        fanOutMs,
        wallSeconds,
        wallRate: c.recipients / wallSeconds,
        wallFraction: c.recipients / wallSeconds / c.rate,
        spanFraction: a.fraction,
      },
      window: { seconds: windowSeconds, notice: a.accepted, notifications: others, edits, fraction: (windowSends - 1) / windowSeconds / c.rate },
      cpuMsPerMessage: {
        process: (cpuEnd.process.user + cpuEnd.process.system) / 1000 / windowSends,
        database: databaseCpuMs === null ? null : databaseCpuMs / windowSends,
      },
      posts: {
        published: published.length,
        duringNotice: published.filter((p) => p.duringNotice).length,
        notified: published.reduce((n, p) => n + p.recipients, 0),
        publishMs: spread(published.map((p) => p.ms)),
      },
      notifications: messages,
      engineRequests,
      leftover: settled,
      warnings: logs.lines.filter((l) => l.level === 40).length,
      errors: [...new Set(errors)].slice(0, 5),
      load: { start: loadStart, end: loadEnd },
      command,
      date: new Date().toISOString().slice(0, 10),
    };
  } finally {
    await database.close();
    await engine?.close();
    await telegram.close();
  }
}

/** CPU ms of each PostgreSQL backend connected to this benchmark's database, by pid; null on PGlite. */
async function backendCpu(db: Database, driver: Driver): Promise<Map<number, number> | null> {
  if (driver !== 'postgres') return null;
  const rows = await queryRows<{ pid: number }>(db, sql`select pid from pg_stat_activity where datname = current_database()`);
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    const ms = processCpuMs(pid);
    if (ms !== undefined) cpu.set(pid, ms);
  }
  return cpu;
}

/** Polls (every 200 ms) until no outbox row matches `where` or the deadline passes; returns how many were left. */
async function waitUntil(db: Database, where: ReturnType<typeof sql>, deadline: number, progress?: (left: number) => void): Promise<number> {
  let lastLog = performance.now();
  for (;;) {
    const [row] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from ${outbox} where ${where}`);
    const left = row?.n ?? 0;
    if (left === 0 || performance.now() > deadline) return left;
    if (progress && performance.now() - lastLog > 10_000) {
      lastLog = performance.now();
      progress(left);
    }
    await sleep(200);
  }
}

/** How the needs' notifications went out, from the outbox: when, and in which language. */
async function postMessages(db: Database, published: readonly PublishedPost[], translation: boolean): Promise<DeliveryResult['notifications']> {
  const rows = await queryRows<{ kind: string; status: string; post_id: number; user_id: number; sent_at: Date | string | null; reader: string; written: string }>(
    db,
    sql`select o.kind, o.status, o.post_id, o.user_id, o.sent_at, u.locale as reader, p.language as written
      from ${outbox} o join users u on u.id = o.user_id join posts p on p.id = o.post_id
      where o.kind in (${OUTBOX_KINDS.postNotify}, ${OUTBOX_KINDS.postTranslated})`,
  );
  const byPost = new Map(published.map((p) => [p.id, p]));
  const edits = new Map(rows.filter((r) => r.kind === OUTBOX_KINDS.postTranslated).map((r) => [`${r.post_id}:${r.user_id}`, r]));
  const first = { quiet: [] as number[], duringNotice: [] as number[] };
  const translated = { quiet: [] as number[], duringNotice: [] as number[] };
  const cross = { sent: 0, translated: 0, editedLater: 0, original: 0 };
  const ms = (at: Date | string, post: PublishedPost) => new Date(at).getTime() - post.committedAt;
  for (const row of rows) {
    const post = byPost.get(row.post_id);
    if (row.kind !== OUTBOX_KINDS.postNotify || row.status !== 'sent' || !row.sent_at || !post) continue;
    const phase = post.duringNotice ? 'duringNotice' : 'quiet';
    first[phase].push(ms(row.sent_at, post));
    if (row.reader === row.written) continue;
    cross.sent++;
    const edit = edits.get(`${row.post_id}:${row.user_id}`);
    if (!translation) {
      cross.original++;
    } else if (!edit) {
      cross.translated++;
      translated[phase].push(ms(row.sent_at, post));
    } else if (edit.status === 'sent' && edit.sent_at) {
      cross.editedLater++;
      translated[phase].push(ms(edit.sent_at, post));
    } else {
      cross.original++;
    }
  }
  return {
    firstMessageMs: { quiet: spread(first.quiet), duringNotice: spread(first.duringNotice) },
    crossLanguage: cross,
    translatedMs: { quiet: spread(translated.quiet), duringNotice: spread(translated.duringNotice) },
  };
}

// ---------------------------------------------------------------------------------------- publishing

/** publishPost alone, translation off and on in turns on the same database. */
export interface PublishCase {
  driver: Driver;
  helpers: number;
  /** Measured posts, half of them with translation on (every other one). */
  posts: number;
  warmup: number;
}

export interface PublishResult extends PublishCase {
  kind: 'publish';
  off: Spread;
  on: Spread;
  meanRecipients: number;
  /** Translation jobs written = posts published with translation on. */
  jobsMatch: boolean;
  load: { start: number; end: number };
  command: string;
  date: string;
}

/**
 * publishPost exactly as production calls it (first wave of WAVE_SIZE), on bench:match's seeded helpers,
 * alternating translation off and on post by post so that both see the same database and the same load;
 * with translation on, the job row is written in the same transaction. Nothing is delivered.
 */
export async function runPublish(c: PublishCase, command: string): Promise<PublishResult> {
  const database = await openBenchDatabase(c.driver, 'hilfenetz_bench_translate', { poolSize: 2 });
  const { db } = database;
  try {
    const config = parseConfig({ BOT_TOKEN: TOKEN, QUIET_HOURS: 'off', TRANSLATE_URL: 'http://127.0.0.1:9/unused' });
    const city = new CityDirectory(loadCity(config.CITY_FILE));
    const seeded = await seedPeople(db, city, { ...DELIVERY_DEFAULTS, driver: c.driver, translation: true, needs: true, helpers: c.helpers, recipients: 1 }, c.warmup + c.posts);
    const on = postsContextFor(config, city);
    const off = { ...on, translate: false };
    const plan = needsPlan(city, c.warmup + c.posts);
    const samples = { off: [] as number[], on: [] as number[] };
    let recipients = 0;
    const loadStart = load();
    for (const [i, input] of plan.entries()) {
      const translate = i % 2 === 1;
      const started = performance.now();
      const result = await publishPost(db, translate ? on : off, seeded.authors[i]!, input);
      const ms = performance.now() - started;
      if (i < c.warmup) continue;
      samples[translate ? 'on' : 'off'].push(ms);
      recipients += result.recipients;
    }
    const [jobs] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from ${translationJobs}`);
    return {
      ...c,
      kind: 'publish',
      off: spread(samples.off),
      on: spread(samples.on),
      meanRecipients: recipients / c.posts,
      jobsMatch: jobs?.n === plan.filter((_, i) => i % 2 === 1).length,
      load: { start: loadStart, end: load() },
      command,
      date: new Date().toISOString().slice(0, 10),
    };
  } finally {
    await database.close();
  }
}

/** The defaults of a delivery run (see bench/translate.ts for the flags). */
export const DELIVERY_DEFAULTS: Omit<DeliveryCase, 'driver' | 'translation' | 'needs'> = {
  rate: 300,
  latencyMs: 50,
  engineDelayMs: 200,
  translateWait: '5s',
  recipients: 10_000,
  helpers: 3_000,
  postEveryMs: 1_000,
  leadSeconds: 10,
};
