import { ManualClock } from '../../src/clock';
import { LibreTranslateEngine, rejectTranslation, TranslationError } from '../../src/translate/engine';
import { FakeTranslate } from '../helpers/fake-translate';

const UK = 'Шукаю кімнату на два місяці.';
const stand = new FakeTranslate([[UK, { de: 'Ich suche ein Zimmer für zwei Monate.', ru: 'Ищу комнату на два месяца.' }]]);
let url: string;
beforeAll(async () => {
  url = await stand.listen();
});
afterAll(() => stand.close());
beforeEach(() => {
  stand.requests.length = 0;
  stand.delayMs = 0;
  stand.failStatus = null;
  stand.garbage = null;
  stand.dropConnections = false;
  stand.apiKey = null;
});

function engine(clock = new ManualClock(), extra: Partial<ConstructorParameters<typeof LibreTranslateEngine>[0]> = {}) {
  return new LibreTranslateEngine({ url, timeoutMs: 1_000, retries: 2, retryBaseMs: 10, failureThreshold: 3, cooldownMs: 30_000, clock, ...extra });
}

describe('LibreTranslate client', () => {
  it('translates with the LibreTranslate request shape, the API key included', async () => {
    stand.apiKey = 'k-123';
    const client = engine(new ManualClock(), { apiKey: 'k-123' });
    await expect(client.translate(UK, 'uk', 'de')).resolves.toBe('Ich suche ein Zimmer für zwei Monate.');
    expect(stand.requests).toEqual([{ q: UK, source: 'uk', target: 'de', format: 'text', api_key: 'k-123' }]);
    expect(client.state()).toMatchObject({ state: 'up', circuit: 'closed', consecutiveFailures: 0 });
  });

  it('retries a 503 and succeeds when the engine recovers', async () => {
    stand.failNext(2, 503);
    const client = engine();
    await expect(client.translate(UK, 'uk', 'ru')).resolves.toBe('Ищу комнату на два месяца.');
    expect(stand.requests).toHaveLength(3);
  });

  it('gives up after its retries and reports a timeout as unavailable', async () => {
    stand.delayMs = 400;
    const client = engine(new ManualClock(), { timeoutMs: 100, retries: 1 });
    const err = await client.translate(UK, 'uk', 'de').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TranslationError);
    expect((err as TranslationError).kind).toBe('unavailable');
    expect((err as TranslationError).message).toMatch(/no answer within 100 ms/);
    expect(client.state()).toMatchObject({ state: 'degraded', consecutiveFailures: 1 });
  });

  it.each(['empty', 'html', 'same', 'wrong-script', 'not-json'] as const)('rejects a garbage answer (%s)', async (garbage) => {
    stand.garbage = garbage;
    const err = await engine().translate(UK, 'uk', 'de').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TranslationError);
    expect((err as TranslationError).kind).toBe('rejected');
  });

  it('opens the circuit after repeated failures, fails fast while open, and closes after a good trial', async () => {
    const clock = new ManualClock();
    const client = engine(clock, { retries: 0 });
    stand.failStatus = 500;
    for (let i = 0; i < 3; i++) await expect(client.translate(UK, 'uk', 'de')).rejects.toThrow(TranslationError);
    expect(client.available()).toBe(false);
    expect(client.state()).toMatchObject({ state: 'down', circuit: 'open' });
    const before = stand.requests.length;
    const err = await client.translate(UK, 'uk', 'de').catch((e: unknown) => e);
    expect((err as TranslationError).kind).toBe('circuit');
    expect(stand.requests).toHaveLength(before);
    stand.failStatus = null;
    clock.advance(30_000);
    expect(client.state().circuit).toBe('half-open');
    await expect(client.translate(UK, 'uk', 'de')).resolves.toContain('Zimmer');
    expect(client.state()).toMatchObject({ state: 'up', circuit: 'closed' });
  });

  it('survives a dropped connection', async () => {
    stand.dropConnections = true;
    await expect(engine(new ManualClock(), { retries: 0 }).translate(UK, 'uk', 'de')).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('checks script and language of answers', () => {
    expect(rejectTranslation('Привіт', 'Hallo', 'de')).toBeNull();
    expect(rejectTranslation('Alles gut', 'Всё хорошо', 'uk')).toBe('Russian instead of Ukrainian');
    expect(rejectTranslation('Hallo', 'Привіт, як справи', 'ru')).toBe('Ukrainian instead of Russian');
    expect(rejectTranslation('Hallo, ich helfe', 'Hallo, ich helfe', 'uk')).toBe('the text came back unchanged');
    expect(rejectTranslation('Привіт', 'x'.repeat(200), 'de')).toBe('answer far longer than the text');
  });
});
