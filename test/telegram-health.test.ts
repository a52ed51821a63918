import { GrammyError, HttpError } from 'grammy';
import pino from 'pino';
import { Writable } from 'node:stream';
import { createInteractiveRetry } from '../src/bot/api';
import { ApologyLimiter } from '../src/bot/errors';
import { confirmIdentity, identityRetryDelayMs, pollingStoppedMessage, TelegramHealth } from '../src/telegram-health';

/** A logger whose lines the test can read. */
function recordingLogger() {
  const lines: { msg: string; [key: string]: unknown }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const flush = () => new Promise((r) => setImmediate(r));
type Prev = Parameters<TelegramHealth['transformer']>[0];
const answer = (result: unknown) => (async () => result) as unknown as Prev;
const networkDown = (async () => {
  throw new HttpError('Network request for \'getUpdates\' failed!', new Error('ECONNREFUSED'));
}) as unknown as Prev;

describe('TelegramHealth', () => {
  it('logs an outage once, reminds every minute, logs the recovery with its length, and turns degraded after the silence', async () => {
    let now = 1_000_000;
    const { logger, lines } = recordingLogger();
    const health = new TelegramHealth({ logger, degradedAfterMs: 90_000, now: () => now });
    expect(health.state().state).toBe('connecting');

    await health.transformer(answer({ ok: true, result: true }), 'getMe', {});
    expect(health.state()).toMatchObject({ state: 'up', silentForSeconds: 0 });
    // A refusal from Telegram is still an answer.
    await health.transformer(answer({ ok: false, error_code: 400, description: 'Bad Request' }), 'sendMessage', {} as never);
    expect(health.isDown).toBe(false);

    for (let i = 0; i < 30; i++) {
      now += 5_000;
      await expect(health.transformer(networkDown, 'getUpdates', {})).rejects.toThrow(HttpError);
    }
    await health.transformer(answer({ ok: false, error_code: 502, description: 'Bad Gateway' }), 'getUpdates', {});
    expect(health.isDown).toBe(true);
    expect(health.state()).toMatchObject({ state: 'degraded', silentForSeconds: 150 });
    await flush();
    expect(lines.filter((l) => l.msg === 'Telegram cannot be reached; retrying')).toHaveLength(1);
    // 150 s of outage: reminded twice (after 60 and 120 s), not 30 times.
    expect(lines.filter((l) => l.msg === 'Telegram still cannot be reached; retrying')).toHaveLength(2);

    now += 1_000;
    await health.transformer(answer({ ok: true, result: [] }), 'getUpdates', {});
    await flush();
    expect(health.state().state).toBe('up');
    expect(lines.at(-1)).toMatchObject({ msg: 'Telegram reachable again', downForSeconds: 146 });
  });

  it('ignores calls cancelled on purpose (shutdown)', async () => {
    const { logger } = recordingLogger();
    const health = new TelegramHealth({ logger, degradedAfterMs: 1_000 });
    const controller = new AbortController();
    controller.abort();
    await expect(health.transformer(networkDown, 'getUpdates', {}, controller.signal as never)).rejects.toThrow();
    expect(health.isDown).toBe(false);
  });
});

describe('confirmIdentity', () => {
  it('retries with a bounded, logged backoff and stops at once on a rejected token', async () => {
    expect([1, 2, 3, 4, 5, 6, 20].map(identityRetryDelayMs)).toEqual([1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]);
    const { logger, lines } = recordingLogger();
    const slept: number[] = [];
    let calls = 0;
    const api = {
      getMe: async () => {
        calls++;
        if (calls === 1) throw new HttpError('Network request for \'getMe\' failed!', new Error('timeout'));
        if (calls === 2) throw new GrammyError('Call to \'getMe\' failed!', { ok: false, error_code: 502, description: 'Bad Gateway' }, 'getMe', {});
        return { id: 1, is_bot: true, first_name: 'H', username: 'h_bot' };
      },
    };
    const result = await confirmIdentity(api as never, logger, () => false, async (ms) => void slept.push(ms));
    expect(result).toMatchObject({ ok: true, me: { username: 'h_bot' } });
    expect(slept).toEqual([1_000, 2_000]);
    await flush();
    expect(lines.map((l) => l.reason)).toEqual(['Network request for \'getMe\' failed!', '502 Bad Gateway']);

    const rejected = { getMe: async () => Promise.reject(new GrammyError('x', { ok: false, error_code: 401, description: 'Unauthorized' }, 'getMe', {})) };
    expect(await confirmIdentity(rejected as never, logger, () => false, async () => undefined)).toEqual({ ok: false, rejected: true });
  });

  it('says what to do when polling is refused', () => {
    const conflict = new GrammyError('x', { ok: false, error_code: 409, description: 'Conflict' }, 'getUpdates', {});
    expect(pollingStoppedMessage(conflict)).toContain('another process is polling with this token');
  });
});

describe('createInteractiveRetry', () => {
  it('retries a network error a few times, then gives up; never retries getUpdates', async () => {
    const retry = createInteractiveRetry([1, 1, 1]);
    let calls = 0;
    const failing = (async () => {
      calls++;
      throw new HttpError('down', new Error('ECONNREFUSED'));
    }) as unknown as Prev;
    await expect(retry(failing, 'sendMessage', {} as never)).rejects.toThrow(HttpError);
    expect(calls).toBe(4);
    calls = 0;
    await expect(retry(failing, 'getUpdates', {})).rejects.toThrow(HttpError);
    expect(calls).toBe(1);
    let flaky = 0;
    const recovers = (async () => {
      if (++flaky < 3) throw new HttpError('down', new Error('ECONNRESET'));
      return { ok: true, result: true };
    }) as unknown as Prev;
    await expect(retry(recovers, 'sendMessage', {} as never)).resolves.toEqual({ ok: true, result: true });
  });
});

describe('ApologyLimiter', () => {
  it('apologises once per person per minute and stays bounded', () => {
    let now = 0;
    const limiter = new ApologyLimiter(60_000, 1_000, () => now);
    expect(limiter.shouldApologise(1)).toBe(true);
    expect(limiter.shouldApologise(1)).toBe(false);
    expect(limiter.shouldApologise(2)).toBe(true);
    now += 59_999;
    expect(limiter.shouldApologise(1)).toBe(false);
    now += 1;
    expect(limiter.shouldApologise(1)).toBe(true);
    for (let id = 10; id < 5_000; id++) limiter.shouldApologise(id);
    expect(limiter.size).toBeLessThanOrEqual(1_000);
    now += 60_000;
    limiter.shouldApologise(99_999);
    expect(limiter.size).toBe(1);
  });
});
