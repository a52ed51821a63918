import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { withDatabase } from '../../test/helpers/db';
import { spawnBot } from '../../test/helpers/spawn-bot';
import { StandIn } from './broadcast-standin-client';
import { BENCH_DATABASE_URL, type Driver, openBenchDatabase } from './database';
import { FIRST_USER_ID, fireLoad, type LoadResult, type RequestKind } from './hostile-load';
import { type ProcMemory, ProcMemorySampler, readProcMemory } from './proc-memory';

/** A token in BotFather's shape; the stand-in accepts any. */
const TOKEN = '123456789:BENCH-token-for-hilfenetz-only_xx';
const SECRET = 'bench_hostile_secret_0123456789';
const WEBHOOK_URL = 'https://example.org/telegram';
const WEBHOOK_PATH = new URL(WEBHOOK_URL).pathname;
const DATABASE_NAME = 'hilfenetz_bench_hostile';
/** Preloaded into both processes: --expose-gc and the SIGUSR2 heap probe (nothing in the product). */
const NODE_OPTIONS = `--expose-gc --import ${pathToFileURL(path.join(__dirname, 'heap-probe.mjs')).href}`;
/** Far above anything the load triggers: the stand-in answers, it does not throttle. */
const STAND_IN_RATE = 1_000_000;

export type Target = 'hilfenetz' | 'baseline';

/** Live heap of the process after a full GC, from the heap probe (MiB). */
export interface HeapProbe {
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  rssMb: number;
}

/** What one process did under the load. */
export interface CaseResult {
  target: Target;
  driver: Driver | null;
  startupSeconds: number;
  load: LoadResult;
  /** VmRSS when idle (and after a full GC) before the load, the highest sampled (every 100 ms) from the load's start until `after`, and `settleSeconds` after the load. */
  memory: { before: ProcMemory; peakRssMb: number; after: ProcMemory; settleSeconds: number };
  /** Live heap after a full GC when idle before the load, and after the load and `settleSeconds`. */
  heapBefore: HeapProbe | undefined;
  heap: HeapProbe | undefined;
  /** Valid updates' senders who got an answer from the bot (a sendMessage the stand-in accepted). */
  validAnswered: number;
  validSent: number;
  /** Log lines the process wrote from the load's start until `after`, by pino level name (`other`: not JSON). */
  logLines: Record<string, number>;
  logBytes: number;
  exitCode: number | null;
}

export interface CaseOptions {
  target: Target;
  driver: Driver;
  plan: readonly RequestKind[];
  concurrency: number;
  latencyMs: number;
  settleSeconds: number;
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  cleanup: () => Promise<void>;
}

