/**
 * npm run bench:updates — how many ordinary updates Hilfenetz handles per second, and what each costs.
 * 1,000 people each send /start, press the first onboarding button, send /help and free text (4,000
 * updates, uk/de/ru), to src/main.ts as its own process — webhook (32 requests in flight, as Telegram
 * uses up to 40 connections) and polling (the runner) — on PostgreSQL and on PGlite, against a fresh Bot
 * API stand-in that answers at once. The baseline in the same run is a bare grammY echo bot, as its own
 * process: stock `webhookCallback` for webhook, `bot.start()` for polling; for webhook also the same echo
 * bot keeping a session per chat in PostgreSQL (grammY's session plugin, a storage of one table through
 * pg: one read and one write per update). Reports updates/s, latency
 * (webhook: request to response, i.e. the update handled), CPU per update of the bot and of the
 * PostgreSQL server (all its processes, from /proc), and database transactions per update
 * (pg_stat_database). Each process gets the load twice, with new people the second time: the table reports
 * the second round (steady state) and the first round's rate (cold start). Writes the table into BENCHMARKS.md.
 *
 *   --users=1000        people (4 updates each)
 *   --concurrency=32    webhook requests in flight
 *   --only=webhook|polling
 *   --drivers=postgres,pglite
 *   --processes=1,2     webhook processes on PostgreSQL (the updates in turn, as a load balancer sends them)
 *
 * BENCH_NODE_OPTIONS=… is passed to the bot's node as NODE_OPTIONS (e.g. `--require` of a CPU profiler).
 */
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { freePort } from '../test/helpers/wait';
import { BENCH_WEBHOOK_PATH, BENCH_WEBHOOK_SECRET, type BotProcess, sleep, startEchoBot, startHilfenetz, stopProcess, waitUntil } from './lib/bot-process';
import { StandIn } from './lib/broadcast-standin-client';
import { positiveInts } from './lib/cli';
import { BENCH_DATABASE_URL, type Driver, emptyServerDatabase } from './lib/database';
import { table, writeSection } from './lib/report-file';
import { FIRST_UPDATE_USER, planUpdates, postgresCpuMs, postUpdates, processCpuMs } from './lib/updates-load';

type Mode = 'webhook' | 'polling';
type Target = { kind: 'hilfenetz'; driver: Driver } | { kind: 'baseline'; session: boolean };

/** One round of the load: `users` people, 4 updates each. */
interface Round {
  updates: number;
  wallSeconds: number;
  perSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  botCpuMsPerUpdate: number;
  pgCpuMsPerUpdate: number | null;
  transactionsPerUpdate: number | null;
  /** People who got at least one answer, and how many 200s the webhook gave. */
  answered: number;
  ok: number;
  /** Bot API calls made during the round (cumulative at the stand-in since the process started), by method. */
  callsByMethod: Record<string, number>;
  webhookReplies: Record<string, number>;
}

/** A case: its second round (steady state) and its first, from the freshly started process. */
interface CaseResult extends Round {
  name: string;
  mode: Mode;
  cold: Round;
}

const DATABASE_NAME = 'hilfenetz_bench_updates';
/** The session baseline's database. */
const SESSION_DATABASE_NAME = 'hilfenetz_bench_echo_sessions';
/** Far above the load: the stand-in answers, it does not throttle. */
const STAND_IN_RATE = 1_000_000;

