import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withDatabase } from '../../test/helpers/db';
import { spawnBot } from '../../test/helpers/spawn-bot';
import { BENCH_DATABASE_URL, type Driver, openBenchDatabase } from './database';

/** A token in BotFather's shape; the stand-in accepts any. */
export const BENCH_TOKEN = '123456789:BENCH-token-for-hilfenetz-only_xx';
export const BENCH_WEBHOOK_SECRET = 'bench_webhook_secret_0123456789';
export const BENCH_WEBHOOK_URL = 'https://example.org/telegram';
export const BENCH_WEBHOOK_PATH = new URL(BENCH_WEBHOOK_URL).pathname;

/** A bot under measurement, in its own process. */
export interface BotProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  cleanup: () => Promise<void>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface HilfenetzProcessOptions {
  driver: Driver;
  apiRoot: string;
  /** Webhook mode on this port; polling (the runner) when undefined. */
  port?: number;
  /** The PostgreSQL database created for the run (dropped again by cleanup). */
  databaseName: string;
  /** Join the database another process of the run created instead of creating it afresh (a second webhook process). */
  joinDatabase?: boolean;
  env?: Record<string, string>;
}

/** src/main.ts as `npm start` runs it (one node process, tsx as its loader), webhook or polling. */
export async function startHilfenetz(options: HilfenetzProcessOptions): Promise<BotProcess> {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'hn-bench-'));
  const database = options.driver === 'postgres' && !options.joinDatabase ? await openBenchDatabase('postgres', options.databaseName) : undefined;
  const storage: Record<string, string> =
    options.driver === 'postgres' ? { DATABASE_URL: withDatabase(BENCH_DATABASE_URL, options.databaseName) } : { DATA_DIR: path.join(cwd, 'data') };
  const mode: Record<string, string> =
    options.port === undefined
      ? { BOT_MODE: 'polling' }
      : { BOT_MODE: 'webhook', WEBHOOK_URL: BENCH_WEBHOOK_URL, WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET, PORT: String(options.port) };
  const bot = spawnBot({ BOT_TOKEN: BENCH_TOKEN, TELEGRAM_API_ROOT: options.apiRoot, ...mode, ...storage, ...options.env }, cwd);
  return {
    ...bot,
    cleanup: async () => {
      await database?.close();
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

/** The bare grammY echo bot (echo-bot.ts) in its own process: webhook on `port`, or polling. */
export function startEchoBot(apiRoot: string, port: number | undefined, env: Record<string, string> = {}): BotProcess {
  // fork() reuses this process's execArgv, i.e. tsx's loader: the child runs TypeScript too.
  const child = fork(path.join(__dirname, 'echo-bot.ts'), [], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      BOT_TOKEN: BENCH_TOKEN,
      TELEGRAM_API_ROOT: apiRoot,
      WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET,
      ...(port === undefined ? { POLLING: '1' } : { PORT: String(port) }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited, cleanup: async () => undefined };
}

/** Polls `probe` every 200 ms until it holds; fails early when the process exits. */
export async function waitUntil(what: string, running: BotProcess, probe: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (running.child.exitCode !== null) throw new Error(`${what}: the process exited with ${running.child.exitCode}\n${running.output().slice(-3_000)}`);
    if (performance.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs / 1000} s\n${running.output().slice(-3_000)}`);
    await sleep(200);
  }
}

/** SIGTERM, SIGKILL after 15 s; the exit code. */
export async function stopProcess(running: BotProcess): Promise<number | null> {
  if (running.child.exitCode !== null) return running.child.exitCode;
  running.child.kill('SIGTERM');
  const timer = setTimeout(() => running.child.kill('SIGKILL'), 15_000);
  const code = await running.exited;
  clearTimeout(timer);
  return code;
}
