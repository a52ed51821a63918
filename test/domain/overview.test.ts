import { eq } from 'drizzle-orm';
import { CityDirectory, loadCity, WHOLE_CITY } from '../../src/city';
import { ManualClock } from '../../src/clock';
import { posts, type PostKind, type PostStatus, subscriptions, users, type UserRow } from '../../src/db/schema';
import { collectOverview, type Overview, OVERVIEW_CACHE_MS } from '../../src/domain/overview';
import type { Actor } from '../../src/domain/permissions';
import { createTestDb, resetTestDb, type TestDatabase } from '../helpers/db';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const city = new CityDirectory(loadCity());
const DISTRICTS = city.districts.map((d) => d.key);
const CATEGORIES = city.categories.map((c) => c.key);
/** Who looks (the figures do not depend on it). */
const COORDINATOR: Actor = { userId: 1, role: 'coordinator', banned: false, organisation: null, lotse: false };

let handle: TestDatabase;
let clock: ManualClock;
beforeAll(async () => {
  handle = await createTestDb();
});
beforeEach(async () => {
  await resetTestDb(handle);
  // A Wednesday.
  clock = new ManualClock('2026-03-04T10:00:00+01:00');
});
afterAll(async () => {
  await handle.close();
});

let nextTelegramId = 5000;
async function helper(values: Partial<typeof users.$inferInsert> = {}): Promise<UserRow> {
  const [row] = await handle.db
    .insert(users)
    .values({ telegramId: nextTelegramId++, firstName: 'Helfer', locale: 'de', role: 'helper', district: 'mitte', createdAt: clock.now(), lastSeenAt: clock.now(), onboardedAt: clock.now(), ...values })
    .returning();
  return row!;
}

async function subscribe(user: UserRow, cells: [category: string, district: string][]): Promise<void> {
  await handle.db.insert(subscriptions).values(cells.map(([category, district]) => ({ userId: user.id, kind: 'need' as const, category, district, createdAt: clock.now() })));
}

async function insertPost(authorId: number, values: { kind?: PostKind; category?: string; district?: string; status?: PostStatus; publishedAt: Date; firstResponseAt?: Date; closedAt?: Date }): Promise<number> {
  const [row] = await handle.db
    .insert(posts)
    .values({
      authorId,
      kind: values.kind ?? 'need',
      category: values.category ?? 'housing',
      district: values.district ?? 'hamborn',
      text: 'Ein Text für die Übersicht',
      language: 'de',
      status: values.status ?? 'open',
      createdAt: values.publishedAt,
      publishedAt: values.publishedAt,
      updatedAt: values.publishedAt,
      expiresAt: new Date(values.publishedAt.getTime() + 14 * DAY),
      firstResponseAt: values.firstResponseAt ?? null,
      closedAt: values.closedAt ?? null,
    })
    .returning();
  return row!.id;
}

const helpersOf = (overview: Overview) => Object.fromEntries(overview.cells.map((c) => [`${c.district}|${c.category}`, c.helpers]));

/**
 * The helpers of a cell counted the slow, obvious way from every subscription and person: reachable people
 * subscribed to needs in the category, in the district or the whole city, each once.
 */
async function helpersNaively(now: Date): Promise<Record<string, number>> {
  const people = await handle.db.select().from(users);
  const reachable = new Set(
    people.filter((u) => !u.deletedAt && !u.bannedAt && !u.blockedAt && !u.notificationsPaused && (!u.pausedUntil || u.pausedUntil <= now)).map((u) => u.id),
  );
  const subs = (await handle.db.select().from(subscriptions)).filter((s) => s.kind === 'need' && reachable.has(s.userId));
  const counts: Record<string, number> = {};
  for (const district of [...DISTRICTS, WHOLE_CITY]) {
    for (const category of CATEGORIES) {
      const who = new Set(subs.filter((s) => s.category === category && (s.district === district || s.district === WHOLE_CITY)).map((s) => s.userId));
      counts[`${district}|${category}`] = who.size;
    }
  }
  return counts;
}

