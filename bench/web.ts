/**
 * npm run bench:web — how fast the web desk answers on a city's worth of data. Seeds a fresh database
 * (100,000 people, 50,000 posts over twelve weeks with their waves, notifications and offers of help),
 * starts the production HTTP server (`startServer`) with the web desk (`createWebHandler`) as
 * src/main.ts does, logs coordinators in through their login links over HTTP, and asks the overview (and,
 * as secondary rows, the needs list, a filtered needs list, the helpers page and the exports) with a few
 * concurrent browsers. The baselines in the same run are /healthz (one `select 1`) and the stylesheet
 * (through the web app with its session lookup, no page query), so the machine's noise shows. Writes the
 * table into BENCHMARKS.md; the target is the overview's p95 ≤ 200 ms on PostgreSQL.
 *
 *   --users=100000            people (in blocks of 1,000: 55 % helpers, 42 % seekers, staff, coordinators)
 *   --posts=50000             posts (70 % needs)
 *   --requests=300            overview and baseline requests
 *   --secondary-requests=100  needs lists and helpers page
 *   --export-requests=20      each export
 *   --clients=4               concurrent browsers (each its own session and connection)
 *   --rounds=5                the routes are asked in turn, this many times
 *   --drivers=postgres        postgres and/or pglite
 *   --explain                 print the overview's plans (EXPLAIN ANALYZE through auto_explain; PostgreSQL)
 *   --keep                    leave the seeded PostgreSQL database on the server (hilfenetz_bench_web)
 *   --reuse                   measure on the database a --keep run left (newer migrations applied), without seeding
 *   --dry-run                 print only, leave BENCHMARKS.md alone
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { and, eq, isNull } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { Client } from 'pg';
import { CityDirectory, loadCity } from '../src/city';
import { systemClock } from '../src/clock';
import { parseConfig } from '../src/config';
import { type Database, type DatabaseHandle, schema } from '../src/db';
import { users } from '../src/db/schema';
import { collectOverview } from '../src/domain/overview';
import { actorOf } from '../src/domain/permissions';
import { createWebLogin } from '../src/domain/web-auth';
import { createTranslator } from '../src/i18n';
import { createLogger } from '../src/logger';
import { startServer } from '../src/server';
import { PROJECT_ROOT } from '../src/util/project-root';
import { createWebHandler } from '../src/web';
import { catchUpHelperStats } from '../src/domain/waves';
import { freePort } from '../test/helpers/wait';
import { WebClient } from '../test/helpers/web';
import { positiveInts } from './lib/cli';
import { BENCH_DATABASE_URL, type Driver, openBenchDatabase, reopenBenchDatabase, serverVersion, withDatabase } from './lib/database';
import { table, writeSection } from './lib/report-file';
import { loadRoutes, type RouteResult, type WebRoute } from './lib/web-load';
import { seededCounts, seedProblems, seedWebDesk } from './lib/web-seed';

const DATABASE_NAME = 'hilfenetz_bench_web';
const HEADING = '## Web desk: bench:web';
const TARGET_P95_MS = 200;
const WARMUP = 3;

interface Options {
  users: number;
  posts: number;
  requests: number;
  secondaryRequests: number;
  exportRequests: number;
  clients: number;
  rounds: number;
  drivers: Driver[];
  explain: boolean;
  keep: boolean;
  reuse: boolean;
  dryRun: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string', default: '100000' },
      posts: { type: 'string', default: '50000' },
      requests: { type: 'string', default: '300' },
      'secondary-requests': { type: 'string', default: '100' },
      'export-requests': { type: 'string', default: '20' },
      clients: { type: 'string', default: '4' },
      rounds: { type: 'string', default: '5' },
      drivers: { type: 'string', default: 'postgres' },
      explain: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      reuse: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const one = (flag: keyof typeof values) => positiveInts(String(values[flag]), flag)[0]!;
  return {
    users: one('users'),
    posts: one('posts'),
    requests: one('requests'),
    secondaryRequests: one('secondary-requests'),
    exportRequests: one('export-requests'),
    clients: one('clients'),
    rounds: one('rounds'),
    drivers: values.drivers.split(',').map((d) => {
      if (d !== 'postgres' && d !== 'pglite') throw new Error(`--drivers expects postgres and/or pglite, got ${d}`);
      return d;
    }),
    explain: values.explain,
    keep: values.keep,
    reuse: values.reuse,
    dryRun: values['dry-run'],
  };
}

/** The rows of a run: baselines first, then the overview, the other pages and the exports. */
function routes(o: Options, city: CityDirectory): WebRoute[] {
  const district = city.districts[Math.floor(city.districts.length / 2)]!.key;
  const category = city.categories[0]!.key;
  return [
    { name: 'baseline: /healthz (select 1)', path: '/healthz', requests: o.requests, baseline: true },
    { name: 'baseline: stylesheet (web app, session lookup)', path: '/web/static/style.css', requests: o.requests, baseline: true },
    { name: 'overview', path: '/web/overview', requests: o.requests },
    { name: 'needs list', path: '/web/needs', requests: o.secondaryRequests },
    { name: 'needs list, filtered', path: `/web/needs?district=${district}&category=${category}&status=open&age=24`, requests: o.secondaryRequests },
    { name: 'helpers', path: '/web/helpers', requests: o.secondaryRequests },
    { name: 'export overview.csv', path: '/web/export/overview.csv', requests: o.exportRequests },
    { name: 'export overview.xlsx', path: '/web/export/overview.xlsx', requests: o.exportRequests },
    { name: 'export needs.csv (up to 10,000)', path: '/web/export/needs.csv', requests: o.exportRequests },
    { name: 'export needs.xlsx (up to 10,000)', path: '/web/export/needs.xlsx', requests: o.exportRequests },
  ];
}

