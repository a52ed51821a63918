/**
 * npm run bench:loop — four simulated weeks of a city, three policies on the same helpers, needs and
 * seed: (1) everyone at once, (2) 50 random subscribers per wave, at most 3 waves 30 min apart, then
 * nothing, (3) Hilfenetz's waves, widening and Lotsen desk. Drives the production domain code with an
 * injected clock (bench/lib/loop-run.ts), prints the comparison and the targets of issue 10 for policy 3,
 * and records them in BENCHMARKS.md (unless --dry-run).
 *
 * Every parameter is a flag; `--help` lists them with their defaults.
 */
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CityDirectory, loadCity } from '../src/city';
import { type Config, parseConfig, parseDuration } from '../src/config';
import { PROJECT_ROOT } from '../src/util/project-root';
import { type Driver, openBenchDatabase } from './lib/database';
import { buildHelpers, checkParams, DEFAULT_PARAMS, type LoopParams, planNeeds } from './lib/loop-model';
import { checkTargets, type PolicySummary, renderTable, renderTargets, summarise } from './lib/loop-report';
import { DEFAULT_RANDOM_WAVES, type PolicyId, type RandomWaves, runPolicy } from './lib/loop-run';
import { writeSection } from './lib/report-file';

const d = DEFAULT_PARAMS;
/** Flag → [default shown in --help, description]. */
const FLAGS = {
  db: ['postgres', 'postgres (BENCH_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test) or pglite (in memory)'],
  policies: ['1,2,3', 'which policies to run'],
  seed: [String(d.seed), 'seed of the city, the needs and the behaviour'],
  days: [String(d.days), 'days on which needs are published'],
  'tail-days': [String(d.tailDays), 'days the run goes on after the last need (so that every need gets its 72 h and the desk)'],
  helpers: [String(d.helpers), 'helpers'],
  'needs-per-day': [String(d.needsPerDay), 'needs published per day'],
  subscriptions: [String(d.subscriptionsPerHelper), 'distinct (category, district) subscriptions per helper'],
  'big-district': [d.bigDistrict, 'the district with many helpers'],
  'big-share': [String(d.bigShare), 'its share of the helpers'],
  'small-district': [d.smallDistrict, 'the district with few helpers'],
  'small-share': [String(d.smallShare), 'its share of the helpers (the other districts share the rest evenly)'],
  'home-share': [String(d.homeShare), "share of subscriptions in the helper's home district"],
  'city-share': [String(d.cityShare), 'share of subscriptions to the whole city (the rest: another district)'],
  'demand-skew': [String(d.demandSkew), 'demand over the served categories ∝ 1 / rank^skew, in the city file’s order'],
  'unserved-category': [d.unservedCategory, 'the category nobody subscribes to'],
  'unserved-share': [String(d.unservedShare), 'share of needs in it'],
  beta: [`${d.betaAlpha},${d.betaBeta}`, "a helper's willingness ~ Beta(a, b)"],
  fatigue: [String(d.fatigue), 'answer probability = willingness × exp(−notifications in 7 days / fatigue)'],
  'delay-median': ['40m', 'median of the log-normal answer delay (from when the notification can be seen)'],
  'delay-sigma': [String(d.delaySigma), 'sigma of the log-normal answer delay'],
  'decline-share': [String(d.declineShare), 'of the notifications not answered with an offer, the share answered "Not this time"'],
  'follow-up-no': [String(d.followUpNo), 'share of follow-up answers "no" (the search goes on)'],
  'follow-up-later': [String(d.followUpLater), 'share of follow-up answers "still in progress" (the rest: yes)'],
  'desk-rounds': [d.deskRounds.join(','), 'local hours at which a Lotse works through the desk'],
  'desk-weekends': ['false', 'the desk is worked on Saturdays and Sundays too'],
  'needs-hours': [`${d.needsFrom}-${d.needsUntil}`, 'local hours between which needs are published'],
  start: [d.startDate, 'the first simulated day (local midnight, the city’s time zone)'],
  'random-size': [String(DEFAULT_RANDOM_WAVES.size), 'policy 2: subscribers per wave'],
  'random-waves': [String(DEFAULT_RANDOM_WAVES.waves), 'policy 2: waves at most'],
  'random-interval': ['30m', 'policy 2: time between waves'],
  'wave-size': ['10', 'policy 3: WAVE_SIZE'],
  'wave-interval': ['2h', 'policy 3: WAVE_INTERVAL'],
  'weekly-cap': ['15', 'policy 3: HELPER_WEEKLY_CAP'],
  'desk-after': ['24h', 'policy 3: DESK_AFTER'],
  'follow-up-after': ['24h', 'FOLLOW_UP_AFTER'],
  'quiet-hours': ['22:00-07:00', 'QUIET_HOURS (notifications wait for their end)'],
  'every-tick': ['false', 'run every sweep on every tick of its period (slow; the default jumps to the next tick with work)'],
  'dry-run': ['false', 'print only, leave BENCHMARKS.md alone'],
} as const;
type Flag = keyof typeof FLAGS;
const BOOLEAN_FLAGS = new Set<Flag>(['desk-weekends', 'every-tick', 'dry-run']);

