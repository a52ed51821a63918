import { Agent, request } from 'node:http';
import { messageUpdate } from '../../test/helpers/updates';
import { Prng } from './prng';
import { percentile } from './stats';

/** The kinds of request `npm run bench:hostile` sends; all but `valid` are hostile. */
export const REQUEST_KINDS = [
  'valid',
  'wrong-secret',
  'missing-secret',
  'not-json',
  'null',
  '42',
  'not-an-update',
  'deep-5k',
  'deep-50k',
  'body-2mib',
  'body-20mib',
] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** How many of each kind in 10,000 requests (scaled for other totals). */
export const MIX_PER_10K: Record<RequestKind, number> = {
  valid: 1_000,
  'wrong-secret': 1_500,
  'missing-secret': 500,
  'not-json': 2_000,
  null: 500,
  '42': 500,
  'not-an-update': 500,
  'deep-5k': 2_000,
  'deep-50k': 1_000,
  'body-2mib': 400,
  'body-20mib': 100,
};

/** What each kind is, for the report. */
export const KIND_LABELS: Record<RequestKind, string> = {
  valid: '/start from a new user (uk/de/ru), right secret',
  'wrong-secret': 'valid update, wrong secret',
  'missing-secret': 'valid update, no secret header',
  'not-json': 'not JSON (text, truncated JSON, empty)',
  null: '`null`',
  '42': '`42`',
  'not-an-update': '`[]`, `{}`, `{"update_id":"x"}`',
  'deep-5k': '5,000-deep `[[[…` / `{"a":{"a":…`',
  'deep-50k': '50,000-deep `[[[…` / `{"a":{"a":…`',
  'body-2mib': '2 MiB update (`{"update_id":…,"padding":"xxx…"}`)',
  'body-20mib': '20 MiB update (same shape)',
};

/** The first Telegram user id of the valid updates' senders (one sender per valid update). */
export const FIRST_USER_ID = 20_000_001;
const LANGUAGES = ['uk', 'de', 'ru'] as const;
const MiB = 1024 * 1024;