async function committedTransactions(database: string): Promise<number> {
  const client = new Client({ connectionString: BENCH_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('select xact_commit + xact_rollback as n from pg_stat_database where datname = $1', [database]);
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

function caseName(target: Target, mode: Mode): string {
  if (target.kind === 'baseline' && target.session) return 'baseline 2: the same echo bot with its session in PostgreSQL (grammY session, pg)';
  if (target.kind === 'baseline') return mode === 'webhook' ? 'baseline: grammY echo bot, stock webhookCallback' : 'baseline: grammY echo bot, bot.start()';
  return `Hilfenetz, ${mode}${mode === 'polling' ? ' (runner)' : ''}, ${target.driver === 'postgres' ? 'PostgreSQL' : 'PGlite'}`;
}

async function runCase(target: Target, mode: Mode, users: number, concurrency: number, log: (line: string) => void, processes = 1): Promise<CaseResult> {
  const standIn = await StandIn.start(STAND_IN_RATE, 0);
  const ports = mode === 'webhook' ? await Promise.all(Array.from({ length: processes }, () => freePort())) : [undefined];
  const running: BotProcess[] = [];
  const sessions = target.kind === 'baseline' && target.session ? await emptyServerDatabase(SESSION_DATABASE_NAME) : null;
  try {
    // BENCH_NODE_OPTIONS reaches the bot's node (e.g. `--require` of a profiler); NODE_OPTIONS itself stays the runner's.
    const env = { LOG_LEVEL: 'warn', ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}) };
    for (const [i, port] of ports.entries()) {
      running.push(
        target.kind === 'hilfenetz'
          ? await startHilfenetz({ driver: target.driver, apiRoot: standIn.url, port, databaseName: DATABASE_NAME, joinDatabase: i > 0, env })
          : startEchoBot(standIn.url, port, sessions ? { SESSION_DATABASE_URL: sessions.url } : {}),
      );
    }
    for (const bot of running) {
      if (target.kind === 'hilfenetz' && mode === 'webhook') {
        await waitUntil('hilfenetz', bot, async () => ((await standIn.report()).callsByMethod.setWebhook ?? 0) >= running.length, 120_000);
      } else if (target.kind === 'hilfenetz') {
        await waitUntil('hilfenetz', bot, async () => ((await standIn.report()).callsByMethod.getUpdates ?? 0) > 0, 120_000);
      } else {
        await waitUntil('baseline', bot, () => bot.output().includes('ready\n'), 60_000);
      }
    }
    await sleep(2_000); // start-up work (migrations, first jobs) is not the load's
    const pids = running.map((bot) => bot.child.pid!);
    const cpuOfBots = () => pids.reduce((sum, pid) => sum + processCpuMs(pid)!, 0);
    const usesPostgres = (target.kind === 'hilfenetz' && target.driver === 'postgres') || sessions !== null;
    const database = sessions ? SESSION_DATABASE_NAME : DATABASE_NAME;
    // Two rounds of the same load, each with people of its own: the first from the freshly started process
    // (its code still being compiled), the second the steady state a bot that runs for days is in.
    const rounds: Round[] = [];
    const tx0 = usesPostgres ? await committedTransactions(database) : 0;
    for (const round of [0, 1]) {
      const first = FIRST_UPDATE_USER + round * users;
      const plan = planUpdates(users, first);
      const cpu0 = cpuOfBots();
      const pg0 = usesPostgres ? postgresCpuMs() : 0;
      const started = performance.now();
      let p50Ms: number | null = null;
      let p99Ms: number | null = null;
      let ok = 0;
      let webhookReplies: Record<string, number> = {};
      if (mode === 'webhook') {
        const load = await postUpdates({ ports: ports as number[], path: BENCH_WEBHOOK_PATH, secret: BENCH_WEBHOOK_SECRET, plan, concurrency });
        p50Ms = load.p50Ms;
        p99Ms = load.p99Ms;
        ok = load.statuses['200'] ?? 0;
        webhookReplies = load.webhookReplies;
      } else {
        const startedAt = performance.timeOrigin + performance.now();
        standIn.push(plan);
        // Done when every update was fetched and the bot has made no call for a second.
        let report = await standIn.report();
        while (report.pendingUpdates > 0 || report.lastCallAt < startedAt || performance.timeOrigin + performance.now() - report.lastCallAt < 1_000) {
          await sleep(100);
          report = await standIn.report();
        }
        ok = plan.length;
      }
      const report = await standIn.report();
      const wallSeconds = mode === 'webhook' ? (performance.now() - started) / 1000 : (report.lastCallAt - (performance.timeOrigin + started)) / 1000;
      const cpu1 = cpuOfBots();
      const pg1 = usesPostgres ? postgresCpuMs() : 0;
      const answered = new Set(report.sends.filter((s) => s.status === 200 && s.chatId >= first && s.chatId < first + users).map((s) => s.chatId)).size;
      rounds.push({
        updates: plan.length,
        wallSeconds,
        perSecond: plan.length / wallSeconds,
        p50Ms,
        p99Ms,
        botCpuMsPerUpdate: (cpu1 - cpu0) / plan.length,
        pgCpuMsPerUpdate: usesPostgres ? (pg1 - pg0) / plan.length : null,
        transactionsPerUpdate: null,
        answered,
        ok,
        callsByMethod: report.callsByMethod,
        webhookReplies,
      });
    }
    const [cold, warm] = rounds as [Round, Round];
    if (usesPostgres) {
      // An idle server process publishes its statistics up to 10 s late: counted over both rounds, after a wait
      // (the statistics query itself runs in another database).
      await sleep(11_000);
      const tx1 = await committedTransactions(database);
      warm.transactionsPerUpdate = (tx1 - tx0) / (cold.updates + warm.updates);
    }
    const result: CaseResult = { name: `${caseName(target, mode)}${processes > 1 ? `, ${processes} processes` : ''}`, mode, ...warm, cold };
    const calls = (r: Round) => `Bot API calls ${JSON.stringify(r.callsByMethod)}, as webhook replies ${JSON.stringify(r.webhookReplies)}`;
    log(`  ${result.name}: first round ${cold.perSecond.toFixed(0)} updates/s, bot ${cold.botCpuMsPerUpdate.toFixed(2)} ms CPU/update; ${calls(cold)}`);
    log(`  ${result.name}: second round ${warm.perSecond.toFixed(0)} updates/s, bot ${warm.botCpuMsPerUpdate.toFixed(2)} ms CPU/update`);
    return result;
  } finally {
    // The first process made the database; it goes last.
    for (const bot of [...running].reverse()) {
      await stopProcess(bot);
      await bot.cleanup();
    }
    await standIn.close();
    await sessions?.drop();
  }
}

const f = (x: number | null, digits = 0) => (x === null ? '–' : x.toFixed(digits));

function render(results: CaseResult[], command: string): string {
  const baseRate = (prefix: string, mode: Mode, round: (r: CaseResult) => Round) => {
    const base = results.find((r) => r.mode === mode && r.name.startsWith(prefix));
    return base ? round(base).perSecond : null;
  };
  const ratio = (r: CaseResult, prefix: string, round: (r: CaseResult) => Round = (x) => x) => {
    const base = baseRate(prefix, r.mode, round);
    return base === null ? '–' : f(round(r).perSecond / base, 2);
  };
  return [
    '## Ordinary updates: bench:updates',
    '',
    `\`${command}\` — 1,000 people each send /start, press the first onboarding button, send /help and free`,
    'text (4,000 updates, uk/de/ru in turn), to `src/main.ts` as its own process against a Bot API stand-in',
    'that answers at once; webhook with 32 requests in flight, polling through the runner. Baseline in the same',
    'run: a bare grammY echo bot in its own process (stock `webhookCallback`; `bot.start()` for polling). CPU',
    'from /proc (bot process; PostgreSQL: all its processes); transactions from `pg_stat_database`. *N processes*: N webhook',
    'processes on the same PostgreSQL, the requests sent to them in turn as a load balancer would; CPU is theirs together.',
    '*Baseline 2* (webhook): the same echo bot keeping a session per chat in PostgreSQL — grammY\'s `session()` with a',
    'storage of one table through pg (10 connections, like Hilfenetz), one read and one write per update: the least a',
    'bot does that remembers where each person is, across restarts and processes.',
    '*Two rounds* per process: the load runs twice, each time with 1,000 people of its own. The columns are the',
    'second round, the steady state of a bot that runs for days; the last column is the first round, from the',
    'freshly started process while V8 still compiles its code (each bot, baselines included, gets the same).',
    '',
    ...table(
      [
        'Process',
        'Updates/s',
        'Ratio to baseline',
        'Ratio to baseline 2',
        'p50 ms',
        'p99 ms',
        'Bot CPU ms/update',
        'PostgreSQL CPU ms/update',
        'Transactions/update (both rounds)',
        'People answered',
        'First round: updates/s (ratio to baseline)',
      ],
      results.map((r) => [
        r.name,
        f(r.perSecond),
        ratio(r, 'baseline:'),
        ratio(r, 'baseline 2:'),
        f(r.p50Ms),
        f(r.p99Ms),
        f(r.botCpuMsPerUpdate, 2),
        f(r.pgCpuMsPerUpdate, 2),
        f(r.transactionsPerUpdate, 2),
        `${r.answered.toLocaleString('en')} of ${(r.updates / 4).toLocaleString('en')}`,
        `${f(r.cold.perSecond)} (${ratio(r, 'baseline:', (x) => x.cold)})`,
      ]),
    ),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      users: { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '32' },
      only: { type: 'string' },
      drivers: { type: 'string', default: 'postgres,pglite' },
      processes: { type: 'string', default: '1' },
    },
    strict: true,
  });
  const users = positiveInts(values.users, 'users')[0]!;
  const concurrency = positiveInts(values.concurrency, 'concurrency')[0]!;
  const processCounts = positiveInts(values.processes, 'processes');
  const modes: Mode[] = values.only === 'webhook' || values.only === 'polling' ? [values.only] : ['webhook', 'polling'];
  const drivers = values.drivers.split(',').map((d) => {
    if (d !== 'postgres' && d !== 'pglite') throw new Error(`--drivers expects postgres and/or pglite, got ${d}`);
    return d;
  });
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const results: CaseResult[] = [];
  for (const mode of modes) {
    log(`${mode}:`);
    results.push(await runCase({ kind: 'baseline', session: false }, mode, users, concurrency, log));
    // The session baseline for webhook only: bot.start() handles one update at a time, so with two round trips to
    // the database each it would measure their latency, not what the stack can do.
    if (mode === 'webhook') results.push(await runCase({ kind: 'baseline', session: true }, mode, users, concurrency, log));
    for (const driver of drivers) {
      // Several processes: webhook behind a load balancer on one PostgreSQL (PGlite is one process; polling one receiver).
      const counts = mode === 'webhook' && driver === 'postgres' ? processCounts : [1];
      for (const n of counts) results.push(await runCase({ kind: 'hilfenetz', driver }, mode, users, concurrency, log, n));
    }
  }
  const command = `npm run bench:updates${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const section = render(results, command);
  log(section);
  writeSection('BENCHMARKS.md', '## Ordinary updates: bench:updates', section);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
