/**
 * One policy of `npm run bench:loop` against its own fresh database: the simulated city is inserted in
 * bulk, then an injected clock moves through the weeks from one event to the next — a need is published,
 * a helper answers, the seeker answers the follow-up, a Lotse works through the desk — and the periodic
 * sweeps run on the ticks on which the scheduler would run them (src/background.ts, createSweeps).
 *
 * Everything that happens to a need goes through the production domain functions, called as the bot
 * calls them: publishPost (policy 3) or insertNewPost + routePost (policy 1: today's "everyone at once"),
 * requestContact ("🤝 I can help"), acceptContact (the seeker accepts, with FOLLOW_UP_AFTER), declineNeed
 * ("Not this time"), answerFollowUp, listDesk / takeDeskItem / referToOffice, and the sweeps themselves.
 * Only policy 2's waves (50 random subscribers, at most 3 waves 30 minutes apart) are routed here.
 */
import { performance } from 'node:perf_hooks';
import { eq, sql } from 'drizzle-orm';
import type { CityDirectory } from '../../src/city';
import { ManualClock } from '../../src/clock';
import type { Config } from '../../src/config';
import { type Database, type Executor, queryRows } from '../../src/db';
import { notifications, outbox, posts, PRIORITY, type PostRow, type UserRow, users } from '../../src/db/schema';
import { acceptContact, requestContact } from '../../src/domain/contacts';
import { listDesk, referToOffice, takeDeskItem } from '../../src/domain/desk';
import { DomainError } from '../../src/domain/errors';
import { answerFollowUp, type FollowUpAnswer } from '../../src/domain/follow-up';
import { findRecipients, routePost } from '../../src/domain/matching';
import { OUTBOX_KINDS } from '../../src/domain/outbox';
import { actorOf } from '../../src/domain/permissions';
import { insertNewPost, type PostsContext, publishPost } from '../../src/domain/posts';
import { runSweep } from '../../src/domain/sweeps';
import { quietUntilSql } from '../../src/domain/time';
import { declineNeed, waveSettings } from '../../src/domain/waves';
import { createSweeps } from '../../src/background';
import type { ScheduledSweep } from '../../src/scheduler';
import { answerProbability, hashNormal, hashUniform, type LoopParams, logNormal, nextDeskRound, Rng, type SimHelper, type SimNeed, simulationStart } from './loop-model';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

/** The three policies compared on the same city and needs. */
export type PolicyId = 1 | 2 | 3;

export const POLICY_NAMES: Record<PolicyId, string> = {
  1: 'Everyone at once',
  2: 'Random subscribers in waves, then nothing',
  3: 'Hilfenetz: waves, widening, desk',
};

/** Policy 2, the best-known email-based platform's defaults: 50 random subscribers per wave, 3 waves, 30 min apart. */
export interface RandomWaves {
  size: number;
  waves: number;
  intervalMs: number;
}

export const DEFAULT_RANDOM_WAVES: RandomWaves = { size: 50, waves: 3, intervalMs: 30 * 60_000 };

/** What one policy run needs. */
export interface RunInput {
  policy: PolicyId;
  db: Database;
  /** The production configuration (WAVE_SIZE, WAVE_INTERVAL, HELPER_WEEKLY_CAP, DESK_AFTER, FOLLOW_UP_AFTER, QUIET_HOURS …). */
  config: Config;
  city: CityDirectory;
  params: LoopParams;
  helpers: readonly SimHelper[];
  needs: readonly SimNeed[];
  randomWaves?: RandomWaves;
  /** Run every sweep on every tick of its period instead of jumping to the next tick on which it has work. */
  everyTick?: boolean;
  progress?: (line: string) => void;
}

/** What happened to one need. */
export interface NeedOutcome {
  publishedAt: number;
  category: string;
  district: string;
  /** Helpers told about it (notifications). */
  told: number;
  /** The first "I can help" by a helper (not the desk). */
  firstOfferAt: number | null;
  /** When it landed on the Lotsen desk. */
  deskAt: number | null;
  /** When a Lotse answered it (took it, or referred the seeker to the office). */
  deskAnswerAt: number | null;
  status: string;
}

