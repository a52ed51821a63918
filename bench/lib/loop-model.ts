/**
 * The model behind `npm run bench:loop`, without a database: a seeded random generator, the Beta and
 * log-normal draws of the behaviour model, the simulated city (helpers, their subscriptions, the needs
 * and when they are published) and the statistics of the report (percentiles, Gini). Pure functions, so
 * that the same flags and seed give the same city and the same needs for every policy of a run.
 */
import { WHOLE_CITY } from '../../src/city';
import { localParts, zonedTime } from '../../src/domain/time';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** Everything the simulation depends on besides the code under test; every field is a flag of bench:loop. */
export interface LoopParams {
  seed: number;
  /** Days on which needs are published; the run goes on for `tailDays` more so that every need gets its chance. */
  days: number;
  tailDays: number;
  helpers: number;
  needsPerDay: number;
  subscriptionsPerHelper: number;
  /** The district with many helpers and its share of them; the district with few and its share. */
  bigDistrict: string;
  bigShare: number;
  smallDistrict: string;
  smallShare: number;
  /** Where a helper's subscription lies: their home district, the whole city, else another district. */
  homeShare: number;
  cityShare: number;
  /** Demand over the served categories is Zipf-like: weight 1 / rank^skew, in the city file's order. */
  demandSkew: number;
  /** The category nobody subscribes to, and the share of needs in it ("needs where no one subscribes"). */
  unservedCategory: string;
  unservedShare: number;
  /** A helper's willingness is drawn from Beta(alpha, beta); it decays as exp(−notifications in 7 days / fatigue). */
  betaAlpha: number;
  betaBeta: number;
  fatigue: number;
  /** The delay of an answer: log-normal with this median (ms) and sigma, from when the notification could be seen. */
  delayMedianMs: number;
  delaySigma: number;
  /** Of the notifications a helper does not answer with an offer, the share answered with "Not this time". */
  declineShare: number;
  /** The seeker's answers to the follow-up: "no" and "still in progress" shares (the rest say yes). */
  followUpNo: number;
  followUpLater: number;
  /** Local hours at which a Lotse works through the desk, and whether on Saturdays and Sundays too. */
  deskRounds: number[];
  deskWeekends: boolean;
  /** Needs are published uniformly between these local hours. */
  needsFrom: number;
  needsUntil: number;
  /** Local midnight of the first simulated day (a date, YYYY-MM-DD). */
  startDate: string;
}

/** The defaults of issue 10 (and, where the issue names none, the ones documented in BENCHMARKS.md). */
export const DEFAULT_PARAMS: LoopParams = {
  seed: 1,
  days: 28,
  tailDays: 4,
  helpers: 2000,
  needsPerDay: 150,
  subscriptionsPerHelper: 5,
  bigDistrict: 'mitte',
  bigShare: 0.3,
  smallDistrict: 'walsum',
  smallShare: 0.03,
  homeShare: 0.6,
  cityShare: 0.2,
  demandSkew: 1,
  unservedCategory: 'other',
  unservedShare: 0.1,
  betaAlpha: 2,
  betaBeta: 6,
  fatigue: 20,
  delayMedianMs: 40 * MINUTE_MS,
  delaySigma: 1,
  declineShare: 0,
  followUpNo: 0.1,
  followUpLater: 0.1,
  deskRounds: [9, 11, 13, 15, 17],
  deskWeekends: false,
  needsFrom: 8,
  needsUntil: 22,
  startDate: '2026-09-07',
};

// ---------------------------------------------------------------------------------------------------
// Random numbers

/** A 32-bit finaliser (murmur3's fmix32): every input bit affects every output bit. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * A uniform number in (0, 1) determined by the seed and a few integers only. The behaviour of helper h
 * towards need n is drawn from hashUniform(seed, h, n, …) in every policy, so that the policies differ by
 * what they do, not by luck (common random numbers).
 */
export function hashUniform(seed: number, ...keys: number[]): number {
  let h = mix32(seed ^ 0x9e3779b9);
  for (const k of keys) h = mix32(h ^ mix32((k | 0) + 0x7f4a7c15));
  return (h + 0.5) / 4_294_967_296;
}

