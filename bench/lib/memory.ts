import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Resident set and JavaScript heap, in MiB. */
export interface MemorySnapshot {
  rssMb: number;
  heapMb: number;
}

/** Memory of one phase: settled before and after (after a full GC), and the highest seen in between. */
export interface MemoryReport {
  before: MemorySnapshot;
  after: MemorySnapshot;
  peak: MemorySnapshot;
}

// `npm run bench:match` runs plain tsx, without --expose-gc; the flag can still be set at run time and
// the gc function fetched from a fresh context.
setFlagsFromString('--expose_gc');
const collect = runInNewContext('gc') as () => void;

const MB = 1024 * 1024;

function snapshot(): MemorySnapshot {
  const m = process.memoryUsage();
  return { rssMb: m.rss / MB, heapMb: m.heapUsed / MB };
}

/** Tracks the memory of a phase; call sample() after each step, finish() at the end. */
export class MemoryTracker {
  private readonly before: MemorySnapshot;
  private peak: MemorySnapshot;

  constructor() {
    collect();
    this.before = snapshot();
    this.peak = { ...this.before };
  }

  sample(): void {
    const now = snapshot();
    this.peak = { rssMb: Math.max(this.peak.rssMb, now.rssMb), heapMb: Math.max(this.peak.heapMb, now.heapMb) };
  }

  finish(): MemoryReport {
    this.sample();
    collect();
    return { before: this.before, after: snapshot(), peak: this.peak };
  }
}
