import { readFileSync } from 'node:fs';

/** Resident set (VmRSS) and its high-water mark since the process started (VmHWM), in MiB. */
export interface ProcMemory {
  rssMb: number;
  hwmMb: number;
}

/** Another process's memory as the kernel counts it (Linux /proc), or undefined once it has exited. */
export function readProcMemory(pid: number): ProcMemory | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** Samples another process's VmRSS/VmHWM at a fixed interval, with the time of each sample. */
export class ProcMemorySampler {
  readonly samples: (ProcMemory & { at: number })[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): (ProcMemory & { at: number }) | undefined {
    const memory = readProcMemory(this.pid);
    if (!memory) return undefined;
    const sample = { ...memory, at: performance.now() };
    this.samples.push(sample);
    return sample;
  }

  /** The highest VmRSS sampled from `from` (performance.now() time) on. */
  peakSince(from: number): number {
    return this.samples.filter((s) => s.at >= from).reduce((peak, s) => (Number.isNaN(peak) || s.rssMb > peak ? s.rssMb : peak), Number.NaN);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