/** A standard normal from two hashed uniforms (Box–Muller). */
export function hashNormal(seed: number, ...keys: number[]): number {
  const u1 = hashUniform(seed, ...keys, 1);
  const u2 = hashUniform(seed, ...keys, 2);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A seeded generator (mulberry32) for the sequential draws: the city and its needs. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = mix32(seed >>> 0) || 0x6d2b79f5;
  }
  /** Uniform in (0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4_294_967_296;
  }
  /** An integer in [0, n). */
  below(n: number): number {
    return Math.min(n - 1, Math.floor(this.next() * n));
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(this.next())) * Math.cos(2 * Math.PI * this.next());
  }
  /** Gamma(shape, 1) by Marsaglia and Tsang; shapes below 1 through the usual power trick. */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * this.next() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.next();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }
  /** Beta(a, b) as X / (X + Y) of two Gamma draws. */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    return x / (x + this.gamma(b));
  }
  /** An index drawn with the given (non-negative) weights. */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((s, w) => s + w, 0);
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }
  /** Fisher–Yates in place. */
  shuffle<T>(list: T[]): T[] {
    for (let i = list.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
    return list;
  }
}

/** A log-normal value with the given median from a standard normal z: median · e^(σ·z). */
export function logNormal(medianMs: number, sigma: number, z: number): number {
  return medianMs * Math.exp(sigma * z);
}

/** How likely a helper with willingness p answers a notification after `recent` notifications in 7 days. */
export function answerProbability(p: number, recent: number, fatigue: number): number {
  return p * Math.exp(-recent / fatigue);
}

// ---------------------------------------------------------------------------------------------------
// The city

/** What the model needs to know about the city (from the city file). */
export interface ModelCity {
  districts: readonly string[];
  categories: readonly string[];
  timeZone: string;
}

/** One simulated helper. */
export interface SimHelper {
  index: number;
  home: string;
  /** Willingness to answer, Beta(alpha, beta). */
  p: number;
  locale: 'uk' | 'de' | 'ru';
  subscriptions: { category: string; district: string }[];
}

/** One simulated need: when and where it is published. */
export interface SimNeed {
  index: number;
  at: number;
  category: string;
  district: string;
  locale: 'uk' | 'de' | 'ru';
}

const LOCALES = ['uk', 'de', 'ru'] as const;

/** The share of helpers living in each district: the big and the small one as given, the rest evenly. */
export function districtShares(params: Pick<LoopParams, 'bigDistrict' | 'bigShare' | 'smallDistrict' | 'smallShare'>, districts: readonly string[]): number[] {
  const others = districts.filter((d) => d !== params.bigDistrict && d !== params.smallDistrict).length;
  const rest = (1 - params.bigShare - params.smallShare) / Math.max(1, others);
  return districts.map((d) => (d === params.bigDistrict ? params.bigShare : d === params.smallDistrict ? params.smallShare : rest));
}

/** Checks the parameters against the city; throws with what is wrong. */
export function checkParams(params: LoopParams, city: ModelCity): void {
  const problems: string[] = [];
  if (!city.districts.includes(params.bigDistrict)) problems.push(`--big-district: unknown district "${params.bigDistrict}"`);
  if (!city.districts.includes(params.smallDistrict)) problems.push(`--small-district: unknown district "${params.smallDistrict}"`);
  if (params.bigDistrict === params.smallDistrict) problems.push('--big-district and --small-district must differ');
  if (params.bigShare + params.smallShare > 1) problems.push('--big-share + --small-share must be at most 1');
  if (params.homeShare + params.cityShare > 1) problems.push('--home-share + --city-share must be at most 1');
  if (!city.categories.includes(params.unservedCategory)) problems.push(`--unserved-category: unknown category "${params.unservedCategory}"`);
  const served = city.categories.length - 1;
  const cells = served * (city.districts.length + 1);
  if (params.subscriptionsPerHelper > cells) problems.push(`--subscriptions: at most ${cells} distinct cells`);
  if (params.needsFrom >= params.needsUntil) problems.push('--needs-hours: from must be before until');
  if (params.followUpNo + params.followUpLater > 1) problems.push('--follow-up-no + --follow-up-later must be at most 1');
  if (problems.length) throw new Error(problems.join('\n'));
}

/**
 * The helpers: a home district by districtShares, a willingness from Beta(alpha, beta), and
 * `subscriptionsPerHelper` distinct (category, district) subscriptions to needs — categories uniform
 * over the served ones, the district the home one, the whole city or another district.
 */
export function buildHelpers(params: LoopParams, city: ModelCity): SimHelper[] {
  const rng = new Rng(params.seed * 7919 + 1);
  const shares = districtShares(params, city.districts);
  const served = city.categories.filter((c) => c !== params.unservedCategory);
  return Array.from({ length: params.helpers }, (_, index) => {
    const home = city.districts[rng.weighted(shares)]!;
    const p = rng.beta(params.betaAlpha, params.betaBeta);
    const seen = new Set<string>();
    const subscriptions: SimHelper['subscriptions'] = [];
    while (subscriptions.length < params.subscriptionsPerHelper) {
      const category = served[rng.below(served.length)]!;
      const r = rng.next();
      const others = city.districts.filter((d) => d !== home);
      const district = r < params.homeShare ? home : r < params.homeShare + params.cityShare || others.length === 0 ? WHOLE_CITY : others[rng.below(others.length)]!;
      const key = `${category}/${district}`;
      if (seen.has(key)) continue;
      seen.add(key);
      subscriptions.push({ category, district });
    }
    return { index, home, p, locale: LOCALES[index % 3]!, subscriptions };
  });
}

