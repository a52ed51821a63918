import { sql } from 'drizzle-orm';
import { CityDirectory, loadCity, WHOLE_CITY } from '../../src/city';
import { parseConfig } from '../../src/config';
import { queryRows } from '../../src/db';
import { buildHelpers, DEFAULT_PARAMS, type LoopParams, planNeeds, type SimHelper, type SimNeed } from '../../bench/lib/loop-model';
import { summarise } from '../../bench/lib/loop-report';
import { type PolicyId, type PolicyRun, runPolicy } from '../../bench/lib/loop-run';
import { createTestDb, type TestDatabase } from '../helpers/db';

const city = new CityDirectory(loadCity());
const modelCity = { districts: city.districts.map((d) => d.key), categories: city.categories.map((c) => c.key), timeZone: city.timezone };
const WAVE_SIZE = 4;
const CAP = 2;
const config = parseConfig({ LOG_LEVEL: 'silent', WAVE_SIZE: String(WAVE_SIZE), HELPER_WEEKLY_CAP: String(CAP) }, { requireToken: false });
const params: LoopParams = { ...DEFAULT_PARAMS, seed: 5, helpers: 100, days: 1, tailDays: 3, needsPerDay: 40, declineShare: 0 };
const helpers = buildHelpers(params, modelCity);
const needs = planNeeds(params, modelCity);

/** The model's helpers whose subscriptions cover a need (its district or the whole city), and with `near` its neighbours too. */
function eligible(need: Pick<SimNeed, 'category' | 'district'>, options: { near: boolean }): Set<number> {
  const districts = new Set([need.district, WHOLE_CITY, ...(options.near ? city.neighbours(need.district) : [])]);
  return new Set(helpers.filter((h: SimHelper) => h.subscriptions.some((s) => s.category === need.category && districts.has(s.district))).map((h) => h.index));
}

interface Told {
  post: number;
  helper: number;
  at: number;
  wave: number | null;
}

async function run(policy: PolicyId): Promise<{ db: TestDatabase; result: PolicyRun; told: Told[]; needOfPost: Map<number, number> }> {
  const db = await createTestDb();
  const result = await runPolicy({ policy, db: db.db, config, city, params, helpers, needs });
  const rows = await queryRows<{ post_id: number; telegram_id: string | number; created_at: Date | string; wave: number | null; text: string }>(
    db.db,
    sql`select n.post_id, u.telegram_id, n.created_at, n.wave, p.text from notifications n join users u on u.id = n.user_id join posts p on p.id = n.post_id`,
  );
  const posts = await queryRows<{ id: number; text: string }>(db.db, sql`select id, text from posts`);
  // The bench writes "Simulated need <index>: …" into each need's text.
  const needOfPost = new Map(posts.map((p) => [Number(p.id), Number(/Simulated need (\d+):/.exec(p.text)![1])]));
  const told = rows.map((r) => ({ post: Number(r.post_id), helper: Number(r.telegram_id) - 7_000_000_000, at: new Date(r.created_at).getTime(), wave: r.wave }));
  return { db, result, told, needOfPost };
}

describe('bench:loop, one small day of a city on a real database', () => {
  it('policy 1 tells every subscriber of a need at once, and nobody else', async () => {
    const { db, result, told, needOfPost } = await run(1);
    try {
      expect(result.needs).toHaveLength(needs.length);
      for (const [postId, n] of needOfPost) {
        const got = new Set(told.filter((t) => t.post === postId).map((t) => t.helper));
        expect([...got].sort()).toEqual([...eligible(needs[n]!, { near: false })].sort());
        for (const t of told.filter((x) => x.post === postId)) expect(t.at).toBe(needs[n]!.at);
      }
      expect(told.length).toBeGreaterThan(needs.length * 5);
      const summary = summarise(result);
      expect(summary.deskShare).toBe(0);
      // The needs nobody subscribes to are never answered under policy 1.
      expect(summary.noHumanAnswer).toBeGreaterThanOrEqual(needs.filter((n) => n.category === params.unservedCategory).length);
    } finally {
      await db.close();
    }
  }, 240_000);

  it('policy 2 tells at most 50 random subscribers per wave, at most 3 waves 30 minutes apart', async () => {
    const { db, told, needOfPost } = await run(2);
    try {
      for (const [postId, n] of needOfPost) {
        const mine = told.filter((t) => t.post === postId);
        const subscribers = eligible(needs[n]!, { near: false });
        for (const t of mine) {
          expect(subscribers.has(t.helper)).toBe(true);
          expect([1, 2, 3]).toContain(t.wave);
          expect(t.at).toBe(needs[n]!.at + (t.wave! - 1) * 30 * 60_000);
        }
        for (const wave of [1, 2, 3]) expect(mine.filter((t) => t.wave === wave).length).toBeLessThanOrEqual(50);
      }
    } finally {
      await db.close();
    }
  }, 240_000);

  it('policy 3 sends waves of WAVE_SIZE, wakes helpers at HELPER_WEEKLY_CAP only when nobody else is left, and answers every need', async () => {
    const { db, result, told, needOfPost } = await run(3);
    try {
      const summary = summarise(result);
      expect(summary.noHumanAnswer).toBe(0);
      // A need nobody subscribes to lands on the desk when it is published.
      for (const o of result.needs.filter((x) => x.category === params.unservedCategory)) expect(o.deskAt).toBe(o.publishedAt);

      const byHelper = new Map<number, number[]>();
      for (const t of told) byHelper.set(t.helper, [...(byHelper.get(t.helper) ?? []), t.at]);
      const load = (helper: number, at: number, options: { inclusive: boolean }) =>
        (byHelper.get(helper) ?? []).filter((x) => x > at - 7 * 86_400_000 && (options.inclusive ? x <= at : x < at)).length;

      let capped = 0;
      for (const [postId, n] of needOfPost) {
        const mine = told.filter((t) => t.post === postId);
        const pool = eligible(needs[n]!, { near: true });
        // The first wave: WAVE_SIZE of the eligible helpers (or all of them), published with the need.
        expect(mine.filter((t) => t.wave === 1).length).toBe(Math.min(WAVE_SIZE, pool.size));
        for (const wave of new Set(mine.map((t) => t.wave))) expect(mine.filter((t) => t.wave === wave).length).toBeLessThanOrEqual(WAVE_SIZE);
        for (const t of mine) {
          expect(pool.has(t.helper)).toBe(true);
          if (load(t.helper, t.at, { inclusive: false }) < CAP) continue;
          capped++;
          // A helper at the cap was told: then every eligible helper not told by then was at the cap too.
          const toldBy = new Set(mine.filter((x) => x.at <= t.at).map((x) => x.helper));
          for (const other of pool) if (!toldBy.has(other)) expect(load(other, t.at, { inclusive: true })).toBeGreaterThanOrEqual(CAP);
        }
      }
      // The cap did bind in this run (otherwise the check above proves nothing).
      expect(capped).toBeGreaterThan(0);
      expect(Math.max(...result.helperWeeks.map((w) => w[0]!))).toBeGreaterThanOrEqual(CAP);
    } finally {
      await db.close();
    }
  }, 240_000);
});
