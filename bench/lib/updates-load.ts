import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { Message, Update } from 'grammy/types';
import { onboardingData } from '../../src/bot/features/start';
import { callbackUpdate, messageUpdate } from '../../test/helpers/updates';
import { percentile } from './stats';

/** The first Telegram user id of the load's senders. */
export const FIRST_UPDATE_USER = 30_000_001;
const LANGUAGES = ['uk', 'de', 'ru'] as const;

/**
 * What 1,000 people do when they open the bot: /start, a button (the first onboarding choice, on the
 * bot's first message in the chat), /help, and free text. Round by round, so that one person's updates
 * are a thousand apart and never overlap (as a person's own do not); uk, de and ru in turn. `first`: the
 * first person's Telegram id (each round of the benchmark has people of its own).
 */
export function planUpdates(users: number, first = FIRST_UPDATE_USER): Update[] {
  const plan: Update[] = [];
  const persona = (i: number) => ({ id: first + i, first_name: `Person ${i}`, language_code: LANGUAGES[i % LANGUAGES.length] });
  const round = (make: (i: number) => Update) => {
    for (let i = 0; i < users; i++) plan.push(make(i));
  };
  round((i) => messageUpdate(persona(i), 1, { text: '/start' }));
  round((i) => {
    const p = persona(i);
    // The bot's first message in a fresh chat has message_id 1 at the stand-in.
    const shown = { message_id: 1, date: Math.floor(Date.now() / 1000), chat: { id: p.id, type: 'private', first_name: p.first_name } } as Message;
    return callbackUpdate(p, shown, onboardingData.encode({ action: 'role', value: 'seeker' })).update;
  });
  round((i) => messageUpdate(persona(i), 3, { text: '/help' }));
  round((i) => messageUpdate(persona(i), 4, { text: 'Guten Tag, ich habe eine Frage.' }));
  return plan;
}

export interface WebhookLoadResult {
  updates: number;
  wallSeconds: number;
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  /** Bot API calls the bot made as its webhook reply (the response body), by method: Telegram runs them. */
  webhookReplies: Record<string, number>;
}

/**
 * Posts the planned updates to the webhook with at most `concurrency` in flight, on kept-alive connections;
 * with several ports (webhook processes), request by request in turn, as a load balancer would.
 */
export async function postUpdates(options: { ports: readonly number[]; path: string; secret: string; plan: readonly Update[]; concurrency: number }): Promise<WebhookLoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const statuses: Record<string, number> = {};
  const times: number[] = [];
  const webhookReplies: Record<string, number> = {};
  const countReply = (body: string) => {
    if (!body) return;
    try {
      const method: unknown = (JSON.parse(body) as { method?: unknown }).method;
      if (typeof method === 'string') webhookReplies[method] = (webhookReplies[method] ?? 0) + 1;
    } catch {
      // an error body, not a reply
    }
  };
  let next = 0;
  const one = (update: Update, port: number) =>
    new Promise<string>((resolve) => {
      const body = Buffer.from(JSON.stringify(update));
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: options.path,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': body.length, 'x-telegram-bot-api-secret-token': options.secret },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.once('end', () => {
            countReply(Buffer.concat(chunks).toString('utf8'));
            resolve(String(res.statusCode));
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => resolve(`error:${err.code ?? err.message}`));
      req.end(body);
    });
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < options.plan.length; i = next++) {
      const t0 = performance.now();
      const status = await one(options.plan[i]!, options.ports[i % options.ports.length]!);
      times.push(performance.now() - t0);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  agent.destroy();
  return { updates: options.plan.length, wallSeconds: (performance.now() - started) / 1000, statuses, p50Ms: percentile(times, 50), p99Ms: percentile(times, 99), webhookReplies };
}

/** CPU time (user + system) of one process, in ms, from /proc; undefined once it has exited. */
export function processCpuMs(pid: number): number | undefined {
  try {
    return cpuFromStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** CPU time of every process named `postgres` on the machine (the server and its backends), in ms. */
export function postgresCpuMs(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.includes('(postgres)')) total += cpuFromStat(stat);
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** Linux reports utime and stime in clock ticks of 1/100 s on every common configuration. */
const TICK_MS = 10;

function cpuFromStat(stat: string): number {
  // The command name may contain spaces; the fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, i.e. 11 and 12 after the name and the state.
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}
