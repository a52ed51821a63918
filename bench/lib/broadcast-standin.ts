/**
 * The Bot API stand-in of `npm run bench:broadcast`, run as its own process (forked by
 * broadcast-standin-client.ts) so that its work does not share an event loop with the sender being
 * measured, as with the real Bot API. It is the test suite's FakeTelegram served over HTTP, with its
 * global limit (429 + retry_after over a sliding one-second window) and latency, plus a record of every
 * sendMessage: when it arrived, when it was answered and how.
 *
 * Usage (by the client only): fork this file with the arguments <ratePerSecond> <latencyMs>.
 */
import { FakeTelegram } from '../../test/helpers/fake-telegram';
import type { ReceivedSend, StandInReply, StandInRequest } from './broadcast-standin-protocol';

/** Wall clock with sub-millisecond resolution (the same clock in every process of the machine). */
const preciseNow = () => performance.timeOrigin + performance.now();

class RecordingTelegram extends FakeTelegram {
  readonly sends: ReceivedSend[] = [];

  /** editMessageText / editMessageCaption calls, recorded like sends (bench:translate's late translations). */
  readonly edits: ReceivedSend[] = [];

  lastCallAt = 0;

  override async call(method: string, payload: Record<string, unknown>): ReturnType<FakeTelegram['call']> {
    const receivedAt = preciseNow();
    if (method !== 'getUpdates') this.lastCallAt = receivedAt;
    // FakeTelegram logs the call (calls[].at, Date.now()) synchronously, then waits latencyMs and applies
    // its rate limit when it answers.
    const answer = super.call(method, payload);
    const loggedAt = this.calls[this.calls.length - 1]!.at;
    const result = await answer;
    const record = method === 'sendMessage' ? this.sends : method === 'editMessageText' || method === 'editMessageCaption' ? this.edits : null;
    if (record) {
      record.push({
        chatId: Number(payload.chat_id),
        receivedAt,
        loggedAt,
        answeredAt: preciseNow(),
        status: result.ok ? 200 : result.error_code,
      });
    }
    return result;
  }
}

async function main(): Promise<void> {
  const [rateArg, latencyArg] = process.argv.slice(2);
  const ratePerSecond = Number(rateArg);
  const latencyMs = Number(latencyArg);
  if (!process.send) throw new Error('broadcast-standin.ts runs only as a forked child');
  if (!(ratePerSecond > 0) || !(latencyMs >= 0)) throw new Error(`bad arguments: ${process.argv.slice(2).join(' ')}`);
  const telegram = new RecordingTelegram({ ratePerSecond, latencyMs });
  const server = await telegram.listen();
  const send = (reply: StandInReply) => process.send!(reply);
  process.on('message', (request: StandInRequest) => {
    if (request.type === 'report') {
      send({
        type: 'report',
        sends: telegram.sends,
        edits: telegram.edits,
        rateLimited: telegram.rateLimited,
        callsByMethod: Object.fromEntries(
          [...new Set(telegram.calls.map((c) => c.method))].map((m) => [m, telegram.calls.filter((c) => c.method === m).length]),
        ),
        rssMb: process.memoryUsage().rss / 1024 / 1024,
        lastCallAt: telegram.lastCallAt,
        pendingUpdates: telegram.pendingUpdates,
      });
    } else if (request.type === 'push') {
      for (const update of request.updates) telegram.pushUpdate(update);
    } else if (request.type === 'close') {
      void server.close().then(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', url: server.url, botInfo: telegram.botInfo });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
