/** One measured publication: how long it took and how many people it reached. */
export interface Sample {
  ms: number;
  recipients: number;
  wholeCity: boolean;
}

/** What a benchmark reports about a set of samples. */
export interface Summary {
  posts: number;
  p50: number;
  p99: number;
  max: number;
  meanRecipients: number;
  /** Total time over total recipients, in microseconds. */
  usPerRecipient: number;
}

/** The nearest-rank percentile (p in 0..100) of unsorted values; NaN for an empty list. */
/** The largest and smallest of many values (spreading 100,000 values into Math.max overflows the stack). */
export function maxOf(values: readonly number[]): number {
  let max = Number.NaN;
  for (const v of values) if (!(v <= max)) max = v;
  return max;
}
export function minOf(values: readonly number[]): number {
  let min = Number.NaN;
  for (const v of values) if (!(v >= min)) min = v;
  return min;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** p50/p99/max per post, mean recipients, and the cost per recipient of a set of samples. */
export function summarise(samples: readonly Sample[]): Summary {
  const ms = samples.map((s) => s.ms);
  const recipients = sum(samples.map((s) => s.recipients));
  return {
    posts: samples.length,
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    max: maxOf(ms),
    meanRecipients: samples.length ? recipients / samples.length : Number.NaN,
    usPerRecipient: recipients ? (sum(ms) * 1000) / recipients : Number.NaN,
  };
}

/** A least-squares line ms = fixedMs + usPerRecipient·recipients/1000: the fixed and the marginal cost of a post. */
export function fitLine(samples: readonly Sample[]): { fixedMs: number; marginalUs: number } {
  const n = samples.length;
  if (n < 2) return { fixedMs: Number.NaN, marginalUs: Number.NaN };
  const mx = sum(samples.map((s) => s.recipients)) / n;
  const my = sum(samples.map((s) => s.ms)) / n;
  const sxy = sum(samples.map((s) => (s.recipients - mx) * (s.ms - my)));
  const sxx = sum(samples.map((s) => (s.recipients - mx) ** 2));
  if (sxx === 0) return { fixedMs: Number.NaN, marginalUs: Number.NaN };
  const slope = sxy / sxx;
  return { fixedMs: my - slope * mx, marginalUs: slope * 1000 };
}
