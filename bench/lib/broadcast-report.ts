import os from 'node:os';
import type { MethodResult } from './broadcast-run';
import type { MemoryReport } from './memory';
import { dataComment, readRecorded as readRecordedIn, table, writeSection as writeSectionIn } from './report-file';

/** The heading of the section this benchmark owns in BENCHMARKS.md. */
export const SECTION_HEADING = '## Broadcast delivery (`npm run bench:broadcast`)';
const DATA_MARKER = 'bench-broadcast-data';
/** From the issue: at least this fraction of the enforced limit, nothing lost, nothing twice. */
export const TARGET_FRACTION = 0.97;
/** From issue 12: the delivering process stays within this resident set (MiB) for the largest notice. */
export const TARGET_PEAK_RSS_MB = 250;
/** Notices at least this large are held to TARGET_PEAK_RSS_MB. */
const LARGE_NOTICE = 100_000;

function num(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ms(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return value < 10 ? value.toFixed(2) : value.toFixed(1);
}

function methodName(r: MethodResult, markdown: boolean): string {
  if (r.method === 'ours') {
    const name = `Hilfenetz DeliveryWorker (${r.driver === 'pglite' ? 'PGlite' : 'PostgreSQL'})`;
    return markdown ? `**${name}**` : name;
  }
  return r.method === 'paced' ? 'paced sender: ids in memory, requests in flight' : 'grammY docs: sequential loop + auto-retry';
}

function memoryCell(m: MemoryReport): string {
  // The peak is sampled while sending; the settled figure afterwards can be a little higher.
  return `${num(m.before.rssMb)} → ${num(m.after.rssMb)} (peak ${num(Math.max(m.peak.rssMb, m.after.rssMb))})`;
}

/** The highest resident set seen: sampled while sending, or the kernel's high-water mark where recorded. */
function peakRss(r: MethodResult): number {
  return Math.max(r.memory.peak.rssMb, r.memory.after.rssMb, r.hwmMb ?? 0);
}

/** Recipients per wall-clock second: from the notice being sent to the last message delivered. */
function wallRate(r: MethodResult): number {
  return r.recipients / r.wallSeconds;
}

/** The paced sender of the same limit and latency in the same results, if any. */
function pacedOf(results: MethodResult[], r: MethodResult): MethodResult | undefined {
  return results.find((p) => p.method === 'paced' && p.rate === r.rate && p.latencyMs === r.latencyMs && p.recipients === r.recipients);
}

const key = (r: MethodResult) => `${r.method}/${r.driver ?? '-'}/${r.rate}/${r.latencyMs}`;

/** Ordered by limit; ours (PostgreSQL, then PGlite) before the baseline. */
function ordered(results: MethodResult[]): MethodResult[] {
  const rank = (r: MethodResult) => (r.method === 'baseline' ? 3 : r.method === 'paced' ? 2 : r.driver === 'pglite' ? 1 : 0);
  return [...results].sort((a, b) => a.rate - b.rate || rank(a) - rank(b));
}

/** The figures recorded in BENCHMARKS.md by earlier runs (so that `--rate=300` keeps the 30/s rows). */
export function readRecorded(file: string): MethodResult[] {
  return readRecordedIn<MethodResult>(file, DATA_MARKER);
}

/** This run's results replace earlier ones of the same method, database, limit and latency. */
export function mergeResults(recorded: MethodResult[], fresh: MethodResult[]): MethodResult[] {
  const byKey = new Map(recorded.map((r) => [key(r), r]));
  for (const r of fresh) byKey.set(key(r), r);
  return ordered([...byKey.values()]);
}

function resultRow(r: MethodResult, markdown: boolean): string[] {
  return [
    `${num(r.rate)}/s`,
    methodName(r, markdown),
    num(r.recipients),
    num(r.achievedRate, 1),
    markdown ? `**${num(r.fraction, 3)}**` : num(r.fraction, 3),
    num(r.lost),
    num(r.duplicated),
    num(r.rateLimited),
    `${ms(r.gapMs.p50)} / ${ms(r.gapMs.p99)}`,
    num(r.maxInOneSecond),
    num(r.wallSeconds, 1),
    num(wallRate(r), 1),
    memoryCell(r.memory),
    r.hwmMb === undefined ? '–' : num(r.hwmMb),
  ];
}

const RESULT_HEADER = ['Limit', 'Method', 'Recipients', 'Achieved msg/s', 'Rate / limit', 'Lost', 'Duplicated', '429s', 'Gap p50 / p99 ms', 'Busiest second', 'Wall s', 'Wall msg/s', 'RSS MiB before → after (peak)', 'VmHWM MiB'];

function verdict(ok: boolean): string {
  return ok ? '**met**' : '**not met**';
}

function targetRows(results: MethodResult[]): string[][] {
  const rows: string[][] = [];
  for (const r of results.filter((x) => x.method === 'ours')) {
    const where = `${num(r.rate)}/s, ${num(r.recipients)} recipients (${r.driver === 'pglite' ? 'PGlite' : 'PostgreSQL'})`;
    rows.push([
      `${where}: ≥ ${TARGET_FRACTION} of the limit`,
      `${num(r.achievedRate, 1)}/s = **${num(r.fraction, 3)}** of ${num(r.rate)}/s (${num(r.fraction / TARGET_FRACTION, 3)}× the target)`,
      verdict(r.fraction >= TARGET_FRACTION),
      `\`${r.command}\``,
    ]);
    rows.push([`${where}: zero lost, zero duplicates`, `${num(r.lost)} lost, ${num(r.duplicated)} duplicated`, verdict(r.lost === 0 && r.duplicated === 0), `\`${r.command}\``]);
  }
  for (const r of results.filter((x) => x.method === 'ours' && x.recipients >= LARGE_NOTICE)) {
    const where = `${num(r.rate)}/s, ${num(r.recipients)} recipients (${r.driver === 'pglite' ? 'PGlite' : 'PostgreSQL'})`;
    rows.push([`${where}: peak RSS of the delivering process ≤ ${TARGET_PEAK_RSS_MB} MiB`, `${num(peakRss(r))} MiB`, verdict(peakRss(r) <= TARGET_PEAK_RSS_MB), `\`${r.command}\``]);
  }
  for (const r of results.filter((x) => x.method === 'ours')) {
    const paced = pacedOf(results, r);
    if (!paced) continue;
    rows.push([
      `${num(r.rate)}/s, ${num(r.recipients)} recipients: wall-clock rate against the paced sender, same run (for comparison)`,
      `${num(wallRate(r), 1)} / ${num(wallRate(paced), 1)} msg/s = ${num(wallRate(r) / wallRate(paced), 3)}× (paced: ${num(paced.fraction, 3)} of the limit, peak RSS ${num(peakRss(paced))} MiB)`,
      'ratio',
      `\`${r.command}\``,
    ]);
  }
  for (const r of results.filter((x) => x.method === 'baseline')) {
    rows.push([
      `Baseline at ${num(r.rate)}/s, ${num(r.recipients)} recipients (for comparison; not a target)`,
      `${num(r.achievedRate, 1)}/s = ${num(r.fraction, 3)} of the limit, ${num(r.lost)} lost, ${num(r.duplicated)} duplicated`,
      r.fraction >= TARGET_FRACTION ? 'would meet' : 'would not meet',
      `\`${r.command}\``,
    ]);
  }
  return rows;
}

/** What the figures say about a Hilfenetz run that missed the rate target (derived from its own data). */
function shortfallNotes(results: MethodResult[]): string[] {
  return results
    .filter((r) => r.method === 'ours' && r.fraction < TARGET_FRACTION)
    .map((r) => {
      const needed = 1000 / r.rate;
      const parts = [`- ${num(r.rate)}/s (${num(r.fraction, 3)} of the limit, \`${r.command}\`):`];
      if (r.rateLimited > 0) parts.push(`${num(r.rateLimited)} sends were refused with 429, and each 429 pauses all sending for its \`retry_after\` (1 s here);`);
      if (r.maxInOneSecond < TARGET_FRACTION * r.rate) {
        parts.push(
          `no second ever reached the limit (at most ${num(r.maxInOneSecond)} accepted in any second) and the median gap between sends was ${ms(r.gapMs.p50)} ms where ${ms(needed)} ms would keep up with it — the sender’s own pacing holds the rate below the limit, not the stand-in.`,
        );
      } else {
        parts.push(`the busiest second reached the limit (${num(r.maxInOneSecond)}); the time lost is in pauses (gap p99 ${ms(r.gapMs.p99)} ms).`);
      }
      return parts.join(' ');
    });
}

function runRows(results: MethodResult[]): string[][] {
  return results.map((r) => {
    const details =
      r.method === 'ours' && r.ours
        ? [
            `fan-out ${num(r.ours.fanOutMs)} ms`,
            `outbox ${Object.entries(r.ours.outboxStatuses).map(([s, n]) => `${s} ${num(n)}`).join(', ')}`,
            `possible duplicates ${num(r.ours.possibleDuplicates)}`,
            `notice ${r.ours.noticeDone ? 'done' : 'NOT done'}`,
            `worker: ${num(r.ours.workerStats.sent)} sent, ${num(r.ours.workerStats.rateLimited)} 429s`,
            r.ours.errors.length ? `errors: ${r.ours.errors.join('; ')}` : 'no errors logged',
          ].join('; ')
        : `${num(r.baselineFailures ?? 0)} calls failed after auto-retry`;
    const standIn = r.answerDelayMs ? `stand-in answer delay p50/p99/max ${ms(r.answerDelayMs.p50)}/${ms(r.answerDelayMs.p99)}/${ms(r.answerDelayMs.max)} ms, ${num(r.maxInFlight)} in flight at most` : '';
    return [`${num(r.rate)}/s`, methodName(r, false), r.date, `${r.load.start.toFixed(1)} → ${r.load.end.toFixed(1)}`, `${num(r.spanSeconds, 3)} s${r.callLogSpanSeconds !== undefined ? ` (call log ${num(r.callLogSpanSeconds, 3)} s)` : ''}`, standIn, details, `\`${r.command}\``];
  });
}

/** The BENCHMARKS.md section for these results. */
export function renderSection(results: MethodResult[]): string {
  const latencies = [...new Set(results.map((r) => r.latencyMs))].join(', ');
  const lines = [
    SECTION_HEADING,
    '',
    'One notice to many recipients against a local Bot API stand-in (`test/helpers/fake-telegram.ts`, served over HTTP',
    `from its own process) that answers every call after ${latencies} ms and enforces a global limit: more than *limit*`,
    'sending calls within a sliding second are answered with 429 and `retry_after`. Each method gets a fresh stand-in.',
    '',
    '- **Hilfenetz** (the production path): N recipients (languages cycling uk/de/ru) and a staff author in a fresh database,',
    '  `sendNotice()` with a German and a Ukrainian text (one transaction: the notice and N outbox rows), then the',
    '  background work exactly as `src/background.ts` starts it in production (`startBackgroundWork`): the `DeliveryWorker`',
    '  with `createRenderers()`, `BROADCAST_RATE` = the limit, `PAID_BROADCAST` above 30/s, its own Api without auto-retry,',
    '  one message per chat per second, with the progress job and the sweeps. The worker runs its loop (`start()`, as in',
    '  production, not the test helper `drain()`), already idle when the notice is sent and woken like the `/broadcast`',
    '  handler does; the benchmark polls the outbox until no row is pending or sending, then stops it.',
    '- **Paced sender** (the strongest simple baseline): the recipients’ chat ids in memory, no database, one',
    '  `sendMessage` every (1000 + 15) / limit ms by a fixed schedule (the same window margin as ours), as many',
    '  requests in flight as the latency needs, auto-retry for a 429; as many recipients as ours. **Wall msg/s** =',
    '  recipients / wall seconds; the targets compare ours with it in the same run. **VmHWM** = the kernel’s',
    '  high-water mark of the benchmark process’s resident set at the end of the method (it includes everything the',
    '  process did before, so it is an upper bound for the delivery).',
    '- **Baseline**: what grammY’s documentation recommends for broadcasts — a plain sequential',
    '  `for (const id of ids) await bot.api.sendMessage(id, text)` on an Api with `autoRetry()` (@grammyjs/auto-retry,',
    '  default options), the same message (HTML) a German recipient of ours gets. Each call waits for its answer, so it',
    '  is bound by the latency (about 1 / (latency + overhead) ≈ 20/s) whatever the limit; it therefore gets fewer',
    '  recipients (1,000 by default).',
    '- **Achieved rate** = (accepted messages − 1) / time from the first to the last accepted `sendMessage`, by the',
    '  stand-in’s arrival times (its own record), i.e. the rate of evenly spaced sends; *rate / limit* divides by the',
    '  enforced limit. **Lost** = recipients without a message, **duplicated** = recipients with more than one (from the',
    '  stand-in’s record, not the sender’s). **429s** = calls the stand-in refused. **Gap** = time between consecutive',
    '  accepted sends. **Busiest second** = the most accepted sends in any one-second window of the stand-in’s answer',
    '  times (where it applies the limit). **Wall** = from `sendNotice()` (or the first call) until everything is recorded',
    '  as delivered (the outbox is polled every 200 ms). **RSS** of the benchmark process (after a full GC) before the',
    '  notice and after the worker stopped, peak sampled while sending; with PGlite it includes the embedded database,',
    '  the stand-in runs in its own process and is not included.',
    `- Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'}, ${num(os.totalmem() / 1024 ** 3)} GB RAM; Node ${process.versions.node}.`,
    '  Other work may have run at the same time (see the load column below).',
    '',
    '### Results',
    '',
    ...table([...RESULT_HEADER, 'Command'], results.map((r) => [...resultRow(r, true), `\`${r.command}\``])),
    '',
    '### Targets',
    '',
    ...table(['Target', 'Measured', 'Verdict', 'Command'], targetRows(results)),
    '',
    ...(shortfallNotes(results).length ? ['Where a rate target is missed, the run’s own figures say why:', '', ...shortfallNotes(results), ''] : []),
    '### Runs',
    '',
    'Load: the 1-minute load average of the 2-core machine when sending started → ended. Span: first to last accepted message by arrival time, and the same from the stand-in’s call log (`calls[].at`, whole milliseconds).',
    '',
    ...table(['Limit', 'Method', 'Date', 'Load', 'Span', 'Stand-in', 'Details', 'Command'], runRows(results)),
    '',
    ...dataComment(DATA_MARKER, results),
    '',
  ];
  return lines.join('\n');
}

/** Writes or replaces this benchmark's section; other sections and the header stay as they are. */
export function writeSection(file: string, section: string): void {
  writeSectionIn(file, SECTION_HEADING, section);
}

/** A compact table for the terminal. */
export function renderConsole(results: MethodResult[]): string {
  const rows = ordered(results).map((r) => resultRow(r, false));
  const header = RESULT_HEADER;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const targets = targetRows(ordered(results)).map((t) => `${t[0]}: ${t[1]} → ${t[2]}`.replace(/\*/g, ''));
  const details = runRows(ordered(results)).map((r) => `${r[0]} ${r[1]}: load ${r[3]}, span ${r[4]}; ${r[5]}; ${r[6]}`);
  const notes = shortfallNotes(ordered(results)).map((n) => n.replace(/`/g, ''));
  return [line(header), ...rows.map(line), '', ...details, '', ...targets, ...(notes.length ? ['', ...notes] : [])].join('\n');
}
