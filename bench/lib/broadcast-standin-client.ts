import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import type { Update, UserFromGetMe } from 'grammy/types';
import type { StandInReply, StandInReport, StandInRequest } from './broadcast-standin-protocol';

/**
 * A fresh Bot API stand-in in its own process: `url` is its API root. It enforces `ratePerSecond` sending
 * calls per sliding second (429 with retry_after beyond it) and answers each call after `latencyMs`.
 */
export class StandIn {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly botInfo: UserFromGetMe,
  ) {}

  static async start(ratePerSecond: number, latencyMs: number): Promise<StandIn> {
    // fork() reuses this process's execArgv, i.e. tsx's loader: the child runs TypeScript too.
    const child = fork(path.join(__dirname, 'broadcast-standin.ts'), [String(ratePerSecond), String(latencyMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ready = await new Promise<Extract<StandInReply, { type: 'ready' }>>((resolve, reject) => {
      child.once('message', (m: StandInReply) => (m.type === 'ready' ? resolve(m) : reject(new Error(`unexpected ${m.type}`))));
      child.once('exit', (code) => reject(new Error(`the stand-in exited with ${code}`)));
      child.once('error', reject);
    });
    return new StandIn(child, ready.url, ready.botInfo);
  }

  /** Everything the stand-in recorded so far. */
  report(): Promise<StandInReport> {
    return new Promise((resolve) => {
      this.child.once('message', (m: StandInReply) => {
        if (m.type === 'report') {
          const { type: _type, ...report } = m;
          resolve(report);
        }
      });
      this.request({ type: 'report' });
    });
  }

  /** Queues updates for getUpdates (a polling bot fetches them). */
  push(updates: Update[]): void {
    this.request({ type: 'push', updates });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.request({ type: 'close' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  private request(request: StandInRequest): void {
    this.child.send(request);
  }
}
