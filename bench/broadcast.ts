/**
 * npm run bench:broadcast — a notice to many recipients, delivered by the production sender
 * (sendNotice → outbox → DeliveryWorker) and, in the same run, by the loop grammY's documentation
 * recommends (sequential sendMessage with the auto-retry plugin), each against a fresh local Bot API
 * stand-in that enforces the limit (429 + retry_after over a sliding second) and answers after a
 * Telegram-like latency, and by the strongest simple sender (the ids in memory, paced sends with enough
 * requests in flight). Prints a table and records the figures in BENCHMARKS.md.
 *
 *   --rate=30,300                 limits (messages per second) to run at
 *   --recipients=1500,10000       recipients for ours, one number for all rates or one per rate
 *                                 (default 1,500 at ≤ 30/s, 10,000 up to 300/s, 100,000 above)
 *   --baseline-recipients=1000    recipients for the baseline (latency-bound: ~20/s)
 *   --only=ours,paced             the methods to run: ours, paced (the paced sender, as many recipients as
 *                                 ours), baseline (grammY's sequential loop); default all three
 *   --driver=postgres|pglite      database for ours (default PostgreSQL at BENCH_DATABASE_URL)
 *   --latency=50                  the stand-in's answer latency in ms
 *   --dry-run                     print only, leave BENCHMARKS.md alone
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../src/util/project-root';
import { positiveInts } from './lib/cli';
import type { Driver } from './lib/database';
import { type Method, type MethodResult, runBaseline, runOurs, runPaced } from './lib/broadcast-run';
import { mergeResults, readRecorded, renderConsole, renderSection, writeSection } from './lib/broadcast-report';

interface Options {
  rates: number[];
  recipients: number[] | undefined;
  baselineRecipients: number;
  methods: Method[];
  driver: Driver;
  latencyMs: number;
  dryRun: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      rate: { type: 'string', default: '30,300' },
      recipients: { type: 'string' },
      'baseline-recipients': { type: 'string', default: '1000' },
      only: { type: 'string' },
      driver: { type: 'string', default: 'postgres' },
      latency: { type: 'string', default: '50' },
      'dry-run': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const methods = (values.only ?? 'ours,paced,baseline').split(',');
  if (!methods.every((m): m is Method => m === 'ours' || m === 'paced' || m === 'baseline')) throw new Error('--only expects ours, paced and/or baseline');
  if (values.driver !== 'postgres' && values.driver !== 'pglite') throw new Error('--driver expects postgres or pglite');
  const rates = positiveInts(values.rate, 'rate');
  if (rates.some((r) => r > 1000)) throw new Error('--rate: Telegram allows at most 1000/s (paid broadcasts)');
  const recipients = values.recipients === undefined ? undefined : positiveInts(values.recipients, 'recipients');
  if (recipients && recipients.length !== 1 && recipients.length !== rates.length) throw new Error('--recipients: one number, or one per rate');
  const latency = Number(values.latency);
  if (!Number.isFinite(latency) || latency < 0) throw new Error('--latency expects milliseconds ≥ 0');
  return {
    rates,
    recipients,
    baselineRecipients: positiveInts(values['baseline-recipients'], 'baseline-recipients')[0]!,
    methods,
    driver: values.driver,
    latencyMs: latency,
    dryRun: values['dry-run'],
  };
}

function recipientsFor(o: Options, index: number): number {
  if (o.recipients) return o.recipients[o.recipients.length === 1 ? 0 : index]!;
  const rate = o.rates[index]!;
  return rate <= 30 ? 1_500 : rate <= 300 ? 10_000 : 100_000;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = parseOptions(argv);
  const command = `npm run bench:broadcast${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const log = (line: string) => console.log(line);
  const results: MethodResult[] = [];
  for (const [index, rate] of o.rates.entries()) {
    const base = { driver: o.driver, rate, latencyMs: o.latencyMs, command, log };
    if (o.methods.includes('ours')) {
      const recipients = recipientsFor(o, index);
      log(`${rate}/s, ours (${o.driver}), ${recipients.toLocaleString('en')} recipients …`);
      results.push(await runOurs({ ...base, recipients }));
    }
    if (o.methods.includes('paced')) {
      const recipients = recipientsFor(o, index);
      log(`${rate}/s, paced sender (ids in memory), ${recipients.toLocaleString('en')} recipients …`);
      results.push(await runPaced({ ...base, recipients }));
    }
    if (o.methods.includes('baseline')) {
      log(`${rate}/s, baseline (sequential loop + auto-retry), ${o.baselineRecipients.toLocaleString('en')} recipients …`);
      results.push(await runBaseline({ ...base, recipients: o.baselineRecipients }));
    }
  }
  log('');
  log(renderConsole(results));
  if (o.dryRun) return;
  const file = path.join(PROJECT_ROOT, 'BENCHMARKS.md');
  const merged = mergeResults(readRecorded(file), results);
  writeSection(file, renderSection(merged));
  log(`\nwrote ${path.relative(process.cwd(), file) || file}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
