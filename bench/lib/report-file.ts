import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** The top of BENCHMARKS.md when a benchmark creates the file. */
const FILE_HEADER = [
  '# Benchmarks',
  '',
  'Figures from the development machine (2 cores). Each table comes from one run of the command next to it;',
  'where there is a baseline it was measured in the same run on the same data, so compare against it rather',
  'than across runs (other work may have been running on the machine). To reproduce, run the command shown;',
  'PostgreSQL benchmarks need the server on 127.0.0.1:5432 (user postgres) or `BENCH_DATABASE_URL`.',
  '',
].join('\n');

/** A Markdown table. */
export function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/** The hidden comment that keeps a section's raw results, so that a partial run only replaces its own cases. */
export function dataComment(marker: string, results: unknown[]): string[] {
  return [`<!-- ${marker}`, JSON.stringify(results), '-->'];
}

/** The raw results a section recorded in `file` (see dataComment), or none. */
export function readRecorded<T>(file: string, marker: string): T[] {
  if (!existsSync(file)) return [];
  const match = new RegExp(`<!-- ${marker}\\n([\\s\\S]*?)\\n-->`).exec(readFileSync(file, 'utf8'));
  if (!match?.[1]) return [];
  try {
    return JSON.parse(match[1]) as T[];
  } catch {
    return [];
  }
}

/** Writes or replaces the section under `heading` in `file`, leaving the rest of the file as it is. */
export function writeSection(file: string, heading: string, section: string): void {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : FILE_HEADER;
  const start = current.indexOf(heading);
  if (start < 0) {
    writeFileSync(file, `${current.trimEnd()}\n\n${section}`);
    return;
  }
  const next = current.indexOf('\n## ', start + heading.length);
  const rest = next < 0 ? '' : current.slice(next + 1);
  writeFileSync(file, `${current.slice(0, start)}${section}${rest ? `\n${rest}` : ''}`);
}
