import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../src/clock';
import { createSilentLogger } from '../../src/logger';
import { type RunningServer, startServer } from '../../src/server';
import { LibreTranslateEngine } from '../../src/translate/engine';
import { FakeTranslate } from '../helpers/fake-translate';

const stand = new FakeTranslate([['Привіт, як справи?', { de: 'Hallo, wie geht es?' }]]);
let url: string;
let server: RunningServer | undefined;
beforeAll(async () => {
  url = await stand.listen();
});
afterAll(() => stand.close());
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function healthz(translation?: () => unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  server = await startServer({
    port: 0,
    logger: createSilentLogger(),
    mode: 'polling',
    pingDatabase: () => Promise.resolve(),
    telegram: () => ({ state: 'up', lastOkAt: new Date().toISOString(), silentForSeconds: 0 }),
    ...(translation ? { translation } : {}),
  });
  const port = (server.server.address() as AddressInfo).port;
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('/healthz and the translation engine', () => {
  it('says translation is off when no engine is configured', async () => {
    expect((await healthz()).body.translation).toEqual({ state: 'off' });
  });

  it('reports the engine up, and down with its last error, without failing the health check', async () => {
    const engine = new LibreTranslateEngine({ url, timeoutMs: 1_000, retries: 0, failureThreshold: 2, clock: new ManualClock() });
    expect((await healthz(() => engine.state())).body.translation).toMatchObject({ state: 'unknown', circuit: 'closed' });
    await server!.close();
    await engine.translate('Привіт, як справи?', 'uk', 'de');
    const up = await healthz(() => engine.state());
    expect(up.status).toBe(200);
    expect(up.body.translation).toMatchObject({ state: 'up', engine: expect.stringMatching(/^libretranslate@127\.0\.0\.1:\d+$/), lastError: null });
    await server!.close();

    stand.failStatus = 503;
    for (let i = 0; i < 2; i++) await engine.translate('Привіт, як справи?', 'uk', 'de').catch(() => undefined);
    const down = await healthz(() => engine.state());
    expect(down.status).toBe(200);
    expect(down.body.status).toBe('ok');
    expect(down.body.translation).toMatchObject({ state: 'down', circuit: 'open', consecutiveFailures: 2, lastError: 'engine answered 503' });
    // Neither the text nor its translation appears in what the operator sees.
    expect(JSON.stringify(down.body)).not.toMatch(/Привіт|Hallo/);
  });
});
