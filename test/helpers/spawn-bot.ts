import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The repository root. */
export const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Runs `src/main.ts` as ONE node process with tsx as its loader. (Running the `tsx` command would start
 * a wrapper process plus the real one; a SIGKILL would then hit only the wrapper and leave the bot
 * running, which is exactly what the crash test must not do.)
 */
export function spawnBot(env: Record<string, string>, cwd = ROOT): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const loader = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  const child = spawn(process.execPath, ['--import', loader, path.join(ROOT, 'src', 'main.ts')], {
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
