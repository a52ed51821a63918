import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/** The repository root. */
export const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Runs the bot as `npm start` does (`src/launch.cjs`: compiled once per change of the sources, then
 * `main.js`), as ONE node process. (Running `npm start` itself would start npm's wrapper processes plus
 * the real one; a SIGKILL would then hit only the wrapper and leave the bot running, which is exactly
 * what the crash test must not do.)
 */
export function spawnBot(env: Record<string, string>, cwd = ROOT): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [path.join(ROOT, 'src', 'launch.cjs')], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}
