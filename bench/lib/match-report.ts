import type { Driver } from './database';
import type { MemoryReport } from './memory';
import { dataComment, readRecorded as readRecordedIn, table, writeSection as writeSectionIn } from './report-file';
import type { MatchResult } from './match-run';
import type { Summary } from './stats';

/** The heading of the section this benchmark owns in BENCHMARKS.md. */
export const SECTION_HEADING = '## Matcher (`npm run bench:match`)';
const DATA_MARKER = 'bench-match-data';

/** The targets from the issue. */
export const TARGETS = { perRecipientRatio: 1.5, p99UpTo1000Ms: 5, around10kMs: 250 } as const;

/** The machine a run was made on, for the record. */
export interface Machine {
  cpus: string;
  memoryGb: number;
  node: string;
  postgres: string;
  pglite: string;
}

const DRIVER_NAME: Record<Driver, string> = { postgres: 'PostgreSQL', pglite: 'PGlite' };

function ms(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return value < 10 ? value.toFixed(2) : value < 1000 ? value.toFixed(1) : value.toFixed(0);
}

function num(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function caseName(r: Pick<MatchResult, 'driver' | 'helpers'>): string {
  return `${DRIVER_NAME[r.driver]}, ${num(r.helpers)} helpers`;
}

function summaryCells(s: Summary): string[] {
  return [num(s.posts), ms(s.p50), ms(s.p99), ms(s.max), num(s.meanRecipients), num(s.usPerRecipient, 1)];
}

function memoryCell(m: MemoryReport, key: 'rssMb' | 'heapMb'): string {
  return `${num(m.before[key])} → ${num(m.after[key])} (peak ${num(m.peak[key])})`;
}

function loadCell(r: MatchResult): string {
  return r.load ? `${r.load.start.toFixed(1)} → ${r.load.end.toFixed(1)}` : '–';
}

function resultRows(results: MatchResult[]): string[][] {
  return results.flatMap((r) => [
    [caseName(r), '**publishPost → routePost** (one statement)', ...summaryCells(r.ours.all), `\`${r.command}\``],
    [caseName(r), 'publishPost, the baseline’s posts only', ...summaryCells(r.ours.samePosts), `\`${r.command}\``],
    [caseName(r), 'naive baseline (all subscriptions → JS)', ...summaryCells(r.baseline.all), `\`${r.command}\``],
  ]);
}

function runRows(results: MatchResult[]): string[][] {
  return results.map((r) => [caseName(r), r.date, `${r.seedSeconds.toFixed(1)} s`, num(r.warmup), loadCell(r), `\`${r.command}\``]);
}

function subsetRows(results: MatchResult[]): string[][] {
  const pp = (s: Summary) => (s.posts ? `${num(s.posts)}: ${ms(s.p50)} / ${ms(s.p99)} / ${ms(s.max)} (${num(s.meanRecipients)} rec.)` : '–');
  return results.map((r) => [
    caseName(r),
    pp(r.ours.district),
    pp(r.ours.wholeCity),
    pp(r.ours.upTo1000),
    pp(r.ours.around10k),
    `${ms(r.ours.fit.fixedMs)} ms + ${num(r.ours.fit.marginalUs, 1)} µs × recipients`,
    `${r.checks.rowsMatch ? 'yes' : '**no**'} / ${r.checks.baselineAgrees ? 'yes' : '**no**'}`,
  ]);
}

function breakdownRows(results: MatchResult[]): string[][] {
  return results
    .filter((r) => r.breakdown !== undefined)
    .map((r) => {
      const b = r.breakdown;
      return [
        caseName(r),
        num(b.route.posts),
        `${ms(b.before.p50)} / ${ms(b.before.p99)}`,
        `${ms(b.route.p50)} / ${ms(b.route.p99)}`,
        num(b.route.usPerRecipient, 1),
        b.routeUpTo1000.posts ? `${num(b.routeUpTo1000.posts)}: ${ms(b.routeUpTo1000.p50)} / ${ms(b.routeUpTo1000.p99)}` : '–',
        `${ms(b.commit.p50)} / ${ms(b.commit.p99)}`,
      ];
    });
}

function memoryRows(results: MatchResult[]): string[][] {
  return results.flatMap((r) => [
    [caseName(r), 'routePost', memoryCell(r.ours.memory, 'rssMb'), memoryCell(r.ours.memory, 'heapMb')],
    [caseName(r), 'naive baseline', memoryCell(r.baseline.memory, 'rssMb'), memoryCell(r.baseline.memory, 'heapMb')],
  ]);
}

function verdict(ok: boolean | undefined): string {
  return ok === undefined ? 'not measured' : ok ? '**met**' : '**not met**';
}

function targetRows(results: MatchResult[]): string[][] {
  const find = (driver: Driver, helpers: number) => results.find((r) => r.driver === driver && r.helpers === helpers);
  const rows: string[][] = [];
  for (const driver of ['postgres', 'pglite'] as const) {
    const small = find(driver, 10_000);
    const large = find(driver, 100_000);
    if (small && large) {
      const ratio = large.ours.all.usPerRecipient / small.ours.all.usPerRecipient;
      rows.push([
        `${DRIVER_NAME[driver]}: µs per recipient at 100k ≤ ${TARGETS.perRecipientRatio}× that at 10k`,
        `${num(large.ours.all.usPerRecipient, 1)} / ${num(small.ours.all.usPerRecipient, 1)} µs = ${ratio.toFixed(2)}×`,
        verdict(ratio <= TARGETS.perRecipientRatio),
      ]);
    }
    if (small) {
      const p99 = small.ours.upTo1000.p99;
      const alone = small.breakdown?.routeUpTo1000;
      const aloneText = alone?.posts ? `; routePost’s statement alone: p99 ${ms(alone.p99)} ms over ${num(alone.posts)} posts` : '';
      rows.push([
        `${DRIVER_NAME[driver]}: p99 ≤ ${TARGETS.p99UpTo1000Ms} ms for posts with ≤ 1,000 recipients (10k helpers)`,
        `publishPost end to end: p99 ${ms(p99)} ms over ${num(small.ours.upTo1000.posts)} posts (${(p99 / TARGETS.p99UpTo1000Ms).toFixed(2)}× the target)${aloneText}`,
        verdict(small.ours.upTo1000.posts ? p99 <= TARGETS.p99UpTo1000Ms : undefined),
      ]);
    }
    if (large && driver === 'postgres') {
      const s = large.ours.around10k;
      rows.push([
        `PostgreSQL: a post with ~10,000 recipients routed end to end in ≤ ${TARGETS.around10kMs} ms`,
        `9,000–11,000 recipients: p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)} ms over ${num(s.posts)} posts (p99 = ${(s.p99 / TARGETS.around10kMs).toFixed(2)}× the target)`,
        verdict(s.posts ? s.p99 <= TARGETS.around10kMs : undefined),
      ]);
    }
  }
  return rows;
}

/** The results already recorded in BENCHMARKS.md, so that a partial run only replaces its own cases. */
export function readRecorded(file: string): MatchResult[] {
  return readRecordedIn<MatchResult>(file, DATA_MARKER);
}

/** Newer results replace recorded ones of the same driver and size; the order is driver, then size. */
export function mergeResults<T extends Pick<MatchResult, 'driver' | 'helpers'>>(recorded: T[], fresh: T[]): T[] {
  const key = (r: T) => `${r.driver}/${r.helpers}`;
  const merged = new Map(recorded.map((r) => [key(r), r]));
  for (const r of fresh) merged.set(key(r), r);
  const order: Driver[] = ['postgres', 'pglite'];
  return [...merged.values()].sort((a, b) => order.indexOf(a.driver) - order.indexOf(b.driver) || a.helpers - b.helpers);
}

/** The day needs began to go out in waves from the rank index (migration 0015). */
const WAVES_LANDED = '2026-12-06';

/** Said above figures measured before WAVES_LANDED: what they no longer describe, and where to look instead. */
function beforeWavesNote(): string[] {
  return [
    '',
    `**Figures dated before ${WAVES_LANDED}** were measured when a need went to everyone it matched. Since migration 0015`,
    'a need goes out in waves of `WAVE_SIZE` helpers read from the rank index: that is what production runs and',
    'what "Matcher: first wave" measures. This benchmark now routes each need through one wave larger than any',
    'candidate list, which reads every recipient through the rank index and lists them for the catch-up: a dry run',
    'on 2026-12-06 (10,000 helpers, 100 posts, load 2.2) gave publishPost p50 80.9 ms against the 15.3 ms below.',
    'Offers still go to everyone they match (`routePost`; ~630 recipients at 100,000 helpers: p50 13.3 ms). A run',
    'of this benchmark replaces the dated rows of its cases.',
  ];
}

/** The Markdown section for BENCHMARKS.md. */
export function renderSection(results: MatchResult[], machine: Machine): string {
  return [
    SECTION_HEADING,
    '',
    'Routing a published need: `publishPost()` exactly as production calls it — one transaction that takes the',
    'author’s lock, checks the limits and duplicates, inserts the post and runs `routePost()` (one statement: find',
    'the recipients, insert `notifications` … `on conflict do nothing returning`, insert one `outbox` row each),',
    'timed from the call to its commit in the Node process. The naive baseline does the same transaction but loads',
    'all subscriptions with their users’ columns into JavaScript, filters them there, and writes the same',
    'notification and outbox rows (`unnest` of arrays, two statements). It runs in the same process on the same',
    'database right after routePost, on the first N of the same planned posts (fewer, because it is slow).',
    '',
    `- Machine: ${machine.cpus}, ${machine.memoryGb} GB RAM; Node ${machine.node}; PostgreSQL ${machine.postgres} (local server,`,
    `  default settings, fsync on); PGlite ${machine.pglite} (in memory). Other work may have run at the same time.`,
    '- Data: helpers with five distinct `need` subscriptions each, uniform over 12 categories × 8 districts (the',
    '  7 Duisburg districts + `*`), hashed deterministically; set-based seeding, then `vacuum analyze`. Needs: uniform',
    '  category, one of the 7 districts, 1 in 8 for the whole city (`*`), the same sequence for every case; each',
    '  by its own fresh seeker (so the limits never interfere), quiet hours 22:00–07:00 with the clock at 10:00.',
    '- `notifications` and `outbox` are **not** truncated between posts: they grow over the run as in production.',
    '  20 warm-up posts (and 2 for the baseline) are not counted. µs/recipient = total time / total recipients.',
    '- PGlite from 100k helpers on publishes at most 200 needs (`--pglite-max-posts`, default 200): in-memory PGlite',
    '  keeps every row inside the benchmark process (~2.2 GB more RSS per 200 needs of ~14,000 recipients each);',
    '  a run with 1,000 needs was past 5.4 GB RSS after about three minutes and was stopped. Its 100k figures',
    '  therefore come from smaller `notifications`/`outbox` tables than the 10k ones.',
    ...(results.some((r) => r.date < WAVES_LANDED) ? beforeWavesNote() : []),
    '',
    '### Results',
    '',
    ...table(['Case', 'Method', 'Posts', 'p50 ms', 'p99 ms', 'max ms', 'Recipients/post', 'µs/recipient', 'Command'], resultRows(results)),
    '',
    'Runs (load: the 1-minute load average of the 2-core machine when publishing started → ended):',
    '',
    ...table(['Case', 'Date', 'Seeding', 'Warm-up posts', 'Load', 'Command'], runRows(results)),
    '',
    '### publishPost by kind of post',
    '',
    'Each cell: posts: p50 / p99 / max ms (mean recipients). The line is a least-squares fit of time against',
    'recipients over all posts: the fixed cost of publishing and the marginal cost of one more recipient.',
    '',
    ...table(
      ['Case', 'District posts', 'Whole-city posts', '≤ 1,000 recipients', '9,000–11,000 recipients', 'Fit', 'Rows = recipients / baseline agrees'],
      subsetRows(results),
    ),
    '',
    '### Where the time of a post goes',
    '',
    'The first posts of the same sequence published once more, each part timed on its own: BEGIN, the author’s',
    'lock, the checks and the post insert (the same queries as publishPost); routePost’s one statement; the',
    'commit. Cells: p50 / p99 ms.',
    '',
    ...table(['Case', 'Posts', 'Before routing', 'routePost statement', 'routePost µs/recipient', 'routePost, ≤ 1,000 recipients', 'Commit'], breakdownRows(results)),
    '',
    '### Memory of the benchmark process (MiB)',
    '',
    'Before and after each phase (after a full GC), and the peak sampled after every post. For PGlite the RSS',
    'includes the embedded database itself.',
    '',
    ...table(['Case', 'Method', 'RSS', 'JS heap'], memoryRows(results)),
    '',
    '### Targets',
    '',
    ...table(['Target', 'Measured', 'Verdict'], targetRows(results)),
    '',
    ...dataComment(DATA_MARKER, results),
    '',
  ].join('\n');
}

/** Writes or replaces this benchmark's section of BENCHMARKS.md, leaving the rest of the file as it is. */
export function writeSection(file: string, section: string): void {
  writeSectionIn(file, SECTION_HEADING, section);
}

/** A compact table for the terminal. */
export function renderConsole(results: MatchResult[]): string {
  const rows = results.flatMap((r) => [
    [caseName(r), 'publishPost', ...summaryCells(r.ours.all)],
    [caseName(r), '  same posts', ...summaryCells(r.ours.samePosts)],
    [caseName(r), 'baseline', ...summaryCells(r.baseline.all)],
  ]);
  const header = ['case', 'method', 'posts', 'p50 ms', 'p99 ms', 'max ms', 'rec/post', 'µs/rec'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const extra = results.map(
    (r) =>
      `${caseName(r)}: load ${loadCell(r)}; memory RSS ${memoryCell(r.ours.memory, 'rssMb')} / baseline ${memoryCell(r.baseline.memory, 'rssMb')}; ≤1,000 rec. p99 ${ms(r.ours.upTo1000.p99)} ms (${r.ours.upTo1000.posts} posts); 9k–11k rec. p50/p99 ${ms(r.ours.around10k.p50)}/${ms(r.ours.around10k.p99)} ms (${r.ours.around10k.posts} posts); whole city p99 ${ms(r.ours.wholeCity.p99)} ms; fit ${ms(r.ours.fit.fixedMs)} ms + ${num(r.ours.fit.marginalUs, 1)} µs/rec; parts p50 before/route/commit ${ms(r.breakdown.before.p50)}/${ms(r.breakdown.route.p50)}/${ms(r.breakdown.commit.p50)} ms, route alone ≤1,000 rec. p99 ${ms(r.breakdown.routeUpTo1000.p99)} ms; checks ${r.checks.rowsMatch && r.checks.baselineAgrees ? 'ok' : 'FAILED'}`,
  );
  const targets = targetRows(results).map((t) => `${t[0]}: ${t[1]} → ${t[2]?.replace(/\*/g, '')}`);
  return [line(header), ...rows.map(line), '', ...extra, '', ...targets].join('\n');
}
