import { loadCity, WHOLE_CITY } from '../../src/city';
import { localParts } from '../../src/domain/time';
import {
  answerProbability,
  buildHelpers,
  DEFAULT_PARAMS,
  demandWeights,
  gini,
  hashNormal,
  hashUniform,
  type LoopParams,
  logNormal,
  mean,
  nextDeskRound,
  planNeeds,
  quantile,
  Rng,
} from '../../bench/lib/loop-model';

const cityData = loadCity();
const city = { districts: cityData.districts.map((d) => d.key), categories: cityData.categories.map((c) => c.key), timeZone: cityData.timezone };
const params = (over: Partial<LoopParams> = {}): LoopParams => ({ ...DEFAULT_PARAMS, ...over });

describe('the statistics of bench:loop', () => {
  it('draws Beta(2, 6) with mean 0.25 and the matching variance', () => {
    const rng = new Rng(42);
    const draws = Array.from({ length: 40_000 }, () => rng.beta(2, 6));
    const m = mean(draws);
    const variance = mean(draws.map((x) => (x - m) ** 2));
    expect(m).toBeGreaterThan(0.245);
    expect(m).toBeLessThan(0.255);
    // a·b / ((a+b)² (a+b+1)) = 12 / 576
    expect(variance).toBeGreaterThan(0.0195);
    expect(variance).toBeLessThan(0.022);
    expect(Math.min(...draws)).toBeGreaterThan(0);
    expect(Math.max(...draws)).toBeLessThan(1);
  });

  it('draws a non-integer Beta too (the gamma draw below shape 1)', () => {
    const rng = new Rng(7);
    const m = mean(Array.from({ length: 40_000 }, () => rng.beta(0.5, 1.5)));
    expect(m).toBeGreaterThan(0.24);
    expect(m).toBeLessThan(0.26);
  });

  it('gives log-normal delays with the configured median, from seeded and from hashed normals', () => {
    const rng = new Rng(3);
    const median = 40 * 60_000;
    const seeded = Array.from({ length: 20_001 }, () => logNormal(median, 1, rng.normal()));
    expect(quantile(seeded, 0.5)! / median).toBeGreaterThan(0.96);
    expect(quantile(seeded, 0.5)! / median).toBeLessThan(1.04);
    // σ = 1: the 84th percentile is e ≈ 2.72 times the median.
    expect(quantile(seeded, 0.8413)! / median).toBeGreaterThan(2.55);
    expect(quantile(seeded, 0.8413)! / median).toBeLessThan(2.9);
    const hashed = Array.from({ length: 20_001 }, (_, i) => logNormal(median, 1, hashNormal(9, 2, i, 5)));
    expect(quantile(hashed, 0.5)! / median).toBeGreaterThan(0.96);
    expect(quantile(hashed, 0.5)! / median).toBeLessThan(1.04);
  });

  it('hashes to the same uniform for the same keys and spreads different keys evenly', () => {
    expect(hashUniform(1, 5, 7)).toBe(hashUniform(1, 5, 7));
    expect(hashUniform(1, 5, 7)).not.toBe(hashUniform(1, 7, 5));
    expect(hashUniform(1, 5, 7)).not.toBe(hashUniform(2, 5, 7));
    const u = Array.from({ length: 50_000 }, (_, i) => hashUniform(11, 1, i, 3));
    expect(mean(u)).toBeGreaterThan(0.495);
    expect(mean(u)).toBeLessThan(0.505);
    expect(u.filter((x) => x < 0.1).length / u.length).toBeGreaterThan(0.095);
    expect(u.filter((x) => x < 0.1).length / u.length).toBeLessThan(0.105);
  });

  it('lowers the answer probability with the notifications of the last week', () => {
    expect(answerProbability(0.25, 0, 20)).toBeCloseTo(0.25);
    expect(answerProbability(0.25, 20, 20)).toBeCloseTo(0.25 / Math.E);
    expect(answerProbability(0.25, 140, 20)).toBeLessThan(0.001);
  });

  it('computes the Gini coefficient of known inputs', () => {
    expect(gini([3, 3, 3, 3])).toBe(0);
    expect(gini([0, 0, 0, 1])).toBeCloseTo(0.75);
    expect(gini([1, 2, 3, 4])).toBeCloseTo(0.25);
    expect(gini([4, 1, 3, 2])).toBeCloseTo(0.25);
    expect(gini([])).toBe(0);
    expect(gini([0, 0])).toBe(0);
  });

  it('interpolates quantiles like percentile_cont', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.9)).toBeCloseTo(3.7);
    expect(quantile([5], 0.99)).toBe(5);
    expect(quantile([], 0.5)).toBeNull();
  });
});

