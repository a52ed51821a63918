/**
 * What `npm run bench:loop` reports: per policy the outcome for the needs (offers within 24 h and 72 h,
 * time to the first offer, the desk, needs nobody answered) and the helpers' load (notifications per
 * helper per week, its Gini coefficient), the targets of issue 10 for policy 3, and the Markdown section
 * of BENCHMARKS.md.
 */
import { table } from './report-file';
import { gini, mean, quantile } from './loop-model';
import { POLICY_NAMES, type PolicyId, type PolicyRun } from './loop-run';

const HOUR_MS = 3_600_000;

/** The figures of one policy. */
export interface PolicySummary {
  policy: PolicyId;
  needs: number;
  /** Shares (0..1) of all needs with a helper's offer of help within 24 h and 72 h of publishing. */
  offer24h: number;
  offer72h: number;
  /** Shares with a human answer — a helper's offer or a Lotse taking or referring it — within 24 h and 72 h. */
  answered24h: number;
  answered72h: number;
  /** Time from publishing to the first offer of help, over the needs that got one. */
  medianFirstOfferMs: number | null;
  p90FirstOfferMs: number | null;
  /** Share of needs that reached the Lotsen desk. */
  deskShare: number;
  /** Needs answered by neither a helper nor a Lotse by the end of the run. */
  noHumanAnswer: number;
  /** Helpers told per need (mean). */
  toldPerNeed: number;
  /** Notifications per helper per week over all helper-weeks: median, p99, max; Gini of the helpers' totals. */
  loadMedian: number;
  loadP99: number;
  loadMax: number;
  gini: number;
  /** Needs fulfilled after the follow-up, and closed as referred by the desk. */
  fulfilled: number;
  referred: number;
  wallMs: number;
}

function within(at: number | null, from: number, hours: number): boolean {
  return at !== null && at - from <= hours * HOUR_MS;
}

/** The figures of one policy run. */
export function summarise(run: PolicyRun): PolicySummary {
  const n = run.needs.length;
  const share = (count: number) => (n === 0 ? 0 : count / n);
  const answerAt = (o: PolicyRun['needs'][number]) =>
    o.firstOfferAt === null ? o.deskAnswerAt : o.deskAnswerAt === null ? o.firstOfferAt : Math.min(o.firstOfferAt, o.deskAnswerAt);
  const waits = run.needs.filter((o) => o.firstOfferAt !== null).map((o) => o.firstOfferAt! - o.publishedAt);
  const weekly = run.helperWeeks.flat();
  const totals = run.helperWeeks.map((w) => w.reduce((s, x) => s + x, 0));
  return {
    policy: run.policy,
    needs: n,
    offer24h: share(run.needs.filter((o) => within(o.firstOfferAt, o.publishedAt, 24)).length),
    offer72h: share(run.needs.filter((o) => within(o.firstOfferAt, o.publishedAt, 72)).length),
    answered24h: share(run.needs.filter((o) => within(answerAt(o), o.publishedAt, 24)).length),
    answered72h: share(run.needs.filter((o) => within(answerAt(o), o.publishedAt, 72)).length),
    medianFirstOfferMs: quantile(waits, 0.5),
    p90FirstOfferMs: quantile(waits, 0.9),
    deskShare: share(run.needs.filter((o) => o.deskAt !== null).length),
    noHumanAnswer: run.needs.filter((o) => answerAt(o) === null).length,
    toldPerNeed: mean(run.needs.map((o) => o.told)),
    loadMedian: quantile(weekly, 0.5) ?? 0,
    loadP99: quantile(weekly, 0.99) ?? 0,
    loadMax: weekly.length ? Math.max(...weekly) : 0,
    gini: gini(totals),
    fulfilled: run.needs.filter((o) => o.status === 'fulfilled').length,
    referred: run.counts.deskReferred,
    wallMs: run.wallMs,
  };
}

/** One target of issue 10 for policy 3 and whether it was met. */
export interface TargetCheck {
  target: string;
  met: boolean;
  measured: string;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));

/** The targets of issue 10: policy 3 against policy 1 (those that need policy 1 are left out without it). */
export function checkTargets(summaries: readonly PolicySummary[], weeklyCap: number): TargetCheck[] {
  const p1 = summaries.find((s) => s.policy === 1);
  const p3 = summaries.find((s) => s.policy === 3);
  if (!p3) return [];
  const checks: TargetCheck[] = [];
  if (p1) {
    checks.push({
      target: "Offer of help within 24 h: at least policy 1's share",
      met: p3.offer24h >= p1.offer24h,
      measured: `${pct(p3.offer24h)} vs ${pct(p1.offer24h)}`,
    });
    checks.push({
      target: "Median notifications per helper per week ≤ 1/3 of policy 1's",
      met: p3.loadMedian <= p1.loadMedian / 3,
      measured: `${num(p3.loadMedian)} vs ${num(p1.loadMedian)} / 3 = ${num(p1.loadMedian / 3)}`,
    });
  }
  checks.push({ target: `p99 notifications per helper per week ≤ HELPER_WEEKLY_CAP (${weeklyCap})`, met: p3.loadP99 <= weeklyCap, measured: num(p3.loadP99) });
  checks.push({ target: 'Needs without a human answer: zero', met: p3.noHumanAnswer === 0, measured: String(p3.noHumanAnswer) });
  return checks;
}

function duration(ms: number | null): string {
  if (ms === null) return '–';
  const minutes = ms / 60_000;
  if (minutes < 90) return `${Math.round(minutes)} min`;
  return `${(minutes / 60).toFixed(1)} h`;
}

/** The comparison table: one column per policy. */
export function renderTable(summaries: readonly PolicySummary[]): string[] {
  const header = ['', ...summaries.map((s) => `(${s.policy}) ${POLICY_NAMES[s.policy]}`)];
  const row = (label: string, f: (s: PolicySummary) => string) => [label, ...summaries.map(f)];
  return table(header, [
    row('Needs', (s) => String(s.needs)),
    row('Offer of help within 24 h', (s) => pct(s.offer24h)),
    row('Offer of help within 72 h', (s) => pct(s.offer72h)),
    row('Time to the first offer: median', (s) => duration(s.medianFirstOfferMs)),
    row('Time to the first offer: p90', (s) => duration(s.p90FirstOfferMs)),
    row('Reached the Lotsen desk', (s) => pct(s.deskShare)),
    row('Human answer (helper or Lotse) within 24 h', (s) => pct(s.answered24h)),
    row('Human answer (helper or Lotse) within 72 h', (s) => pct(s.answered72h)),
    row('**Needs without any human answer**', (s) => `**${s.noHumanAnswer}**`),
    row('Helpers told per need (mean)', (s) => s.toldPerNeed.toFixed(1)),
    row('Notifications per helper per week: median', (s) => num(s.loadMedian)),
    row('Notifications per helper per week: p99', (s) => num(s.loadP99)),
    row('Notifications per helper per week: max', (s) => num(s.loadMax)),
    row('Gini of the notifications per helper', (s) => s.gini.toFixed(2)),
    row('Fulfilled (seeker said yes) / referred by the desk', (s) => `${s.fulfilled} / ${s.referred}`),
    row('Run time', (s) => `${(s.wallMs / 1000).toFixed(0)} s`),
  ]);
}

/** The targets as a list: met / not met. */
export function renderTargets(checks: readonly TargetCheck[]): string[] {
  return checks.map((c) => `- ${c.met ? '✅ met' : '❌ not met'}: ${c.target} — ${c.measured}`);
}