/** The kinds in a shuffled order that is the same in every run (and for both processes). */
export function planRequests(total: number, seed = 20_251_121): RequestKind[] {
  const plan: RequestKind[] = [];
  for (const kind of REQUEST_KINDS) {
    const n = Math.round((MIX_PER_10K[kind] * total) / 10_000);
    for (let i = 0; i < n; i++) plan.push(kind);
  }
  const prng = new Prng(seed);
  for (let i = plan.length - 1; i > 0; i--) {
    const j = prng.below(i + 1);
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  return plan;
}

function nested(depth: number, style: 'array' | 'object'): Buffer {
  return Buffer.from(style === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

function padded(bytes: number): Buffer {
  const head = '{"update_id":1,"padding":"';
  const tail = '"}';
  return Buffer.from(`${head}${'x'.repeat(bytes - head.length - tail.length)}${tail}`);
}

/** Bodies built once and reused (the big ones are what the process under test must not hold on to). */
class Bodies {
  private readonly fixed = {
    'deep-5k': [nested(5_000, 'array'), nested(5_000, 'object')],
    'deep-50k': [nested(50_000, 'array'), nested(50_000, 'object')],
    'body-2mib': [padded(2 * MiB)],
    'body-20mib': [padded(20 * MiB)],
    'not-json': [Buffer.from('this is not json'), Buffer.from('{"update_id":1,"message":{'), Buffer.alloc(0)],
    null: [Buffer.from('null')],
    '42': [Buffer.from('42')],
    'not-an-update': [Buffer.from('[]'), Buffer.from('{}'), Buffer.from('{"update_id":"x"}')],
  };
  private validCount = 0;
  private refusedCount = 0;
  private readonly counters = new Map<RequestKind, number>();

  /** The body of the next request of this kind. */
  next(kind: RequestKind): Buffer {
    if (kind === 'valid') return this.start(FIRST_USER_ID + this.validCount++);
    // Updates with a wrong or no secret come from other users, who never get one through.
    if (kind === 'wrong-secret' || kind === 'missing-secret') return this.start(FIRST_USER_ID + 900_000 + this.refusedCount++);
    const list = this.fixed[kind];
    const n = this.counters.get(kind) ?? 0;
    this.counters.set(kind, n + 1);
    return list[n % list.length]!;
  }

  /** /start from a user who has not written before, in uk, de or ru. */
  private start(id: number): Buffer {
    const persona = { id, first_name: `Nutzer ${id % 100_000}`, language_code: LANGUAGES[id % LANGUAGES.length] };
    return Buffer.from(JSON.stringify(messageUpdate(persona, 1, { text: '/start' })));
  }
}

/** What the load did: HTTP status (or client error) per kind, and timings. */
export interface LoadResult {
  requests: number;
  wallSeconds: number;
  /** kind → status ("200", "413", "error:ECONNRESET" …) → count. */
  byKind: Record<string, Record<string, number>>;
  /** status → count over all kinds. */
  byStatus: Record<string, number>;
  /** Latency per kind, ms. */
  latencyMs: Record<string, { p50: number; p99: number; max: number }>;
}

export interface LoadOptions {
  port: number;
  path: string;
  secret: string;
  plan: readonly RequestKind[];
  concurrency: number;
  /** Per request; a request still unanswered then counts as "error:timeout". */
  timeoutMs?: number;
}

/**
 * Sends the planned requests to 127.0.0.1:port with at most `concurrency` in flight, on kept-alive
 * connections as Telegram uses them. A request counts with the status of the answer if one arrived,
 * even if the connection was closed while the body was still being sent.
 */
export async function fireLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const bodies = new Bodies();
  const byKind: Record<string, Record<string, number>> = {};
  const byStatus: Record<string, number> = {};
  const times = new Map<RequestKind, number[]>();
  let nextIndex = 0;
  const started = performance.now();

  const one = (kind: RequestKind): Promise<string> =>
    new Promise((resolve) => {
      const body = bodies.next(kind);
      const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': body.length };
      if (kind === 'wrong-secret') headers['x-telegram-bot-api-secret-token'] = `${options.secret.slice(0, -1)}_`;
      else if (kind !== 'missing-secret') headers['x-telegram-bot-api-secret-token'] = options.secret;
      let settled = false;
      const settle = (status: string) => {
        if (settled) return;
        settled = true;
        resolve(status);
      };
      const req = request({ host: '127.0.0.1', port: options.port, path: options.path, method: 'POST', headers, agent }, (res) => {
        res.resume();
        res.once('end', () => settle(String(res.statusCode)));
        res.once('close', () => settle(String(res.statusCode)));
      });
      req.setTimeout(options.timeoutMs ?? 60_000, () => {
        settle('error:timeout');
        req.destroy();
      });
      req.on('error', (err: NodeJS.ErrnoException) => settle(`error:${err.code ?? err.message}`));
      req.end(body);
    });

  const worker = async () => {
    for (let i = nextIndex++; i < options.plan.length; i = nextIndex++) {
      const kind = options.plan[i]!;
      const t0 = performance.now();
      const status = await one(kind);
      const list = times.get(kind) ?? [];
      list.push(performance.now() - t0);
      times.set(kind, list);
      byKind[kind] ??= {};
      byKind[kind][status] = (byKind[kind][status] ?? 0) + 1;
      byStatus[status] = (byStatus[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  agent.destroy();
  const latencyMs = Object.fromEntries(
    [...times].map(([kind, list]) => [kind, { p50: percentile(list, 50), p99: percentile(list, 99), max: Math.max(...list) }]),
  );
  return { requests: options.plan.length, wallSeconds: (performance.now() - started) / 1000, byKind, byStatus, latencyMs };
}
