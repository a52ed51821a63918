/**
 * npm run bench:match — routes needs on seeded helpers with the production matcher and with a naive
 * baseline, on PostgreSQL and PGlite, and records the figures in BENCHMARKS.md.
 *
 *   --only=postgres|pglite     one driver (default both)
 *   --helpers=10000,100000     helper counts (default both)
 *   --posts=1000               needs published with routePost per case
 *   --baseline-posts=N         needs published with the baseline (default 100, 30 from 100k helpers on)
 *   --pglite-max-posts=N       cap on --posts for PGlite from 100k helpers on (default 200; see BENCHMARKS.md)
 *   --first-wave               only the first-wave cases: needs published with the production waves (WAVE_SIZE 50)
 *                              against the best single ranking statement (section "Matcher: first wave")
 *   --no-first-wave            only the matcher cases (routePost to everyone) against the naive baseline
 *   --wave-needs=300           needs published per first-wave case
 *   --catch-up-every=1         first wave: the catch-up sweep after every N needs (1: nobody is pending at a
 *                              wave, as in a city whose needs come less often than the sweep runs; 5: the
 *                              helpers of up to four earlier waves are)
 *   --dry-run                  print only, leave BENCHMARKS.md alone
 *   --render-only              measure nothing; rewrite the section from the figures recorded in it
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CityDirectory, loadCity } from '../src/city';
import { PROJECT_ROOT } from '../src/util/project-root';
import { positiveInts } from './lib/cli';
import { type Driver, serverVersion } from './lib/database';
import { type Machine, mergeResults, readRecorded, renderConsole, renderSection, writeSection } from './lib/match-report';
import { type MatchCase, type MatchResult, runMatchCase } from './lib/match-run';
import { mergeWaves, readRecordedWaves, renderWaveSection, writeWaveSection } from './lib/wave-report';
import { runWaveCase, type WaveResult } from './lib/wave-run';

const WARMUP = 20;
const BREAKDOWN_POSTS = 100;
const LARGE = 100_000;
/** The largest wave the target names (≤ 50 helpers per wave). */
const BENCH_WAVE_SIZE = 50;

interface Options {
  drivers: Driver[];
  helpers: number[];
  posts: number;
  baselinePosts: number | undefined;
  pgliteMaxPosts: number;
  matcher: boolean;
  firstWave: boolean;
  waveNeeds: number;
  catchUpEvery: number;
  dryRun: boolean;
  renderOnly: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      helpers: { type: 'string', default: '10000,100000' },
      posts: { type: 'string', default: '1000' },
      'baseline-posts': { type: 'string' },
      'pglite-max-posts': { type: 'string', default: '200' },
      'first-wave': { type: 'boolean', default: false },
      'no-first-wave': { type: 'boolean', default: false },
      'wave-needs': { type: 'string', default: '300' },
      'catch-up-every': { type: 'string', default: '1' },
      'dry-run': { type: 'boolean', default: false },
      'render-only': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.only !== undefined && values.only !== 'postgres' && values.only !== 'pglite') throw new Error('--only expects postgres or pglite');
  return {
    drivers: values.only ? [values.only] : ['postgres', 'pglite'],
    helpers: positiveInts(values.helpers, 'helpers'),
    posts: positiveInts(values.posts, 'posts')[0]!,
    baselinePosts: values['baseline-posts'] === undefined ? undefined : positiveInts(values['baseline-posts'], 'baseline-posts')[0],
    pgliteMaxPosts: positiveInts(values['pglite-max-posts'], 'pglite-max-posts')[0]!,
    matcher: !values['first-wave'],
    firstWave: !values['no-first-wave'],
    waveNeeds: positiveInts(values['wave-needs'], 'wave-needs')[0]!,
    catchUpEvery: positiveInts(values['catch-up-every'], 'catch-up-every')[0]!,
    dryRun: values['dry-run'],
    renderOnly: values['render-only'],
  };
}

/** The cases of a run: PGlite keeps every row in memory, so its large cases publish fewer posts. */
function cases(o: Options): MatchCase[] {
  return o.drivers.flatMap((driver) =>
    o.helpers.map((helpers) => {
      const posts = driver === 'pglite' && helpers >= LARGE ? Math.min(o.posts, o.pgliteMaxPosts) : o.posts;
      const baselinePosts = Math.min(posts, o.baselinePosts ?? (helpers >= LARGE ? 30 : 100));
      return { driver, helpers, posts, baselinePosts, breakdownPosts: Math.min(posts, BREAKDOWN_POSTS), warmup: WARMUP };
    }),
  );
}

async function machine(): Promise<Machine> {
  const pgliteManifest = path.join(PROJECT_ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json');
  const { version: pglite } = JSON.parse(readFileSync(pgliteManifest, 'utf8')) as { version: string };
  const cpus = os.cpus();
  return {
    cpus: `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}`,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    node: process.versions.node,
    postgres: await serverVersion(),
    pglite,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  const command = ['npm run bench:match', ...(argv.length ? ['--', ...argv] : [])].join(' ');
  const cityData = loadCity();
  const directory = new CityDirectory(cityData);
  const city = {
    categories: cityData.categories.map((c) => c.key),
    districts: cityData.districts.map((d) => d.key),
    timeZone: cityData.timezone,
    neighbours: (d: string) => directory.neighbours(d),
    isProtected: (c: string) => directory.isProtected(c),
  };
  const file = path.join(PROJECT_ROOT, 'BENCHMARKS.md');
  const results: MatchResult[] = [];
  for (const c of options.renderOnly || !options.matcher ? [] : cases(options)) {
    console.log(`${c.driver}, ${c.helpers} helpers: ${c.posts} posts, breakdown ${c.breakdownPosts}, baseline ${c.baselinePosts} posts`);
    results.push(await runMatchCase(c, city, command, (line) => console.log(line)));
  }
  const waves: WaveResult[] = [];
  for (const driver of options.renderOnly || !options.firstWave ? [] : options.drivers) {
    for (const helpers of options.helpers) {
      console.log(`${driver}, ${helpers} helpers: first wave of ${options.waveNeeds} needs`);
      waves.push(await runWaveCase({ driver, helpers, needs: options.waveNeeds, waveSize: BENCH_WAVE_SIZE, catchUpEvery: options.catchUpEvery }, city, command, (line) => console.log(line)));
    }
  }
  if (options.matcher) console.log(`\n${renderConsole(results.length ? results : readRecorded(file))}`);
  if (waves.length) console.log(`\n${renderWaveSection(waves)}`);
  if (options.dryRun) return;
  if (results.length || options.renderOnly) writeSection(file, renderSection(mergeResults(readRecorded(file), results), await machine()));
  if (waves.length || options.renderOnly) writeWaveSection(file, renderWaveSection(mergeWaves(readRecordedWaves(file), waves)));
  console.log(`\nwrote ${path.relative(process.cwd(), file) || file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
