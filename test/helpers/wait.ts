import { createServer } from 'node:net';
import { inspect } from 'node:util';

/** A TCP port that was free a moment ago, for a server a test starts (a bot process, a PostgreSQL). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` every `intervalMs` until it returns something truthy, and returns that. A probe that throws
 * counts as "not yet" (a server still starting, a database restarting); on timeout the error names what was
 * awaited, the probe's last error and, when given, the output of the process under test.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number,
  output?: () => string,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(intervalMs);
  }
  const because = lastError === undefined ? '' : ` (last probe error: ${lastError instanceof Error ? lastError.message : inspect(lastError)})`;
  throw new Error(`timed out waiting for ${what}${because}\n${output?.() ?? ''}`);
}