/** The overview's statements with their plans: one collectOverview on a connection that runs auto_explain. */
async function explainOverview(city: CityDirectory, coordinator: ReturnType<typeof actorOf>): Promise<void> {
  const client = new Client({ connectionString: withDatabase(BENCH_DATABASE_URL, DATABASE_NAME), options: '-c jit=off' });
  await client.connect();
  client.on('notice', (notice) => console.log(`${notice.message ?? ''}\n`));
  try {
    for (const setting of ["load 'auto_explain'", 'set auto_explain.log_min_duration = 0', 'set auto_explain.log_analyze = on', 'set auto_explain.log_buffers = on', 'set auto_explain.log_level = notice']) {
      await client.query(setting);
    }
    await collectOverview(drizzle(client, { schema }), systemClock, coordinator, city);
  } finally {
    await client.end();
  }
}

interface DriverResult {
  driver: Driver;
  seedSeconds: number;
  counts: Record<string, number>;
  figures: string;
  rows: RouteResult[];
}

/** The seeded data as the overview shows it: a line to check that its figures are not trivial. */
async function overviewFigures(db: Database, city: CityDirectory, coordinator: ReturnType<typeof actorOf>): Promise<string> {
  const overview = await collectOverview(db, systemClock, coordinator, city);
  const sum = (f: (c: (typeof overview.cells)[number]) => number) => overview.cells.reduce((a, c) => a + f(c), 0);
  const medians = overview.cells.filter((c) => c.medianFirstOfferMs !== null).length;
  const figures = {
    openNeeds: sum((c) => c.openNeeds),
    openOffers: sum((c) => c.openOffers),
    unanswered: sum((c) => c.unanswered),
    mostHelpers: Math.max(...overview.cells.map((c) => c.helpers)),
    cellsWithMedian: medians,
    trendNeeds: overview.trend.reduce((a, w) => a + w.needs, 0),
  };
  const zero = Object.entries(figures).filter(([, v]) => v === 0);
  if (zero.length) throw new Error(`the overview shows no ${zero.map(([k]) => k).join(', ')}: the seeded data would not test it`);
  return `${figures.openNeeds} open needs (${figures.unanswered} unanswered after 24 h), ${figures.openOffers} open offers, up to ${figures.mostHelpers} helpers in a cell, a median in ${medians} of ${overview.cells.length} cells, ${figures.trendNeeds} needs in the trend`;
}