function usage(): string {
  return ['npm run bench:loop -- [flags]', '', ...Object.entries(FLAGS).map(([flag, [def, text]]) => `  --${flag.padEnd(18)} ${text} (default ${def})`)].join('\n');
}

function number(values: Record<string, unknown>, flag: Flag, options: { integer?: boolean; min?: number; max?: number } = {}): number {
  const raw = (values[flag] as string | undefined) ?? FLAGS[flag][0];
  const n = Number(raw.replace(/_/g, ''));
  const bad = !Number.isFinite(n) || (options.integer && !Number.isInteger(n)) || (options.min !== undefined && n < options.min) || (options.max !== undefined && n > options.max);
  if (bad) throw new Error(`--${flag}: expected ${options.integer ? 'an integer' : 'a number'}${options.min !== undefined ? ` ≥ ${options.min}` : ''}${options.max !== undefined ? ` ≤ ${options.max}` : ''}, got "${raw}"`);
  return n;
}

function text(values: Record<string, unknown>, flag: Flag): string {
  return (values[flag] as string | undefined) ?? FLAGS[flag][0];
}

function durationMs(values: Record<string, unknown>, flag: Flag): number {
  const ms = parseDuration(text(values, flag));
  if (ms === null || ms <= 0) throw new Error(`--${flag}: expected a duration such as 90s, 30m, 2h or 3d`);
  return ms;
}

interface Options {
  driver: Driver;
  policies: PolicyId[];
  params: LoopParams;
  randomWaves: RandomWaves;
  config: Config;
  everyTick: boolean;
  dryRun: boolean;
}

function parseOptions(argv: string[]): Options {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const flag of Object.keys(FLAGS) as Flag[]) options[flag] = { type: BOOLEAN_FLAGS.has(flag) ? 'boolean' : 'string' };
  const { values } = parseArgs({ args: argv, options, strict: true });
  if (values.help) {
    console.log(usage());
    process.exit(0);
  }
  const driver = text(values, 'db');
  if (driver !== 'postgres' && driver !== 'pglite') throw new Error('--db expects postgres or pglite');
  const policies = text(values, 'policies')
    .split(',')
    .map((p) => Number(p.trim()));
  if (policies.length === 0 || policies.some((p) => p !== 1 && p !== 2 && p !== 3)) throw new Error('--policies expects a list of 1, 2, 3');
  const [alpha, beta] = text(values, 'beta').split(',').map(Number);
  if (!(alpha! > 0 && beta! > 0)) throw new Error('--beta expects two positive numbers: a,b');
  const hours = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(text(values, 'needs-hours'));
  if (!hours) throw new Error('--needs-hours expects from-until in local hours, e.g. 8-22');
  const deskRounds = text(values, 'desk-rounds')
    .split(',')
    .filter((h) => h.trim() !== '')
    .map(Number);
  if (deskRounds.some((h) => !(h >= 0 && h < 24))) throw new Error('--desk-rounds expects local hours 0–23, e.g. 9,11,13,15,17');
  const params: LoopParams = {
    seed: number(values, 'seed', { integer: true, min: 0 }),
    days: number(values, 'days', { integer: true, min: 1, max: 365 }),
    tailDays: number(values, 'tail-days', { integer: true, min: 0, max: 60 }),
    helpers: number(values, 'helpers', { integer: true, min: 1, max: 1_000_000 }),
    needsPerDay: number(values, 'needs-per-day', { integer: true, min: 1, max: 100_000 }),
    subscriptionsPerHelper: number(values, 'subscriptions', { integer: true, min: 1 }),
    bigDistrict: text(values, 'big-district'),
    bigShare: number(values, 'big-share', { min: 0, max: 1 }),
    smallDistrict: text(values, 'small-district'),
    smallShare: number(values, 'small-share', { min: 0, max: 1 }),
    homeShare: number(values, 'home-share', { min: 0, max: 1 }),
    cityShare: number(values, 'city-share', { min: 0, max: 1 }),
    demandSkew: number(values, 'demand-skew', { min: 0 }),
    unservedCategory: text(values, 'unserved-category'),
    unservedShare: number(values, 'unserved-share', { min: 0, max: 1 }),
    betaAlpha: alpha!,
    betaBeta: beta!,
    fatigue: number(values, 'fatigue', { min: 0.001 }),
    delayMedianMs: durationMs(values, 'delay-median'),
    delaySigma: number(values, 'delay-sigma', { min: 0 }),
    declineShare: number(values, 'decline-share', { min: 0, max: 1 }),
    followUpNo: number(values, 'follow-up-no', { min: 0, max: 1 }),
    followUpLater: number(values, 'follow-up-later', { min: 0, max: 1 }),
    deskRounds,
    deskWeekends: values['desk-weekends'] === true,
    needsFrom: Number(hours[1]),
    needsUntil: Number(hours[2]),
    startDate: text(values, 'start'),
  };
  // The production configuration, parsed by the production schema (so a bad value gets its usual message).
  const config = parseConfig(
    {
      WAVE_SIZE: text(values, 'wave-size'),
      WAVE_INTERVAL: text(values, 'wave-interval'),
      HELPER_WEEKLY_CAP: text(values, 'weekly-cap'),
      DESK_AFTER: text(values, 'desk-after'),
      FOLLOW_UP_AFTER: text(values, 'follow-up-after'),
      QUIET_HOURS: text(values, 'quiet-hours'),
      LOG_LEVEL: 'silent',
    },
    { requireToken: false },
  );
  return {
    driver,
    policies: [...new Set(policies)].sort() as PolicyId[],
    params,
    randomWaves: {
      size: number(values, 'random-size', { integer: true, min: 1 }),
      waves: number(values, 'random-waves', { integer: true, min: 1 }),
      intervalMs: durationMs(values, 'random-interval'),
    },
    config,
    everyTick: values['every-tick'] === true,
    dryRun: values['dry-run'] === true,
  };
}

