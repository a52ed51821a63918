/**
 * npm run bench:start — from spawning the process to the first reply to /start, with each phase, for
 * `npm start` (src/launch.cjs: esbuild compiles src/ into .cache once per source fingerprint, then node runs
 * it), `node --import tsx` (the development path: TypeScript transpiled at every start) and the compiled
 * build (`npm run build`, `node dist/main.js`), each on a fresh PGlite data dir, an existing one, and a
 * migrated PostgreSQL database; against a bare grammY bot started the same ways (the baseline). Polling
 * mode against a Bot API stand-in; the /start is queued before the process starts, so the first reply
 * is the first thing it can do. Medians of --runs runs (default 3). Writes BENCHMARKS.md.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { messageUpdate } from '../test/helpers/updates';
import { withDatabase } from '../test/helpers/db';
import { ROOT } from '../test/helpers/spawn-bot';
import { freePort } from '../test/helpers/wait';
import { BENCH_TOKEN, sleep } from './lib/bot-process';
import { StandIn } from './lib/broadcast-standin-client';
import { positiveInts } from './lib/cli';
import { BENCH_DATABASE_URL, openBenchDatabase } from './lib/database';
import { table, writeSection } from './lib/report-file';
import { percentile } from './lib/stats';

type Launcher = 'npm start' | 'node --import tsx' | 'node dist (compiled)';
type Storage = 'PGlite, fresh data dir' | 'PGlite, existing data dir' | 'PostgreSQL, migrated';
type Program = 'hilfenetz' | 'baseline';

/** Log messages that end a phase, in order (pino's `msg`). */
const PHASES = [
  ['http server listening', 'modules loaded, HTTP up'],
  ['database ready', 'database open + migrations'],
  ['bot identity confirmed', 'getMe'],
  ['long polling started', 'polling'],
] as const;

interface Run {
  firstReplyMs: number;
  /** Milliseconds from spawn to each phase's log line. */
  phases: Record<string, number>;
}

const TSX_LOADER = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
/** A new person for every spawn: a chat whose update a killed run left half done waits for its lease to run out. */
let nextChat = 40_000_001;
const DATABASE_NAME = 'hilfenetz_bench_start';

function command(program: Program, launcher: Launcher): { file: string; args: string[] } {
  const entry = program === 'hilfenetz' ? 'src/main.ts' : 'bench/lib/echo-bot.ts';
  if (launcher === 'npm start') {
    return program === 'hilfenetz' ? { file: 'npm', args: ['start', '--silent'] } : { file: path.join(ROOT, 'node_modules', '.bin', 'tsx'), args: [entry] };
  }
  if (launcher === 'node --import tsx') return { file: process.execPath, args: ['--import', TSX_LOADER, path.join(ROOT, entry)] };
  return { file: process.execPath, args: [path.join(ROOT, 'dist', program === 'hilfenetz' ? 'src/main.js' : 'bench/lib/echo-bot.js')] };
}

