import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import type { TranslateStandInReply } from './translate-standin-process';

/** What the engine stand-in was asked in a run. */
export type TranslateStandInReport = Omit<Extract<TranslateStandInReply, { type: 'report' }>, 'type'>;

/**
 * A LibreTranslate API stand-in in its own process (`url` is the TRANSLATE_URL to configure), answering
 * every `POST /translate` after `delayMs`.
 */
export class TranslateStandIn {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(delayMs: number): Promise<TranslateStandIn> {
    // fork() reuses this process's execArgv, i.e. tsx's loader: the child runs TypeScript too.
    const child = fork(path.join(__dirname, 'translate-standin-process.ts'), [String(delayMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const url = await new Promise<string>((resolve, reject) => {
      child.once('message', (m: TranslateStandInReply) => (m.type === 'ready' ? resolve(m.url) : reject(new Error(`unexpected ${m.type}`))));
      child.once('exit', (code) => reject(new Error(`the engine stand-in exited with ${code}`)));
      child.once('error', reject);
    });
    return new TranslateStandIn(child, url);
  }

  /** How many translations were asked for, in all and per target language. */
  report(): Promise<TranslateStandInReport> {
    return new Promise((resolve) => {
      this.child.once('message', (m: TranslateStandInReply) => {
        if (m.type === 'report') resolve({ requests: m.requests, byTarget: m.byTarget });
      });
      this.child.send({ type: 'report' });
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'close' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