function load(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = parseOptions(argv);
  const command = ['npm run bench:loop', ...(argv.length ? ['--', ...argv] : [])].join(' ');
  const city = new CityDirectory(loadCity());
  const modelCity = { districts: city.districts.map((x) => x.key), categories: city.categories.map((c) => c.key), timeZone: city.timezone };
  checkParams(o.params, modelCity);
  const helpers = buildHelpers(o.params, modelCity);
  const needs = planNeeds(o.params, modelCity);
  const loadBefore = load();
  const started = performance.now();
  console.log(`${command}\n${helpers.length} helpers, ${needs.length} needs over ${o.params.days} days (+${o.params.tailDays} days tail), seed ${o.params.seed}, ${o.driver}; load ${loadBefore}`);
  const summaries: PolicySummary[] = [];
  for (const policy of o.policies) {
    // No flush to disk per commit: the simulation's figures do not depend on commit latency, and its run
    // time should not depend on the disk of a shared machine either.
    const handle = await openBenchDatabase(o.driver, `hilfenetz_bench_loop_${policy}`, { settings: { synchronous_commit: 'off' } });
    try {
      const run = await runPolicy({ policy, db: handle.db, config: o.config, city, params: o.params, helpers, needs, randomWaves: o.randomWaves, everyTick: o.everyTick, progress: (line) => console.log(line) });
      summaries.push(summarise(run));
      console.log(`policy ${policy} done in ${(run.wallMs / 1000).toFixed(0)} s: ${JSON.stringify(run.counts)}`);
    } finally {
      await handle.close();
    }
  }
  const totalS = (performance.now() - started) / 1000;
  const loadAfter = load();
  const targets = checkTargets(summaries, o.config.HELPER_WEEKLY_CAP);
  const tableLines = renderTable(summaries);
  console.log(`\n${tableLines.join('\n')}\n\nTargets for policy 3 (issue 10):\n${renderTargets(targets).join('\n') || '- (policy 3 not run)'}`);
  console.log(`\nrun time ${totalS.toFixed(0)} s; load (1, 5, 15 min) before ${loadBefore}, after ${loadAfter}`);
  if (o.dryRun) return;
  const cpus = os.cpus();
  const section = [
    '## The loop (`npm run bench:loop`)',
    '',
    'Simulated weeks of a city, three policies on the same helpers, needs and seed, each on its own fresh database. The',
    'production domain code does everything to a need (publishing, routing, the wave, desk and follow-up sweeps as the',
    'scheduler runs them, "I can help", the seeker accepting, the follow-up answers, the Lotse taking or referring); an',
    'injected clock jumps from event to event. The model and its defaults are described in the README (Benchmarks).',
    '',
    `- Command: \`${command}\``,
    `- Date: ${new Date().toISOString().slice(0, 10)}; machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.versions.node}, ${o.driver === 'postgres' ? 'PostgreSQL' : 'PGlite (in memory)'}`,
    `- Data: ${helpers.length} helpers, ${needs.length} needs over ${o.params.days} days (+${o.params.tailDays} days in which the last needs get their answers), seed ${o.params.seed}`,
    `- Run time: ${totalS.toFixed(0)} s for all policies; load average (1, 5, 15 min) before ${loadBefore}, after ${loadAfter} (2 cores shared with other work)`,
    '',
    ...tableLines,
    '',
    'Targets for policy 3 (issue 10):',
    '',
    ...renderTargets(targets),
    '',
  ].join('\n');
  const file = path.join(PROJECT_ROOT, 'BENCHMARKS.md');
  writeSection(file, '## The loop (`npm run bench:loop`)', section);
  console.log(`\nwrote ${path.relative(process.cwd(), file) || file}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
