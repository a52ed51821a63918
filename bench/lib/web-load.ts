import { Agent, request } from 'node:http';
import { percentile } from './stats';

/** One row of the benchmark: a path of the server, asked `requests` times. */
export interface WebRoute {
  name: string;
  path: string;
  requests: number;
  /** A baseline row: the server's own fixed cost, to read the machine's noise against. */
  baseline?: boolean;
}

/** What the clients measured for one route, over all rounds. */
export interface RouteResult {
  name: string;
  path: string;
  baseline: boolean;
  requests: number;
  /** Responses by status code; anything but 200 makes the run invalid. */
  statuses: Record<string, number>;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Requests per second while this route was being asked (its own batches' wall time). */
  perSecond: number;
  meanKb: number;
}

interface Sample {
  ms: number;
  status: number;
  bytes: number;
}

/**
 * One GET on a kept-alive connection, timed from the request to the last byte of the body. A kept-alive
 * connection that the server closed as idle just as it was reused (its keepAliveTimeout) is tried again
 * once on a new one, as Node's documentation advises.
 */
function getOnce(agent: Agent, port: number, path: string, cookie: string, retry = true): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent, headers: { cookie } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ ms: performance.now() - started, status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (retry && req.reusedSocket && err.code === 'ECONNRESET') getOnce(agent, port, path, cookie, false).then(resolve, reject);
      else reject(err);
    });
    req.end();
  });
}

/**
 * Asks every route in turn, `rounds` times (each round a share of its requests), so that a burst of other
 * work on the machine hits all rows alike rather than one. Each of the clients is a logged-in browser
 * (its own session cookie and connection) that sends its next request when the last one is answered.
 */
export async function loadRoutes(options: { port: number; cookies: readonly string[]; routes: readonly WebRoute[]; rounds: number; warmup: number }): Promise<RouteResult[]> {
  const { port, cookies, routes, rounds } = options;
  const agent = new Agent({ keepAlive: true, maxSockets: cookies.length });
  const samples = new Map<string, Sample[]>(routes.map((r) => [r.name, []]));
  const wall = new Map<string, number>(routes.map((r) => [r.name, 0]));
  const batch = async (route: WebRoute, count: number, into: Sample[] | undefined) => {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      cookies.map(async (cookie) => {
        while (next < count) {
          next++;
          const sample = await getOnce(agent, port, route.path, cookie);
          into?.push(sample);
        }
      }),
    );
    return performance.now() - started;
  };
  try {
    for (const route of routes) await batch(route, options.warmup, undefined);
    for (let round = 0; round < rounds; round++) {
      for (const route of routes) {
        // The requests of a route spread over the rounds, the remainder in the first ones.
        const count = Math.floor(route.requests / rounds) + (round < route.requests % rounds ? 1 : 0);
        wall.set(route.name, wall.get(route.name)! + (await batch(route, count, samples.get(route.name))));
      }
    }
  } finally {
    agent.destroy();
  }
  return routes.map((route) => {
    const list = samples.get(route.name)!;
    const ms = list.map((s) => s.ms);
    const statuses: Record<string, number> = {};
    for (const s of list) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
    return {
      name: route.name,
      path: route.path,
      baseline: route.baseline ?? false,
      requests: list.length,
      statuses,
      p50Ms: percentile(ms, 50),
      p95Ms: percentile(ms, 95),
      p99Ms: percentile(ms, 99),
      maxMs: Math.max(...ms),
      perSecond: list.length / (wall.get(route.name)! / 1000),
      meanKb: list.reduce((a, s) => a + s.bytes, 0) / Math.max(1, list.length) / 1024,
    };
  });
}