/** src/main.ts in webhook mode, as `npm start` runs it (one node process, tsx as its loader). */
async function startHilfenetz(driver: Driver, apiRoot: string, port: number): Promise<Running> {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'hn-bench-hostile-'));
  const database = driver === 'postgres' ? await openBenchDatabase('postgres', DATABASE_NAME) : undefined;
  const storage: Record<string, string> = database ? { DATABASE_URL: withDatabase(BENCH_DATABASE_URL, DATABASE_NAME) } : { DATA_DIR: path.join(cwd, 'data') };
  const bot = spawnBot(
    { BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: apiRoot, BOT_MODE: 'webhook', WEBHOOK_URL, WEBHOOK_SECRET: SECRET, PORT: String(port), NODE_OPTIONS, ...storage },
    cwd,
  );
  return {
    ...bot,
    cleanup: async () => {
      await database?.close();
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

/** The bare grammY echo bot (echo-bot.ts) in its own process. */
function startBaseline(apiRoot: string, port: number): Running {
  // fork() reuses this process's execArgv, i.e. tsx's loader: the child runs TypeScript too.
  const child = fork(path.join(__dirname, 'echo-bot.ts'), [], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: apiRoot, WEBHOOK_SECRET: SECRET, PORT: String(port), NODE_OPTIONS },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited, cleanup: async () => undefined };
}

/**
 * Waits while the idle process's VmRSS still moves (PGlite gives back much of what its migrations took
 * only gradually): until it changed by less than 2 MiB over 3 s, at least 3 s and at most 40 s. Returns
 * the seconds waited.
 */
async function settle(pid: number): Promise<number> {
  const started = performance.now();
  const readings: number[] = [];
  for (;;) {
    readings.push(readProcMemory(pid)?.rssMb ?? Number.NaN);
    const window = readings.slice(-7); // 3 s at 500 ms
    if (window.length === 7 && Math.max(...window) - Math.min(...window) < 2) break;
    if (performance.now() - started > 40_000) break;
    await sleep(500);
  }
  return (performance.now() - started) / 1000;
}

async function waitUntil(what: string, running: Running, probe: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (running.child.exitCode !== null) throw new Error(`${what}: the process exited with ${running.child.exitCode}\n${running.output().slice(-3_000)}`);
    if (performance.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs / 1000} s\n${running.output().slice(-3_000)}`);
    await sleep(200);
  }
}

/** SIGUSR2 to the heap probe and its answer, if the probe announced itself. */
async function probeHeap(running: Running): Promise<HeapProbe | undefined> {
  if (!running.output().includes('{"heapProbe":"ready"}')) return undefined;
  const mark = running.output().length;
  running.child.kill('SIGUSR2');
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    const line = running
      .output()
      .slice(mark)
      .split('\n')
      .find((l) => l.startsWith('{"heapProbe":{'));
    if (line) return (JSON.parse(line) as { heapProbe: HeapProbe }).heapProbe;
  }
  return undefined;
}

function countLogLines(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('{"heapProbe"')) continue;
    let level = 'other';
    try {
      const entry = JSON.parse(line) as { level?: number };
      level = (entry.level !== undefined && LEVELS[entry.level]) || 'other';
    } catch {
      // a line that is not pino's (a stack trace, a console.error)
    }
    counts[level] = (counts[level] ?? 0) + 1;
  }
  return counts;
}

async function stop(running: Running): Promise<number | null> {
  if (running.child.exitCode !== null) return running.child.exitCode;
  running.child.kill('SIGTERM');
  const timer = setTimeout(() => running.child.kill('SIGKILL'), 15_000);
  const code = await running.exited;
  clearTimeout(timer);
  return code;
}

/**
 * One process under the load: a fresh Bot API stand-in (its own process), the process started and
 * ready (Hilfenetz: setWebhook seen; baseline: listening), idle until its VmRSS settles, a full GC and
 * settled again, then the planned requests with
 * bounded concurrency while its VmRSS is sampled every 100 ms, `settleSeconds` of quiet, a full GC and
 * the live heap through the probe, and a SIGTERM.
 */
export async function runCase(options: CaseOptions): Promise<CaseResult> {
  const { target, log } = options;
  const standIn = await StandIn.start(STAND_IN_RATE, options.latencyMs);
  const port = await freePort();
  const started = performance.now();
  const running = target === 'hilfenetz' ? await startHilfenetz(options.driver, standIn.url, port) : startBaseline(standIn.url, port);
  let sampler: ProcMemorySampler | undefined;
  try {
    if (target === 'hilfenetz') {
      await waitUntil('hilfenetz', running, async () => ((await standIn.report()).callsByMethod.setWebhook ?? 0) > 0, 120_000);
    } else {
      await waitUntil('baseline', running, () => running.output().includes('ready\n'), 60_000);
    }
    const startupSeconds = (performance.now() - started) / 1000;
    const pid = running.child.pid!;
    sampler = new ProcMemorySampler(pid, 100);
    // Idle, then a full GC (what startup and migrations left behind is not the load's doing), then settled again.
    let idleSeconds = await settle(pid);
    const heapBefore = await probeHeap(running);
    idleSeconds += await settle(pid);
    const before = readProcMemory(pid)!;
    log(`    ${target}: ready after ${startupSeconds.toFixed(1)} s, VmRSS ${before.rssMb.toFixed(0)} MiB after ${idleSeconds.toFixed(0)} s idle and a GC; ${options.plan.length.toLocaleString('en')} requests …`);

    const logMark = running.output().length;
    const loadStart = performance.now();
    const load = await fireLoad({ port, path: WEBHOOK_PATH, secret: SECRET, plan: options.plan, concurrency: options.concurrency });
    log(`    ${target}: load done in ${load.wallSeconds.toFixed(1)} s; waiting ${options.settleSeconds} s …`);
    await sleep(options.settleSeconds * 1_000);
    const after = readProcMemory(pid);
    if (!after) throw new Error(`${target}: the process is gone after the load (exit ${running.child.exitCode})\n${running.output().slice(-3_000)}`);
    sampler.sample();
    const peakRssMb = sampler.peakSince(loadStart);
    const logText = running.output().slice(logMark);
    const heap = await probeHeap(running);

    const validSent = options.plan.filter((k) => k === 'valid').length;
    const report = await standIn.report();
    const answered = new Set(
      report.sends.filter((s) => s.status === 200 && s.chatId >= FIRST_USER_ID && s.chatId < FIRST_USER_ID + validSent).map((s) => s.chatId),
    );
    const exitCode = await stop(running);
    return {
      target,
      driver: target === 'hilfenetz' ? options.driver : null,
      startupSeconds,
      load,
      memory: { before, peakRssMb, after, settleSeconds: options.settleSeconds },
      heapBefore,
      heap,
      validAnswered: answered.size,
      validSent,
      logLines: countLogLines(logText),
      logBytes: Buffer.byteLength(logText),
      exitCode,
    };
  } finally {
    sampler?.stop();
    if (running.child.exitCode === null) running.child.kill('SIGKILL');
    await running.cleanup();
    await standIn.close();
  }
}