/** Everything a policy run measured. */
export interface PolicyRun {
  policy: PolicyId;
  needs: NeedOutcome[];
  /** Per helper: the post notifications in each simulated week (the last week includes the tail). */
  helperWeeks: number[][];
  /** How many notifications the model's helpers saw and answered. */
  counts: { notifications: number; offers: number; lateOffers: number; declines: number; accepted: number; followUps: number; followUpNo: number; deskTaken: number; deskReferred: number; sweepRuns: number };
  wallMs: number;
}

// ---------------------------------------------------------------------------------------------------

type Event =
  | { kind: 'publish'; need: number }
  | { kind: 'offer'; need: number; helper: number }
  | { kind: 'decline'; need: number; helper: number }
  | { kind: 'followUp'; need: number; contactId: number; round: number }
  | { kind: 'randomWave'; need: number; wave: number }
  | { kind: 'desk' };

/** A binary min-heap of events by time, first in first out among equal times. */
class EventQueue {
  private heap: { at: number; seq: number; event: Event }[] = [];
  private seq = 0;
  get size(): number {
    return this.heap.length;
  }
  peekAt(): number {
    return this.heap[0]?.at ?? Number.POSITIVE_INFINITY;
  }
  push(at: number, event: Event): void {
    const h = this.heap;
    h.push({ at, seq: this.seq++, event });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }
  pop(): { at: number; event: Event } | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top && last && h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(l, m)) m = l;
        if (r < h.length && this.less(r, m)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
  private less(a: number, b: number): boolean {
    const x = this.heap[a]!;
    const y = this.heap[b]!;
    return x.at < y.at || (x.at === y.at && x.seq < y.seq);
  }
}

/** Inserts rows through one jsonb parameter (works the same on pg and PGlite; one statement for thousands of rows). */
async function insertUsers(db: Database, rows: { telegram_id: number; first_name: string; locale: string; role: string; district: string; organisation: string | null }[], at: Date): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    const chunk = JSON.stringify(rows.slice(i, i + 5000));
    await db.execute(sql`insert into users (telegram_id, first_name, locale, role, district, organisation, onboarded_at, created_at, last_seen_at)
      select x.telegram_id, x.first_name, x.locale, x.role, x.district, x.organisation, ${at}, ${at}, ${at}
      from jsonb_to_recordset(${chunk}::jsonb) as x(telegram_id bigint, first_name text, locale text, role text, district text, organisation text)`);
  }
}

const HELPER_TG = 7_000_000_000;
const SEEKER_TG = 8_000_000_000;
const LOTSE_TG = 6_000_000_001;

/** The simulated city in the database: helpers with their subscriptions, one seeker per need, one coordinator. */
async function insertPopulation(db: Database, helpers: readonly SimHelper[], needs: readonly SimNeed[], at: Date) {
  await insertUsers(
    db,
    helpers.map((h) => ({ telegram_id: HELPER_TG + h.index, first_name: `Helper ${h.index}`, locale: h.locale, role: 'helper', district: h.home, organisation: null })),
    at,
  );
  await insertUsers(
    db,
    needs.map((n) => ({ telegram_id: SEEKER_TG + n.index, first_name: `Seeker ${n.index}`, locale: n.locale, role: 'seeker', district: n.district, organisation: null })),
    at,
  );
  await insertUsers(db, [{ telegram_id: LOTSE_TG, first_name: 'Lotse', locale: 'de', role: 'coordinator', district: '*', organisation: 'Stadt' }], at);
  const subs = helpers.flatMap((h) => h.subscriptions.map((s) => ({ telegram_id: HELPER_TG + h.index, category: s.category, district: s.district })));
  for (let i = 0; i < subs.length; i += 10_000) {
    const chunk = JSON.stringify(subs.slice(i, i + 10_000));
    await db.execute(sql`insert into subscriptions (user_id, kind, category, district, created_at)
      select u.id, 'need', x.category, x.district, ${at}
      from jsonb_to_recordset(${chunk}::jsonb) as x(telegram_id bigint, category text, district text)
      join users u on u.telegram_id = x.telegram_id`);
  }
  await db.execute(sql`analyze`);
  const rows = await db.select().from(users);
  const helperRows: UserRow[] = new Array<UserRow>(helpers.length);
  const seekerRows: UserRow[] = new Array<UserRow>(needs.length);
  let lotse: UserRow | undefined;
  for (const u of rows) {
    if (u.telegramId === LOTSE_TG) lotse = u;
    else if (u.telegramId >= SEEKER_TG) seekerRows[u.telegramId - SEEKER_TG] = u;
    else helperRows[u.telegramId - HELPER_TG] = u;
  }
  return { helperRows, seekerRows, lotse: lotse! };
}