describe('helpers per cell', () => {
  it('counts someone subscribed to a district and to the whole city once, in every district and in the whole-city row', async () => {
    const anna = await helper();
    await subscribe(anna, [
      ['housing', 'mitte'],
      ['housing', WHOLE_CITY],
      ['health', 'hamborn'],
    ]);
    const ben = await helper();
    await subscribe(ben, [['housing', 'mitte']]);
    const h = helpersOf(await collectOverview(handle.db, clock, COORDINATOR, city));
    expect(h['mitte|housing']).toBe(2);
    expect(h['hamborn|housing']).toBe(1);
    expect(h[`${WHOLE_CITY}|housing`]).toBe(1);
    expect(h['hamborn|health']).toBe(1);
    expect(h['mitte|health']).toBe(0);
    expect(h[`${WHOLE_CITY}|health`]).toBe(0);
  });

  it('equals the obvious count on a mixed city (paused, blocked, banned, deleted people; overlapping subscriptions; offers)', async () => {
    // A small deterministic generator, so that a failure can be reproduced.
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor(seed / 65536) % n;
    };
    const past = new Date(clock.now().getTime() - HOUR);
    const future = new Date(clock.now().getTime() + DAY);
    for (let i = 0; i < 80; i++) {
      const state = next(10);
      const person = await helper({
        notificationsPaused: state === 0,
        pausedUntil: state === 1 ? future : state === 2 ? past : null,
        blockedAt: state === 3 ? past : null,
        bannedAt: state === 4 ? past : null,
        deletedAt: state === 5 ? past : null,
      });
      const cells = new Map<string, [string, string]>();
      for (let k = 0, n = 1 + next(6); k < n; k++) {
        const category = CATEGORIES[next(4)]!;
        const district = next(4) === 0 ? WHOLE_CITY : DISTRICTS[next(DISTRICTS.length)]!;
        cells.set(`${category}|${district}`, [category, district]);
      }
      await subscribe(person, [...cells.values()]);
      if (next(5) === 0) await handle.db.insert(subscriptions).values({ userId: person.id, kind: 'offer', category: CATEGORIES[0]!, district: WHOLE_CITY, createdAt: clock.now() });
    }
    const overview = await collectOverview(handle.db, clock, COORDINATOR, city);
    const expected = await helpersNaively(clock.now());
    expect(helpersOf(overview)).toEqual(expected);
    // The data reaches the interesting cases.
    expect(Object.values(expected).filter((n) => n > 0).length).toBeGreaterThan(24);
    expect(overview.cells).toHaveLength((DISTRICTS.length + 1) * CATEGORIES.length);
  });
});

describe('the trend', () => {
  it('puts each post into the week it was published in (Monday 00:00 city time), fulfilled ones into the week they were closed in', async () => {
    const author = await helper({ role: 'seeker' });
    // This week began on Monday 2026-03-02 00:00 in Berlin (23:00 UTC the day before).
    const monday = new Date('2026-03-02T00:00:00+01:00');
    const justBefore = new Date(monday.getTime() - 1000);
    await insertPost(author.id, { publishedAt: monday, firstResponseAt: new Date(monday.getTime() + 2 * HOUR) });
    await insertPost(author.id, { publishedAt: justBefore, firstResponseAt: new Date(justBefore.getTime() + 25 * HOUR) });
    await insertPost(author.id, { kind: 'offer', publishedAt: new Date(monday.getTime() + DAY) });
    await insertPost(author.id, { status: 'removed', publishedAt: new Date(monday.getTime() + DAY) });
    // Published three weeks ago, fulfilled this week: a need of then and fulfilled now.
    await insertPost(author.id, { status: 'fulfilled', publishedAt: new Date(monday.getTime() - 20 * DAY), closedAt: new Date(monday.getTime() + HOUR) });
    // Older than the eight weeks: nowhere.
    await insertPost(author.id, { status: 'fulfilled', publishedAt: new Date(monday.getTime() - 80 * DAY), closedAt: new Date(monday.getTime() - 70 * DAY) });

    const { trend } = await collectOverview(handle.db, clock, COORDINATOR, city);
    expect(trend).toHaveLength(8);
    expect(trend[7]!.weekStart.toISOString()).toBe(monday.toISOString());
    expect(trend[7]).toMatchObject({ needs: 1, offers: 1, offeredWithin24h: 1, fulfilled: 1 });
    expect(trend[6]).toMatchObject({ needs: 1, offers: 0, offeredWithin24h: 0, fulfilled: 0 });
    expect(trend[4]).toMatchObject({ needs: 1, offers: 0, offeredWithin24h: 0, fulfilled: 0 });
    expect(trend.reduce((a, w) => a + w.needs, 0)).toBe(3);
    expect(trend.reduce((a, w) => a + w.fulfilled, 0)).toBe(1);
  });
});