async function once(program: Program, launcher: Launcher, env: Record<string, string>): Promise<Run> {
  const CHAT = nextChat++;
  const standIn = await StandIn.start(1_000_000, 0);
  standIn.push([messageUpdate({ id: CHAT, first_name: 'Erste', language_code: 'uk' }, 1, { text: '/start' })]);
  const { file, args } = command(program, launcher);
  const port = await freePort();
  const spawnedAt = Date.now();
  const child: ChildProcess = spawn(file, args, {
    cwd: ROOT,
    detached: true, // its own process group: npm's and tsx's children go with it
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', BOT_TOKEN: BENCH_TOKEN, TELEGRAM_API_ROOT: standIn.url, BOT_MODE: 'polling', POLLING: '1', LOG_LEVEL: 'info', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  try {
    for (;;) {
      const report = await standIn.report();
      const reply = report.sends.find((s) => s.chatId === CHAT);
      if (reply) {
        const phases: Record<string, number> = {};
        for (const line of output.split('\n')) {
          try {
            const entry = JSON.parse(line) as { msg?: string; time?: number };
            const phase = PHASES.find(([msg]) => msg === entry.msg);
            if (phase && entry.time) phases[phase[1]] = entry.time - spawnedAt;
          } catch {
            // not a log line
          }
        }
        return { firstReplyMs: reply.receivedAt - spawnedAt, phases };
      }
      if (child.exitCode !== null) throw new Error(`${program} via ${launcher} exited with ${child.exitCode}\n${output.slice(-2_000)}`);
      if (Date.now() - spawnedAt > 60_000) throw new Error(`${program} via ${launcher}: no reply after 60 s\n${output.slice(-2_000)}`);
      await sleep(10);
    }
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    await standIn.close();
  }
}

interface Row {
  program: Program;
  launcher: Launcher;
  storage: Storage | null;
  median: Run;
}

function medianRun(runs: Run[]): Run {
  const phases: Record<string, number> = {};
  for (const [, name] of PHASES) {
    const values = runs.map((r) => r.phases[name]).filter((v): v is number => v !== undefined);
    if (values.length) phases[name] = percentile(values, 50);
  }
  return { firstReplyMs: percentile(runs.map((r) => r.firstReplyMs), 50), phases };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { runs: { type: 'string', default: '3' }, 'no-postgres': { type: 'boolean', default: false } }, strict: true });
  const runs = positiveInts(values.runs, 'runs')[0]!;
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const startedAt = new Date();
  const loadBefore = os.loadavg()[0]!;
  log('building dist/ (npm run build) for the compiled cases …');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  // The baseline compiled the same way (one file; grammY from node_modules).
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'esbuild'), ['bench/lib/echo-bot.ts', '--platform=node', '--format=cjs', '--outfile=dist/bench/lib/echo-bot.js', '--log-level=warning'], { cwd: ROOT, stdio: 'inherit' });
  const launchers: Launcher[] = ['npm start', 'node --import tsx', 'node dist (compiled)'];
  const rows: Row[] = [];
  const measure = async (program: Program, launcher: Launcher, storage: Storage | null, prepare: () => Promise<{ env: Record<string, string>; done: () => Promise<void> }>) => {
    const list: Run[] = [];
    for (let i = 0; i < runs; i++) {
      const { env, done } = await prepare();
      try {
        list.push(await once(program, launcher, env));
      } finally {
        await done();
      }
    }
    const median = medianRun(list);
    log(`  ${program} · ${launcher} · ${storage ?? '–'}: first reply after ${median.firstReplyMs.toFixed(0)} ms`);
    rows.push({ program, launcher, storage, median });
  };
  for (const launcher of launchers) {
    await measure('baseline', launcher, null, async () => ({ env: {}, done: async () => undefined }));
    // Fresh: an empty data dir each run.
    await measure('hilfenetz', launcher, 'PGlite, fresh data dir', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'hn-start-'));
      return { env: { DATA_DIR: path.join(dir, 'data') }, done: async () => rmSync(dir, { recursive: true, force: true }) };
    });
    // Existing: one data dir, created and migrated by a first run that is not counted.
    const existing = mkdtempSync(path.join(os.tmpdir(), 'hn-start-'));
    await once('hilfenetz', launcher, { DATA_DIR: path.join(existing, 'data') });
    await measure('hilfenetz', launcher, 'PGlite, existing data dir', async () => ({ env: { DATA_DIR: path.join(existing, 'data') }, done: async () => undefined }));
    rmSync(existing, { recursive: true, force: true });
    if (!values['no-postgres']) {
      const database = await openBenchDatabase('postgres', DATABASE_NAME);
      await database.close().catch(() => undefined);
      const url = withDatabase(BENCH_DATABASE_URL, DATABASE_NAME);
      // openBenchDatabase's close drops the database: create it again and migrate it with one uncounted run.
      const again = await openBenchDatabase('postgres', DATABASE_NAME);
      await measure('hilfenetz', launcher, 'PostgreSQL, migrated', async () => ({ env: { DATABASE_URL: url }, done: async () => undefined }));
      await again.close();
    }
  }
  const base = new Map(rows.filter((r) => r.program === 'baseline').map((r) => [r.launcher, r.median.firstReplyMs]));
  const ms = (x: number | undefined) => (x === undefined ? '–' : (x / 1000).toFixed(2));
  const cmd = `npm run bench:start${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const section = [
    '## Start-up: bench:start',
    '',
    `\`${cmd}\` — spawn → first reply to a /start that waits at the Bot API stand-in, polling mode, median of ${runs} runs;`,
    'phases are the times (from spawn) of the log lines that end them. Baseline: a bare grammY bot (`bot.start()`) started',
    'the same way (tsx / node --import tsx / compiled). `npm start` runs `src/launch.cjs`, whose compile cache',
    '(`.cache/`) is warm after the first of the runs, as on every start but the first after a change.',
    '',
    `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'}, Node ${process.version}; ${startedAt.toISOString().slice(0, 16).replace('T', ' ')}–${new Date().toISOString().slice(11, 16)} UTC,`,
    `load average (1 min) ${loadBefore.toFixed(1)} at the start and ${os.loadavg()[0]!.toFixed(1)} at the end.`,
    '',
    ...table(
      ['Program', 'Started with', 'Storage', 'First reply s', ...PHASES.map(([, name]) => `${name} s`), 'Ratio to baseline'],
      rows.map((r) => [
        r.program === 'baseline' ? 'baseline: bare grammY bot' : 'Hilfenetz',
        r.program === 'baseline' && r.launcher === 'npm start' ? 'tsx' : r.launcher,
        r.storage ?? '–',
        ms(r.median.firstReplyMs),
        ...PHASES.map(([, name]) => ms(r.median.phases[name])),
        r.program === 'baseline' ? '1' : (r.median.firstReplyMs / (base.get(r.launcher) ?? Number.NaN)).toFixed(1),
      ]),
    ),
    '',
  ].join('\n');
  log(section);
  writeSection(path.join(ROOT, 'BENCHMARKS.md'), '## Start-up: bench:start', section);
  if (existsSync(path.join(ROOT, 'dist'))) log('(dist/ was left in place)');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
