import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '../../test/helpers/wait';
import { BENCH_WEBHOOK_PATH, BENCH_WEBHOOK_SECRET, type BotProcess, sleep, startEchoBot, startHilfenetz, stopProcess, waitUntil } from './bot-process';
import { StandIn } from './broadcast-standin-client';
import type { Driver } from './database';
import { FIRST_USER_ID, fireLoad, type LoadResult, type RequestKind } from './hostile-load';
import { type ProcMemory, ProcMemorySampler, readProcMemory } from './proc-memory';

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

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

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

/** SIGUSR2 to the heap probe and its answer, if the probe announced itself. */
async function probeHeap(running: BotProcess): Promise<HeapProbe | undefined> {
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
  const env = { NODE_OPTIONS };
  const running =
    target === 'hilfenetz'
      ? await startHilfenetz({ driver: options.driver, apiRoot: standIn.url, port, databaseName: DATABASE_NAME, env })
      : startEchoBot(standIn.url, port, env);
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
    const load = await fireLoad({ port, path: BENCH_WEBHOOK_PATH, secret: BENCH_WEBHOOK_SECRET, plan: options.plan, concurrency: options.concurrency });
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
    const exitCode = await stopProcess(running);
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