/** The sweeps of a policy: all of production's for policy 3; without waves and the desk for the others. */
function sweepsFor(policy: PolicyId, config: Config, city: CityDirectory): ScheduledSweep[] {
  const all = createSweeps(config, city);
  if (policy === 3) return all;
  return all.filter((s) => !['send-due-waves', 'move-needs-to-desk', 'announce-desk'].includes(s.name));
}

/** The earliest time at which each loop sweep can have work, read from the same columns the sweeps read. */
async function dueTimes(db: Database, config: Config): Promise<Record<string, number>> {
  const [row] = await queryRows<Record<string, Date | string | null>>(
    db,
    sql`select
      (select min(next_wave_at) from posts where kind = 'need' and status in ('open', 'in_contact')) as waves,
      (select min(published_at) from posts where kind = 'need' and status = 'open' and desk_at is null) as desk,
      (select min(follow_up_at) from contacts) as follow_ups,
      (select min(desk_at) from posts where kind = 'need' and desk_at is not null and status in ('open', 'in_contact') and desk_announced_at is null) as announce_fresh,
      (select min(desk_announced_at) from posts where kind = 'need' and desk_at is not null and status = 'open' and desk_owner_id is null) as announce_again,
      (select min(expires_at) from posts where status in ('open', 'in_contact') and reminded_at is null) as remind,
      (select min(expires_at) from posts where status in ('open', 'in_contact')) as expire`,
  );
  const t = (v: Date | string | null | undefined) => (v === null || v === undefined ? Number.POSITIVE_INFINITY : new Date(v).getTime());
  return {
    'send-due-waves': t(row?.waves),
    'move-needs-to-desk': t(row?.desk) + config.DESK_AFTER,
    'ask-follow-ups': t(row?.follow_ups),
    'announce-desk': Math.min(t(row?.announce_fresh), t(row?.announce_again) + DAY_MS),
    'remind-expiring-posts': t(row?.remind) - 2 * DAY_MS,
    'expire-posts': t(row?.expire),
  };
}

/** Sweeps that do not touch the loop (moderation queue, retention, sessions) run once an hour of simulated time. */
const OTHER_SWEEP_EVERY_MS = 3_600_000;

