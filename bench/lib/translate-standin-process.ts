/**
 * The translation engine stand-in of `npm run bench:translate`, run as its own process (forked by
 * translate-standin.ts) like a real LibreTranslate next to the bot: the test suite's FakeTranslate over
 * HTTP, answering every request after <delayMs>.
 *
 * Usage (by the client only): fork this file with the argument <delayMs>.
 */
import { FakeTranslate } from '../../test/helpers/fake-translate';

export type TranslateStandInReply = { type: 'ready'; url: string } | { type: 'report'; requests: number; byTarget: Record<string, number> };

async function main(): Promise<void> {
  const delayMs = Number(process.argv[2]);
  if (!process.send) throw new Error('translate-standin-process.ts runs only as a forked child');
  if (!(delayMs >= 0)) throw new Error(`bad delay: ${process.argv[2]}`);
  const engine = new FakeTranslate();
  engine.delayMs = delayMs;
  const url = await engine.listen();
  const send = (reply: TranslateStandInReply) => process.send!(reply);
  process.on('message', (request: { type: 'report' | 'close' }) => {
    if (request.type === 'report') {
      const byTarget: Record<string, number> = {};
      for (const r of engine.requests) byTarget[r.target] = (byTarget[r.target] ?? 0) + 1;
      send({ type: 'report', requests: engine.requests.length, byTarget });
    } else {
      void engine.close().then(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', url });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