/** Demand weights over the city's categories: the unserved one gets its share, the rest Zipf-like. */
export function demandWeights(params: Pick<LoopParams, 'unservedCategory' | 'unservedShare' | 'demandSkew'>, categories: readonly string[]): number[] {
  const served = categories.filter((c) => c !== params.unservedCategory);
  const zipf = served.map((_, rank) => 1 / (rank + 1) ** params.demandSkew);
  const total = zipf.reduce((s, w) => s + w, 0);
  return categories.map((c) => (c === params.unservedCategory ? params.unservedShare : ((1 - params.unservedShare) * zipf[served.indexOf(c)]!) / total));
}

/** Local midnight of the first simulated day. */
export function simulationStart(params: Pick<LoopParams, 'startDate'>, timeZone: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(params.startDate);
  if (!m) throw new Error(`--start expects YYYY-MM-DD, got "${params.startDate}"`);
  return zonedTime(Number(m[1]), Number(m[2]), Number(m[3]), 0, timeZone);
}

/** Adds whole local days (DST-safe): local midnight `days` after `start`'s local midnight. */
function localMidnightAfter(start: Date, days: number, timeZone: string): Date {
  const p = localParts(new Date(start.getTime() + days * DAY_MS + 12 * 3_600_000), timeZone);
  return zonedTime(p.year, p.month, p.day, 0, timeZone);
}

/**
 * The needs of the run, in publishing order: `needsPerDay` a day, uniformly between the local hours
 * needsFrom and needsUntil, a category by demandWeights, a district uniformly.
 */
export function planNeeds(params: LoopParams, city: ModelCity): SimNeed[] {
  const rng = new Rng(params.seed * 104_729 + 2);
  const weights = demandWeights(params, city.categories);
  const start = simulationStart(params, city.timeZone);
  const needs: Omit<SimNeed, 'index'>[] = [];
  for (let day = 0; day < params.days; day++) {
    const midnight = localMidnightAfter(start, day, city.timeZone);
    const p = localParts(midnight, city.timeZone);
    for (let k = 0; k < params.needsPerDay; k++) {
      const minutes = params.needsFrom * 60 + rng.next() * (params.needsUntil - params.needsFrom) * 60;
      const at = zonedTime(p.year, p.month, p.day, Math.floor(minutes), city.timeZone).getTime() + Math.floor((minutes % 1) * MINUTE_MS);
      needs.push({ at, category: city.categories[rng.weighted(weights)]!, district: city.districts[rng.below(city.districts.length)]!, locale: LOCALES[rng.below(3)]! });
    }
  }
  return needs.sort((a, b) => a.at - b.at).map((n, index) => ({ ...n, index }));
}

/**
 * The next time at or after `t` when a Lotse works through the desk: one of the local hours `rounds`,
 * on weekdays (and at weekends with `weekends`).
 */
export function nextDeskRound(t: number, params: Pick<LoopParams, 'deskRounds' | 'deskWeekends'>, timeZone: string): number {
  const hours = [...params.deskRounds].sort((a, b) => a - b);
  if (hours.length === 0) return Number.POSITIVE_INFINITY;
  for (let day = 0; day < 8; day++) {
    const p = localParts(new Date(t + day * DAY_MS), timeZone);
    const weekday = new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay();
    if (!params.deskWeekends && (weekday === 0 || weekday === 6)) continue;
    for (const h of hours) {
      const at = zonedTime(p.year, p.month, p.day, Math.round(h * 60), timeZone).getTime();
      if (at >= t) return at;
    }
  }
  return Number.POSITIVE_INFINITY;
}

// ---------------------------------------------------------------------------------------------------
// Statistics

/** The p-quantile (0..1) with linear interpolation, as PostgreSQL's percentile_cont; null for none. */
export function quantile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** The Gini coefficient of non-negative values: 0 when all are equal, towards 1 when one has everything. */
export function gini(values: readonly number[]): number {
  const n = values.length;
  const total = values.reduce((s, v) => s + v, 0);
  if (n === 0 || total === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  // G = Σ (2i − n − 1) x_i / (n Σ x), i = 1..n over ascending values.
  let weighted = 0;
  sorted.forEach((x, i) => (weighted += (2 * (i + 1) - n - 1) * x));
  return weighted / (n * total);
}

/** The mean of a list (NaN for none). */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((s, v) => s + v, 0) / values.length;
}