describe('the overview kept in memory', () => {
  it('is shared while nothing changes, and computed again at once after a post, a subscription or a person changes', async () => {
    const author = await helper({ role: 'seeker' });
    const anna = await helper();
    await subscribe(anna, [['housing', 'hamborn']]);
    const first = await collectOverview(handle.db, clock, COORDINATOR, city);
    expect(await collectOverview(handle.db, clock, COORDINATOR, city)).toBe(first);
    const cell = (o: Overview) => o.cells.find((c) => c.district === 'hamborn' && c.category === 'housing')!;
    expect(cell(first)).toMatchObject({ openNeeds: 0, helpers: 1 });

    const need = await insertPost(author.id, { publishedAt: clock.now() });
    const withNeed = await collectOverview(handle.db, clock, COORDINATOR, city);
    expect(cell(withNeed)).toMatchObject({ openNeeds: 1, helpers: 1 });

    await handle.db.update(posts).set({ status: 'fulfilled', closedAt: clock.now() }).where(eq(posts.id, need));
    expect(cell(await collectOverview(handle.db, clock, COORDINATOR, city)).openNeeds).toBe(0);

    await subscribe(await helper(), [['housing', WHOLE_CITY]]);
    expect(cell(await collectOverview(handle.db, clock, COORDINATOR, city)).helpers).toBe(2);

    await handle.db.update(users).set({ notificationsPaused: true }).where(eq(users.id, anna.id));
    expect(cell(await collectOverview(handle.db, clock, COORDINATOR, city)).helpers).toBe(1);

    await handle.db.delete(subscriptions).where(eq(subscriptions.userId, anna.id));
    await handle.db.update(users).set({ notificationsPaused: false, blockedAt: clock.now() }).where(eq(users.role, 'helper'));
    expect(cell(await collectOverview(handle.db, clock, COORDINATOR, city)).helpers).toBe(0);
  });

  it('is not renewed by changes it does not count, and at most OVERVIEW_CACHE_MS old for what changes with time alone', async () => {
    const author = await helper({ role: 'seeker' });
    // Unanswered from 24 h on: this need gets there 10 s from now, without any write.
    await insertPost(author.id, { publishedAt: new Date(clock.now().getTime() - DAY + 10_000) });
    const first = await collectOverview(handle.db, clock, COORDINATOR, city);
    expect(first.cells.reduce((a, c) => a + c.unanswered, 0)).toBe(0);

    // A text edit and a person seen again change nothing the overview counts.
    await handle.db.update(posts).set({ text: 'Ein anderer Text' });
    await handle.db.update(users).set({ lastSeenAt: clock.now() });
    clock.advance(OVERVIEW_CACHE_MS - 1000);
    expect(await collectOverview(handle.db, clock, COORDINATOR, city)).toBe(first);

    clock.advance(1000);
    const renewed = await collectOverview(handle.db, clock, COORDINATOR, city);
    expect(renewed).not.toBe(first);
    expect(renewed.cells.reduce((a, c) => a + c.unanswered, 0)).toBe(1);
  });
});
