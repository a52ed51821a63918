/**
 * npm run bench:hostile — the webhook under hostile requests: src/main.ts in webhook mode as its own
 * process (PGlite in a temporary DATA_DIR, or PostgreSQL with --postgres) and, in the same run, a bare
 * grammY echo bot behind grammY's stock webhookCallback(bot, 'http') as the baseline, each against a
 * fresh Bot API stand-in and under the same planned mix of requests on 127.0.0.1 (wrong or missing
 * secret, not JSON, null/42, 5,000- and 50,000-deep nesting, 2 MiB and 20 MiB bodies, and /start from
 * 1,000 new users). Reports each process's VmRSS before, at its peak and after the load, its live heap
 * after a full GC, the HTTP statuses per kind of request and what it logged. Prints only; the figures
 * go into BENCHMARKS.md by hand.
 *
 *   --requests=10000      requests per process (the mix scales)
 *   --concurrency=32      requests in flight at most
 *   --latency=50          the stand-in's answer latency in ms
 *   --settle=10           seconds of quiet after the load before "after" and the heap are measured
 *   --only=hilfenetz|baseline
 *   --postgres            Hilfenetz on a fresh database at BENCH_DATABASE_URL's server instead of PGlite
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { positiveInts } from './lib/cli';
import { KIND_LABELS, planRequests, REQUEST_KINDS } from './lib/hostile-load';
import { type CaseResult, runCase, type Target } from './lib/hostile-run';
import { table } from './lib/report-file';

interface Options {
  requests: number;
  concurrency: number;
  latencyMs: number;
  settleSeconds: number;
  targets: Target[];
  postgres: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: 'string', default: '10000' },
      concurrency: { type: 'string', default: '32' },
      latency: { type: 'string', default: '50' },
      settle: { type: 'string', default: '10' },
      only: { type: 'string' },
      postgres: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.only !== undefined && values.only !== 'hilfenetz' && values.only !== 'baseline') throw new Error('--only expects hilfenetz or baseline');
  const latency = Number(values.latency);
  if (!Number.isFinite(latency) || latency < 0) throw new Error('--latency expects milliseconds ≥ 0');
  return {
    requests: positiveInts(values.requests, 'requests')[0]!,
    concurrency: positiveInts(values.concurrency, 'concurrency')[0]!,
    latencyMs: latency,
    settleSeconds: positiveInts(values.settle, 'settle')[0]!,
    targets: values.only ? [values.only] : ['hilfenetz', 'baseline'],
    postgres: values.postgres,
  };
}

const mb = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(0));
const n = (x: number) => x.toLocaleString('en');
const targetName = (r: CaseResult) => (r.target === 'hilfenetz' ? `Hilfenetz (src/main.ts, ${r.driver === 'postgres' ? 'PostgreSQL' : 'PGlite'})` : 'baseline: grammY echo bot, stock webhookCallback');

function statuses(counts: Record<string, number> | undefined): string {
  if (!counts) return '–';
  return Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${status}: ${n(count)}`)
    .join(', ');
}

function render(results: CaseResult[], command: string): string {
  const lines: string[] = [];
  lines.push(
    ...table(
      ['Process', 'VmRSS before MiB', 'Peak MiB (sampled)', 'VmHWM MiB', `VmRSS ${results[0]?.memory.settleSeconds ?? 10} s after MiB`, 'Live heap after GC MiB before → after', 'Valid answered', 'Log lines during load', 'Load s', 'Command'],
      results.map((r) => [
        targetName(r),
        mb(r.memory.before.rssMb),
        mb(r.memory.peakRssMb),
        mb(r.memory.after.hwmMb),
        mb(r.memory.after.rssMb),
        r.heap && r.heapBefore ? `${r.heapBefore.heapUsedMb.toFixed(1)} → ${r.heap.heapUsedMb.toFixed(1)}` : '–',
        `${n(r.validAnswered)} / ${n(r.validSent)}`,
        statuses(r.logLines) || '0',
        r.load.wallSeconds.toFixed(1),
        `\`${command}\``,
      ]),
    ),
  );
  lines.push('');
  lines.push(
    ...table(
      ['Request', 'Count', ...results.map((r) => `${r.target === 'hilfenetz' ? 'Hilfenetz' : 'baseline'}: statuses (p99 ms)`)],
      REQUEST_KINDS.map((kind) => [
        KIND_LABELS[kind],
        n(Object.values(results[0]?.load.byKind[kind] ?? {}).reduce((a, b) => a + b, 0)),
        ...results.map((r) => `${statuses(r.load.byKind[kind])} (${r.load.latencyMs[kind]?.p99.toFixed(0) ?? '–'})`),
      ]),
    ),
  );
  lines.push('');
  lines.push(...table(['Process', 'All statuses'], results.map((r) => [targetName(r), statuses(r.load.byStatus)])));
  return lines.join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = parseOptions(argv);
  const command = `npm run bench:hostile${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const log = (line: string) => console.log(line);
  const plan = planRequests(o.requests);
  const results: CaseResult[] = [];
  const started = performance.now();
  for (const target of o.targets) {
    log(`${target}: ${n(plan.length)} requests, ${o.concurrency} in flight at most …`);
    results.push(
      await runCase({ target, driver: o.postgres ? 'postgres' : 'pglite', plan, concurrency: o.concurrency, latencyMs: o.latencyMs, settleSeconds: o.settleSeconds, log }),
    );
  }
  log('');
  log(render(results, command));
  log('');
  log(`${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)}, total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  for (const r of results) {
    for (const [when, heap] of [['before', r.heapBefore], ['after', r.heap]] as const) {
      if (heap) log(`${r.target}: ${when} the load, after a full GC: heap used ${heap.heapUsedMb} MiB of ${heap.heapTotalMb}, external ${heap.externalMb} (array buffers ${heap.arrayBuffersMb}), RSS ${heap.rssMb}`);
    }
    log(`${r.target}: startup ${r.startupSeconds.toFixed(1)} s, log output during load ${(r.logBytes / 1024).toFixed(0)} KiB, exit code after SIGTERM ${r.exitCode}`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