/** Runs one policy over the whole simulated time and returns what happened to every need and helper. */
export async function runPolicy(input: RunInput): Promise<PolicyRun> {
  const started = performance.now();
  const { db, config, city, params, helpers, needs, policy } = input;
  const randomWaves = input.randomWaves ?? DEFAULT_RANDOM_WAVES;
  const log = input.progress ?? (() => undefined);
  const start = simulationStart(params, city.timezone).getTime();
  const end = start + (params.days + params.tailDays) * DAY_MS;
  const clock = new ManualClock(new Date(start - DAY_MS));
  const { helperRows, seekerRows, lotse } = await insertPopulation(db, helpers, needs, clock.now());
  const ctx: PostsContext = { clock, config, timeZone: city.timezone, quietHours: config.QUIET_HOURS, waves: waveSettings(config, city) };
  const helperByUserId = new Map(helperRows.map((u, i) => [u.id, i]));

  const weeks = Math.max(1, Math.floor(params.days / 7));
  const helperWeeks = helpers.map(() => new Array<number>(weeks).fill(0));
  /** Each helper's notification times, ascending: the model's "notifications in the last 7 days". */
  const seenAt = helpers.map(() => [] as number[]);
  const outcomes: NeedOutcome[] = needs.map((n) => ({
    publishedAt: n.at,
    category: n.category,
    district: n.district,
    told: 0,
    firstOfferAt: null,
    deskAt: null,
    deskAnswerAt: null,
    status: 'planned',
  }));
  const postIds: number[] = new Array<number>(needs.length);
  const needByPostId = new Map<number, number>();
  const accepted: (number | null)[] = needs.map(() => null);
  const deskHandled = new Set<number>();
  const followUpRounds = needs.map(() => 0);
  const counts: PolicyRun['counts'] = { notifications: 0, offers: 0, lateOffers: 0, declines: 0, accepted: 0, followUps: 0, followUpNo: 0, deskTaken: 0, deskReferred: 0, sweepRuns: 0 };

  const queue = new EventQueue();
  for (const n of needs) queue.push(n.at, { kind: 'publish', need: n.index });
  if (policy === 3) queue.push(nextDeskRound(start, params, city.timezone), { kind: 'desk' });

  const sweeps = sweepsFor(policy, config, city).map((s) => ({ sweep: s, next: start + s.everyMs }));
  let due: Record<string, number> = {};
  let lastOutbox = 0;
  /** Whether an offer was accepted in this step (it plans a follow-up FOLLOW_UP_AFTER later). */
  let acceptedSince = false;

  /** Recent notifications of a helper before `now` (binary search over the ascending times). */
  const recent = (h: number, now: number): number => {
    const times = seenAt[h]!;
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! <= now - WEEK_MS) lo = mid + 1;
      else hi = mid;
    }
    return times.length - lo;
  };

  /** New notifications and follow-up questions since the last look: the model decides how each is answered. */
  async function readOutbox(): Promise<void> {
    // Ordered by id with a limit, so that the primary key is read from where the last look ended (a filter
    // on the kind would let the planner scan the whole, growing table).
    const rows: { id: number; kind: string; user_id: number; post_id: number | null; not_before: Date | string; contact_id: string | null }[] = [];
    for (;;) {
      const batch = await queryRows<(typeof rows)[number]>(
        db,
        sql`select id, kind, user_id, post_id, not_before, payload->>'contactId' as contact_id from ${outbox} where id > ${lastOutbox} order by id limit 5000`,
      );
      if (batch.length > 0) lastOutbox = Number(batch[batch.length - 1]!.id);
      rows.push(...batch.filter((r) => r.kind === OUTBOX_KINDS.postNotify || r.kind === OUTBOX_KINDS.followUpAsk));
      if (batch.length < 5000) break;
    }
    const now = clock.now().getTime();
    for (const row of rows) {
      const visible = Math.max(now, new Date(row.not_before).getTime());
      const n = row.post_id === null ? undefined : needByPostId.get(row.post_id);
      if (n === undefined) continue;
      if (row.kind === OUTBOX_KINDS.followUpAsk) {
        counts.followUps++;
        const round = followUpRounds[n]!++;
        const delay = logNormal(params.delayMedianMs, params.delaySigma, hashNormal(params.seed, 3, n, round));
        queue.push(visible + delay, { kind: 'followUp', need: n, contactId: Number(row.contact_id), round });
        continue;
      }
      const h = helperByUserId.get(row.user_id);
      if (h === undefined) continue;
      counts.notifications++;
      const load = recent(h, now);
      seenAt[h]!.push(now);
      helperWeeks[h]![Math.min(weeks - 1, Math.max(0, Math.floor((now - start) / WEEK_MS)))]! += 1;
      const helper = helpers[h]!;
      if (hashUniform(params.seed, 1, h, n) < answerProbability(helper.p, load, params.fatigue)) {
        queue.push(visible + logNormal(params.delayMedianMs, params.delaySigma, hashNormal(params.seed, 2, h, n)), { kind: 'offer', need: n, helper: h });
      } else if (hashUniform(params.seed, 4, h, n) < params.declineShare) {
        queue.push(visible + logNormal(params.delayMedianMs, params.delaySigma, hashNormal(params.seed, 5, h, n)), { kind: 'decline', need: n, helper: h });
      }
    }
  }

  /** The seeker accepts an offer (the first one that reaches them while they have no helper). */
  async function seekerAccepts(n: number, contactId: number): Promise<void> {
    if (accepted[n] !== null) return;
    try {
      await acceptContact(db, clock, seekerRows[n]!, contactId, { followUpAfterMs: config.FOLLOW_UP_AFTER });
      accepted[n] = contactId;
      acceptedSince = true;
      counts.accepted++;
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
    }
  }

  async function waitingOffer(n: number): Promise<number | null> {
    const [row] = await queryRows<{ id: number }>(db, sql`select id from contacts where post_id = ${postIds[n]} and status = 'offered' order by created_at, id limit 1`);
    return row ? Number(row.id) : null;
  }

  /** Policy 2: the next `size` subscribers at random (seeded), never anyone twice; notifications and outbox rows as routing writes them. */
  async function randomWave(tx: Executor, post: PostRow, n: number, wave: number): Promise<number> {
    const now = clock.now();
    const told = new Set((await tx.select({ id: notifications.userId }).from(notifications).where(sql`${notifications.postId} = ${post.id}`)).map((r) => r.id));
    const fresh = (await findRecipients(tx, post, now)).filter((id) => !told.has(id));
    const picked = new Rng(Math.floor(hashUniform(params.seed, 6, n, wave) * 4_294_967_296)).shuffle(fresh).slice(0, randomWaves.size);
    if (picked.length === 0) return 0;
    const notBefore = quietUntilSql(now, ctx.timeZone, ctx.quietHours, sql`r.quiet_start`, sql`r.quiet_end`);
    const [row] = await queryRows<{ n: number }>(
      tx,
      sql`with r as (select id, telegram_id, quiet_start, quiet_end from users where id in (${sql.join(picked.map((id) => sql`${id}`), sql`, `)})),
        notified as (
          insert into ${notifications} (post_id, user_id, created_at, wave)
          select ${post.id}, r.id, ${now}, ${wave} from r on conflict do nothing returning user_id
        ),
        queued as (
          insert into ${outbox} (user_id, chat_id, priority, kind, payload, post_id, not_before, created_at)
          select r.id, r.telegram_id, ${PRIORITY.notification}, ${OUTBOX_KINDS.postNotify}, '{}'::jsonb, ${post.id}, ${notBefore}, ${now}
          from r where r.id in (select user_id from notified)
          returning 1
        )
      select count(*)::int as n from queued`,
    );
    return row?.n ?? 0;
  }

  async function publish(n: number): Promise<void> {
    const need = needs[n]!;
    const seeker = seekerRows[n]!;
    const text = `Simulated need ${n}: help with ${need.category} in ${need.district}, please.`;
    const newPost = { kind: 'need' as const, category: need.category, district: need.district, text, photoFileId: null, language: need.locale };
    let post: PostRow;
    if (policy === 3) {
      post = (await publishPost(db, ctx, seeker, newPost)).post;
    } else {
      post = await db.transaction(async (tx) => {
        const inserted = (await insertNewPost(tx, ctx, seeker, newPost)).post;
        if (policy === 1) await routePost(tx, ctx, inserted, { firstTime: true });
        else await randomWave(tx, inserted, n, 1);
        return inserted;
      });
      if (policy === 2 && randomWaves.waves > 1) queue.push(clock.now().getTime() + randomWaves.intervalMs, { kind: 'randomWave', need: n, wave: 2 });
    }
    postIds[n] = post.id;
    needByPostId.set(post.id, n);
  }

  async function offer(n: number, h: number): Promise<void> {
    try {
      const { contact } = await requestContact(db, clock, helperRows[h]!, postIds[n]!);
      counts.offers++;
      outcomes[n]!.firstOfferAt ??= clock.now().getTime();
      await seekerAccepts(n, contact.id);
    } catch (err) {
      // The need was fulfilled, closed, referred or expired meanwhile: the helper reads "already taken".
      if (!(err instanceof DomainError)) throw err;
      counts.lateOffers++;
    }
  }

  async function followUp(n: number, contactId: number, round: number): Promise<void> {
    const u = hashUniform(params.seed, 7, n, round);
    const answer: FollowUpAnswer = u < params.followUpNo ? 'no' : u < params.followUpNo + params.followUpLater ? 'later' : 'yes';
    const result = await answerFollowUp(db, clock, seekerRows[n]!, contactId, answer);
    if (result.outcome !== 'no') return;
    counts.followUpNo++;
    accepted[n] = null;
    const waiting = await waitingOffer(n);
    if (waiting !== null) await seekerAccepts(n, waiting);
  }

  /** A Lotse works through the desk: refers the seeker to the office where the city file names one, else takes the need. */
  async function deskRound(): Promise<void> {
    const actor = actorOf(lotse);
    for (;;) {
      const items = (await listDesk(db, actor)).filter((i) => i.owner === null && !deskHandled.has(i.post.id));
      if (items.length === 0) break;
      for (const item of items) {
        deskHandled.add(item.post.id);
        const n = needByPostId.get(item.post.id);
        if (n === undefined) continue;
        // A helper is already in contact: the Lotse leaves it to them.
        if (item.post.status === 'in_contact') continue;
        try {
          if (city.office(item.post.category)) {
            await referToOffice(db, clock, actor, item.post.id, { close: true, hasOffice: (c) => city.office(c) !== undefined });
            counts.deskReferred++;
          } else {
            await takeDeskItem(db, clock, lotse, item.post.id);
            counts.deskTaken++;
            const [contact] = await queryRows<{ id: number }>(db, sql`select id from contacts where post_id = ${item.post.id} and responder_id = ${lotse.id} and status = 'offered'`);
            if (contact) await seekerAccepts(n, Number(contact.id));
          }
          outcomes[n]!.deskAnswerAt ??= clock.now().getTime();
        } catch (err) {
          if (!(err instanceof DomainError)) throw err;
        }
      }
    }
    queue.push(nextDeskRound(clock.now().getTime() + 1, params, city.timezone), { kind: 'desk' });
  }

  async function handle(event: Event): Promise<void> {
    switch (event.kind) {
      case 'publish':
        return publish(event.need);
      case 'offer':
        return offer(event.need, event.helper);
      case 'decline': {
        const answer = await declineNeed(db, ctx, helperRows[event.helper]!, postIds[event.need]!);
        if (answer.outcome === 'recorded') counts.declines++;
        return;
      }
      case 'followUp':
        return followUp(event.need, event.contactId, event.round);
      case 'randomWave': {
        const n = event.need;
        const [post] = await db.select().from(posts).where(eq(posts.id, postIds[n]!));
        // "Then nothing": no more waves after the third, after an offer of help, or once the need has closed.
        if (!post || outcomes[n]!.firstOfferAt !== null || (post.status !== 'open' && post.status !== 'in_contact')) return;
        await db.transaction((tx) => randomWave(tx, post, n, event.wave));
        if (event.wave < randomWaves.waves) queue.push(clock.now().getTime() + randomWaves.intervalMs, { kind: 'randomWave', need: n, wave: event.wave + 1 });
        return;
      }
      case 'desk':
        return deskRound();
    }
  }

  const nextRun = (s: { sweep: ScheduledSweep; next: number }): number => {
    if (input.everyTick) return s.next;
    const now = clock.now().getTime();
    const dueAt = due[s.sweep.name];
    if (dueAt === undefined) return Math.max(s.next, Math.ceil((Math.max(s.next, now) - start) / OTHER_SWEEP_EVERY_MS) * OTHER_SWEEP_EVERY_MS + start);
    if (dueAt === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
    // The first tick of the sweep's period (s.next + k · everyMs) at or after its due time and not before now:
    // the ticks in between are the ones on which the scheduler would have run it and found nothing to do.
    const from = Math.max(dueAt, now);
    return from <= s.next ? s.next : s.next + Math.ceil((from - s.next) / s.sweep.everyMs) * s.sweep.everyMs;
  };

  /** Where the run's wall time goes (ms per kind of step), for the progress lines. */
  const spent: Record<string, number> = {};
  const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      spent[what] = (spent[what] ?? 0) + performance.now() - t0;
    }
  };

  let reportedDay = -1;
  for (;;) {
    const sweepAt = Math.min(...sweeps.map(nextRun));
    const at = Math.min(queue.peekAt(), sweepAt);
    if (at > end) break;
    if (at < clock.now().getTime()) throw new Error(`time went back: ${new Date(at).toISOString()} < ${clock.now().toISOString()}`);
    clock.set(new Date(at));
    // Only an offer of help changes nothing the due times or the outbox reading depend on, except that an
    // accepted offer plans a follow-up (below); everything else may, so both are read again after it.
    let changed = false;
    while (queue.peekAt() <= at) {
      const { event } = queue.pop()!;
      if (event.kind !== 'offer') changed = true;
      await timed(event.kind, () => handle(event));
    }
    for (const s of sweeps) {
      if (nextRun(s) > at) continue;
      const name = s.sweep.name;
      const sweep = s.sweep;
      await timed(name, () => ('claims' in sweep ? sweep.claims(db, clock) : runSweep(db, clock, name, sweep.sweep)));
      counts.sweepRuns++;
      changed = true;
      s.next = at + s.sweep.everyMs;
    }
    if (changed) {
      await timed('read outbox', readOutbox);
      if (!input.everyTick) due = await timed('due times', () => dueTimes(db, config));
    } else if (!input.everyTick) {
      const followUp = due['ask-follow-ups'] ?? Number.POSITIVE_INFINITY;
      if (acceptedSince) due['ask-follow-ups'] = Math.min(followUp, at + config.FOLLOW_UP_AFTER);
    }
    acceptedSince = false;
    const day = Math.floor((at - start) / DAY_MS);
    if (day !== reportedDay && day >= 0) {
      reportedDay = day;
      const where = Object.entries(spent)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([k, ms]) => `${k} ${(ms / 1000).toFixed(0)} s`)
        .join(', ');
      log(`policy ${policy}: day ${day + 1}/${params.days + params.tailDays}, ${counts.notifications} notifications, ${counts.offers} offers, ${Math.round((performance.now() - started) / 1000)} s (${where})`);
    }
  }

  // The final state of every need, and who was told about it, as the database has it.
  const rows = await queryRows<{ id: number; status: string; desk_at: Date | string | null; told: number }>(
    db,
    sql`select p.id, p.status, p.desk_at, (select count(*)::int from ${notifications} n where n.post_id = p.id) as told from posts p where p.kind = 'need'`,
  );
  for (const row of rows) {
    const n = needByPostId.get(Number(row.id));
    if (n === undefined) continue;
    const o = outcomes[n]!;
    o.status = row.status;
    o.deskAt = row.desk_at === null ? null : new Date(row.desk_at).getTime();
    o.told = row.told;
  }
  return { policy, needs: outcomes, helperWeeks, counts, wallMs: performance.now() - started };
}