async function runDriver(driver: Driver, o: Options, log: (line: string) => void): Promise<DriverResult> {
  const city = new CityDirectory(loadCity());
  const reuse = o.reuse && driver === 'postgres';
  const handle: DatabaseHandle = reuse ? await reopenBenchDatabase(DATABASE_NAME) : await openBenchDatabase(driver, DATABASE_NAME, { keep: o.keep });
  try {
    const seedStarted = performance.now();
    const districts = city.districts.map((d) => d.key);
    if (!reuse) await seedWebDesk(handle.db, { categories: city.categories.map((c) => c.key), districts, busiest: 'mitte', quietest: 'walsum' }, { users: o.users, posts: o.posts }, systemClock.now());
    const seedSeconds = reuse ? Number.NaN : (performance.now() - seedStarted) / 1000;
    // The helpers' statistics on their need subscriptions, as the sweep writes them every 5 s in production
    // (seeding lists every helper as pending); the helpers page reads them.
    const caughtUp = await catchUpHelperStats(handle.db, systemClock.now());
    log(`${driver}: the catch-up sweep wrote the statistics of ${caughtUp} helpers`);
    const counts = await seededCounts(handle.db);
    const problems = seedProblems(counts, o);
    if (problems.length) throw new Error(`seeding went wrong: ${problems.join('; ')}`);
    log(`${driver}: seeded in ${seedSeconds.toFixed(1)} s: ${JSON.stringify(counts)}`);
    const [coordinatorRow] = await handle.db
      .select()
      .from(users)
      .where(and(eq(users.role, 'coordinator'), isNull(users.bannedAt), isNull(users.deletedAt)))
      .limit(1);
    if (!coordinatorRow) throw new Error('no coordinator seeded');
    const coordinator = actorOf(coordinatorRow);
    const figures = await overviewFigures(handle.db, city, coordinator);
    log(`${driver}: the overview shows ${figures}`);
    if (o.explain && driver === 'postgres') await explainOverview(city, coordinator);

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const config = parseConfig({ PUBLIC_URL: base, LOG_LEVEL: 'warn' }, { requireToken: false });
    const logger = createLogger('warn');
    const server = await startServer({
      port,
      logger,
      mode: 'polling',
      pingDatabase: () => handle.ping(),
      telegram: () => ({ state: 'up', lastOkAt: null, silentForSeconds: null }),
    });
    try {
      server.setWebHandler(createWebHandler({ db: handle.db, clock: systemClock, city, i18n: createTranslator(config.DEFAULT_LOCALE), logger, config, wake: () => undefined, botUsername: () => undefined }));
      // Each browser logs in the way a coordinator does: the link /dashboard would send, then "Log in".
      const cookies: string[] = [];
      for (let i = 0; i < o.clients; i++) {
        const { token } = await createWebLogin(handle.db, systemClock, coordinator, config.WEB_LOGIN_TTL);
        const browser = new WebClient(base);
        const res = await browser.login(`/web/login/${token}`);
        if (res.status !== 303 || !browser.cookies.has('hn_web')) throw new Error(`login failed: ${res.status}`);
        cookies.push([...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
      }
      const rows = await loadRoutes({ port, cookies, routes: routes(o, city), rounds: o.rounds, warmup: WARMUP });
      const failed = rows.filter((r) => Object.keys(r.statuses).some((s) => s !== '200'));
      if (failed.length) throw new Error(`answers other than 200: ${failed.map((r) => `${r.name} ${JSON.stringify(r.statuses)}`).join(', ')}`);
      return { driver, seedSeconds, counts, figures, rows };
    } finally {
      await server.close();
    }
  } finally {
    await handle.close();
  }
}

const f = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`;
  }
}

function driverTable(result: DriverResult): string[] {
  const baseline = result.rows.find((r) => r.baseline)?.p95Ms ?? Number.NaN;
  return table(
    ['Request', 'Requests', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'Requests/s', 'KB', 'p95 / baseline p95'],
    result.rows.map((r) => [r.name, String(r.requests), f(r.p50Ms, 1), f(r.p95Ms, 1), f(r.p99Ms, 1), f(r.maxMs, 1), f(r.perSecond, 1), f(r.meanKb, 1), f(r.p95Ms / baseline, 1)]),
  );
}

function verdict(result: DriverResult): string {
  const overview = result.rows.find((r) => r.name === 'overview');
  if (!overview) return '';
  const met = overview.p95Ms <= TARGET_P95_MS;
  return `Target (PostgreSQL): the overview's p95 ≤ ${TARGET_P95_MS} ms — ${met ? 'met' : 'NOT met'} (${f(overview.p95Ms, 1)} ms).`;
}

function render(results: DriverResult[], o: Options, meta: { command: string; before: string; after: string; seconds: number; postgres: string }): string {
  const cpus = os.cpus();
  return [
    HEADING,
    '',
    `\`${meta.command}\` — ${o.users.toLocaleString('en')} people and ${o.posts.toLocaleString('en')} posts seeded into a fresh database`,
    '(`bench/lib/web-seed.ts`: helpers with subscriptions, seekers, staff and coordinators over the districts, one',
    'with 30 % and one with 3 % of the people; needs and offers over twelve weeks, open, in contact, fulfilled,',
    'closed, expired and removed, with waves, widening, the desk, the notifications of every wave and offers of',
    'help). The production HTTP server (`startServer` + `createWebHandler`, as `src/main.ts`) in the benchmark',
    `process; ${o.clients} browsers, each logged in through its own login link, ask every route in turn in ${o.rounds} rounds`,
    `(after ${WARMUP} warm-up requests each); the time is from the request to the last byte. Baselines in the same`,
    'run: `/healthz` (one `select 1`) and the stylesheet (through the web app, with its session lookup).',
    '',
    `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.versions.node}, PostgreSQL ${meta.postgres}; the run took ${f(meta.seconds)} s.`,
    `Before: \`${meta.before}\``,
    `After: \`${meta.after}\``,
    '',
    ...results.flatMap((r) => [
      `### ${r.driver === 'postgres' ? 'PostgreSQL' : 'PGlite'}`,
      '',
      `Seeded in ${f(r.seedSeconds, 1)} s: ${Object.entries(r.counts)
        .map(([k, v]) => `${v.toLocaleString('en')} ${k}`)
        .join(', ')}. The overview shows ${r.figures}.`,
      '',
      ...driverTable(r),
      '',
      ...(r.driver === 'postgres' ? [verdict(r), ''] : []),
    ]),
  ].join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = parseOptions(argv);
  const command = ['npm run bench:web', ...(argv.length ? ['--', ...argv] : [])].join(' ');
  const before = uptime();
  const started = performance.now();
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`${command}\n${before}`);
  const results: DriverResult[] = [];
  for (const driver of o.drivers) {
    const result = await runDriver(driver, o, log);
    results.push(result);
    log(['', ...driverTable(result), verdict(result), ''].join('\n'));
  }
  const section = render(results, o, { command, before, after: uptime(), seconds: (performance.now() - started) / 1000, postgres: await serverVersion() });
  if (o.dryRun) return;
  const file = path.join(PROJECT_ROOT, 'BENCHMARKS.md');
  writeSection(file, HEADING, section);
  log(`wrote ${path.relative(process.cwd(), file) || file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
