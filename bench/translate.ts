/**
 * npm run bench:translate — what machine translation costs delivery. In the same run, with translation
 * off and on (TRANSLATE_URL → a LibreTranslate stand-in in its own process that answers after 200 ms):
 *  1. a notice in three languages to 10,000 seekers (uk/de/ru, a third each) at BROADCAST_RATE while needs
 *     are published once a second, each notifying its first wave of helpers of all three languages, so
 *     that waiting notifications, the translation job's releases and edits compete with the notice for the
 *     same governor: the notice's rate as a share of the limit, and how the notifications went out;
 *  2. publishPost alone, translation off and on post by post on the same database (the job row is written
 *     in the same transaction).
 * Prints tables and records them in BENCHMARKS.md.
 *
 *   --drivers=postgres,pglite   databases (default both; PostgreSQL at BENCH_DATABASE_URL)
 *   --only=delivery|publish     one part
 *   --rate=300                  BROADCAST_RATE and the Bot API stand-in's limit (messages per second)
 *   --recipients=10000          the notice's recipients
 *   --helpers=3000              helpers the needs notify (delivery part)
 *   --post-every=1000           ms between two needs
 *   --engine-delay=200          ms the engine stand-in takes per translation
 *   --translate-wait=5s         TRANSLATE_WAIT
 *   --publish-posts=400         measured posts of the publishing part (half with translation)
 *   --publish-helpers=10000     helpers of the publishing part
 *   --dry-run                   print only, leave BENCHMARKS.md alone
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../src/util/project-root';
import { positiveInts } from './lib/cli';
import type { Driver } from './lib/database';
import { DELIVERY_DEFAULTS, type DeliveryResult, type PublishResult, runDelivery, runPublish } from './lib/translate-run';
import { mergeResults, readRecorded, renderConsole, renderSection, writeSection } from './lib/translate-report';

/** The notice alone (bench:broadcast's case), then with needs, translation off, then on. */
const MODES = [
  { needs: false, translation: false },
  { needs: true, translation: false },
  { needs: true, translation: true },
];

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      drivers: { type: 'string', default: 'postgres,pglite' },
      only: { type: 'string' },
      rate: { type: 'string', default: String(DELIVERY_DEFAULTS.rate) },
      recipients: { type: 'string', default: String(DELIVERY_DEFAULTS.recipients) },
      helpers: { type: 'string', default: String(DELIVERY_DEFAULTS.helpers) },
      'post-every': { type: 'string', default: String(DELIVERY_DEFAULTS.postEveryMs) },
      'engine-delay': { type: 'string', default: String(DELIVERY_DEFAULTS.engineDelayMs) },
      'translate-wait': { type: 'string', default: DELIVERY_DEFAULTS.translateWait },
      'publish-posts': { type: 'string', default: '400' },
      'publish-helpers': { type: 'string', default: '10000' },
      'dry-run': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const drivers = values.drivers.split(',').map((d) => d.trim());
  if (drivers.some((d) => d !== 'postgres' && d !== 'pglite')) throw new Error('--drivers expects postgres and/or pglite');
  if (values.only !== undefined && values.only !== 'delivery' && values.only !== 'publish') throw new Error('--only expects delivery or publish');
  const rate = positiveInts(values.rate, 'rate')[0]!;
  if (rate > 1000) throw new Error('--rate: Telegram allows at most 1000/s (paid broadcasts)');
  if (!/^\d+(ms|s|m)?$/.test(values['translate-wait'])) throw new Error('--translate-wait expects a duration such as 5s');
  return {
    drivers: drivers as Driver[],
    parts: values.only ? [values.only] : ['delivery', 'publish'],
    delivery: {
      ...DELIVERY_DEFAULTS,
      rate,
      recipients: positiveInts(values.recipients, 'recipients')[0]!,
      helpers: positiveInts(values.helpers, 'helpers')[0]!,
      postEveryMs: positiveInts(values['post-every'], 'post-every')[0]!,
      engineDelayMs: Number(values['engine-delay']),
      translateWait: values['translate-wait'],
    },
    publish: { posts: positiveInts(values['publish-posts'], 'publish-posts')[0]!, helpers: positiveInts(values['publish-helpers'], 'publish-helpers')[0]! },
    dryRun: values['dry-run'],
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = parseOptions(argv);
  const command = `npm run bench:translate${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const log = (line: string) => console.log(line);
  const results: (DeliveryResult | PublishResult)[] = [];
  for (const driver of o.drivers) {
    if (o.parts.includes('delivery')) {
      for (const { needs, translation } of MODES) {
        const what = needs ? `with needs every ${o.delivery.postEveryMs} ms, translation ${translation ? 'on' : 'off'}` : 'alone';
        log(`${driver}: notice to ${o.delivery.recipients.toLocaleString('en')} at ${o.delivery.rate}/s ${what} …`);
        results.push(await runDelivery({ ...o.delivery, driver, needs, translation }, command, log));
      }
    }
    if (o.parts.includes('publish')) {
      log(`${driver}: publishPost, ${o.publish.posts} posts on ${o.publish.helpers.toLocaleString('en')} helpers, translation off and on in turns …`);
      results.push(await runPublish({ driver, helpers: o.publish.helpers, posts: o.publish.posts, warmup: 20 }, command));
    }
  }
  log('');
  log(renderConsole(results));
  if (o.dryRun) return;
  const file = path.join(PROJECT_ROOT, 'BENCHMARKS.md');
  writeSection(file, renderSection(mergeResults(readRecorded(file), results)));
  log(`\nwrote ${path.relative(process.cwd(), file) || file}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