describe('the simulated city of bench:loop', () => {
  it('is the same for the same seed and different for another', () => {
    const p = params({ helpers: 300, days: 2, needsPerDay: 40 });
    expect(buildHelpers(p, city)).toEqual(buildHelpers(p, city));
    expect(planNeeds(p, city)).toEqual(planNeeds(p, city));
    expect(buildHelpers({ ...p, seed: 2 }, city)).not.toEqual(buildHelpers(p, city));
    expect(planNeeds({ ...p, seed: 2 }, city)).not.toEqual(planNeeds(p, city));
  });

  it('spreads the helpers unevenly, five distinct subscriptions each, none to the unserved category', () => {
    const helpers = buildHelpers(params({ helpers: 4000 }), city);
    const share = (d: string) => helpers.filter((h) => h.home === d).length / helpers.length;
    expect(share('mitte')).toBeGreaterThan(0.28);
    expect(share('mitte')).toBeLessThan(0.32);
    expect(share('walsum')).toBeGreaterThan(0.02);
    expect(share('walsum')).toBeLessThan(0.04);
    for (const h of helpers) {
      expect(h.subscriptions).toHaveLength(5);
      expect(new Set(h.subscriptions.map((s) => `${s.category}/${s.district}`)).size).toBe(5);
      expect(h.subscriptions.some((s) => s.category === 'other')).toBe(false);
    }
    const subs = helpers.flatMap((h) => h.subscriptions.map((s) => ({ ...s, home: h.home })));
    expect(subs.filter((s) => s.district === WHOLE_CITY).length / subs.length).toBeGreaterThan(0.15);
    expect(subs.filter((s) => s.district === s.home).length / subs.length).toBeGreaterThan(0.5);
    expect(mean(helpers.map((h) => h.p))).toBeGreaterThan(0.23);
    expect(mean(helpers.map((h) => h.p))).toBeLessThan(0.27);
  });

  it('publishes the needs per day within the hours, 10 % unserved, demand skewed towards the first categories', () => {
    const p = params({ days: 7, needsPerDay: 150 });
    const needs = planNeeds(p, city);
    expect(needs).toHaveLength(1050);
    expect(needs.map((n) => n.at)).toEqual([...needs.map((n) => n.at)].sort((a, b) => a - b));
    for (const n of needs) {
      const local = localParts(new Date(n.at), city.timeZone);
      expect(local.hour).toBeGreaterThanOrEqual(8);
      expect(local.hour).toBeLessThan(22);
    }
    const share = (c: string) => needs.filter((n) => n.category === c).length / needs.length;
    expect(share('other')).toBeGreaterThan(0.07);
    expect(share('other')).toBeLessThan(0.13);
    expect(share('housing')).toBeGreaterThan(3 * share('pets'));
    const weights = demandWeights(p, city.categories);
    expect(weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1);
    expect(weights[city.categories.indexOf('housing')]).toBeGreaterThan(weights[city.categories.indexOf('family')]!);
  });

  it('works the desk on weekdays at the round hours (Friday evening waits for Monday)', () => {
    const tz = city.timeZone;
    // 2026-09-11 is a Friday.
    const fridayEvening = new Date('2026-09-11T18:30:00+02:00').getTime();
    expect(new Date(nextDeskRound(fridayEvening, DEFAULT_PARAMS, tz)).toISOString()).toBe(new Date('2026-09-14T09:00:00+02:00').toISOString());
    expect(new Date(nextDeskRound(fridayEvening, { ...DEFAULT_PARAMS, deskWeekends: true }, tz)).toISOString()).toBe(new Date('2026-09-12T09:00:00+02:00').toISOString());
    const tuesdayMorning = new Date('2026-09-08T09:30:00+02:00').getTime();
    expect(new Date(nextDeskRound(tuesdayMorning, DEFAULT_PARAMS, tz)).toISOString()).toBe(new Date('2026-09-08T11:00:00+02:00').toISOString());
  });
});
