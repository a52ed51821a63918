import { eq } from 'drizzle-orm';
import { CityDirectory, loadCity, parseCity } from '../../src/city';
import { ManualClock } from '../../src/clock';
import { notifications, posts, type PostKind, type PostStatus, users, type UserRow } from '../../src/db/schema';
import { replaceSubscriptions } from '../../src/domain/subscriptions';
import { requestContact } from '../../src/domain/contacts';
import type { Actor } from '../../src/domain/permissions';
import { closePost, type PostsContext, publishPost } from '../../src/domain/posts';
import { catchUpHelperStats } from '../../src/domain/waves';
import { collectLoopStats, collectStats, countPostsByCell, createStatsCsv, CSV_COLUMNS, findUnansweredNeeds, startOfWeek } from '../../src/domain/stats';
import { createTestDb, resetTestDb, type TestDatabase } from '../helpers/db';

const TZ = 'Europe/Berlin';
const HOUR = 3_600_000;
const DAY = 86_400_000;
const city = new CityDirectory(loadCity());

let handle: TestDatabase;
let clock: ManualClock;
let ctx: PostsContext;
beforeAll(async () => {
  handle = await createTestDb();
});
beforeEach(async () => {
  await resetTestDb(handle);
  // A Wednesday.
  clock = new ManualClock('2026-03-04T10:00:00+01:00');
  ctx = { clock, timeZone: TZ, quietHours: null, config: { POST_TTL_DAYS: 14, MAX_OPEN_POSTS: 50, MAX_POSTS_PER_DAY: 50, PREMODERATE_FIRST_POST: false, INTAKE_MAX_OPEN: 30 }, waves: { size: 10, intervalMs: 7_200_000, weeklyCap: 15, neighbours: () => [] } };
});
afterAll(async () => {
  await handle.close();
});

/** Who looks at the overview (the numbers do not depend on who it is). */
const STAFF: Actor = { userId: 1, role: 'staff', banned: false, organisation: 'Sozialamt Duisburg', lotse: false };

let nextTelegramId = 1000;
async function person(firstName: string, role: 'seeker' | 'helper' = 'seeker'): Promise<UserRow> {
  const [row] = await handle.db
    .insert(users)
    .values({ telegramId: nextTelegramId++, firstName, locale: 'de', role, district: 'hamborn', createdAt: clock.now(), lastSeenAt: clock.now(), onboardedAt: clock.now() })
    .returning();
  return row!;
}

let textCounter = 0;
async function publish(author: UserRow, kind: PostKind, category: string, district: string): Promise<number> {
  const { post } = await publishPost(handle.db, ctx, author, { kind, category, district, text: `Beschreibung Nummer ${++textCounter} mit genug Text`, photoFileId: null, language: 'de' });
  return post.id;
}

/** A post inserted directly, for states the dialogs reach only through many steps. */
async function insertPost(authorId: number, values: { kind?: PostKind; category?: string; district?: string; status: PostStatus; publishedAt: Date | null; firstResponseAt?: Date | null; closedAt?: Date | null }): Promise<number> {
  const created = values.publishedAt ?? clock.now();
  const [row] = await handle.db
    .insert(posts)
    .values({
      authorId,
      kind: values.kind ?? 'need',
      category: values.category ?? 'housing',
      district: values.district ?? 'hamborn',
      text: `Direkt eingefügt ${++textCounter}`,
      language: 'uk',
      status: values.status,
      createdAt: created,
      publishedAt: values.publishedAt,
      updatedAt: created,
      expiresAt: new Date(created.getTime() + 14 * DAY),
      firstResponseAt: values.firstResponseAt ?? null,
      closedAt: values.closedAt ?? null,
    })
    .returning();
  return row!.id;
}

describe('startOfWeek', () => {
  it.each([
    ['a Wednesday in winter', '2026-03-04T10:00:00+01:00', '2026-03-02T00:00:00+01:00'],
    ['Monday just after midnight', '2026-03-02T00:30:00+01:00', '2026-03-02T00:00:00+01:00'],
    ['Monday 00:30 in Berlin is still Sunday in UTC', '2026-03-01T23:30:00Z', '2026-03-02T00:00:00+01:00'],
    ['Sunday just before midnight', '2026-03-08T23:59:00+01:00', '2026-03-02T00:00:00+01:00'],
    ['the Sunday the clocks go forward', '2026-03-29T12:00:00+02:00', '2026-03-23T00:00:00+01:00'],
    ['the week after the change to summer time', '2026-04-01T10:00:00+02:00', '2026-03-30T00:00:00+02:00'],
    ['the week of the change back to winter time', '2026-10-25T18:00:00+01:00', '2026-10-19T00:00:00+02:00'],
  ])('%s', (_name, now, expected) => {
    expect(startOfWeek(new Date(now), TZ).toISOString()).toBe(new Date(expected).toISOString());
  });
});

describe('counts by kind × district × category', () => {
  it('counts open and in-contact posts, and nothing pending, removed, closed or expired', async () => {
    const olena = await person('Olena');
    const irina = await person('Irina');
    const jonas = await person('Jonas', 'helper');
    await publish(olena, 'need', 'housing', 'hamborn');
    const inContact = await publish(irina, 'need', 'housing', 'hamborn');
    await handle.db.update(posts).set({ status: 'in_contact' }).where(eq(posts.id, inContact));
    await publish(olena, 'need', 'health', 'mitte');
    await publish(jonas, 'offer', 'donations', '*');
    await publish(jonas, 'offer', 'housing', 'hamborn');
    for (const status of ['pending_review', 'removed', 'closed', 'expired'] as const) {
      await insertPost(olena.id, { status, publishedAt: status === 'pending_review' ? null : clock.now() });
    }

    const { cells, totals } = await countPostsByCell(handle.db, clock, TZ);
    const open = Object.fromEntries(cells.map((c) => [`${c.kind} ${c.district} ${c.category}`, c.open]));
    expect(open).toEqual({ 'need hamborn housing': 2, 'need mitte health': 1, 'offer * donations': 1, 'offer hamborn housing': 1 });
    expect(totals.need.open).toBe(3);
    expect(totals.offer.open).toBe(2);
  });

  it('counts a need as unanswered only after three days without any "I can help"', async () => {
    const olena = await person('Olena');
    const jonas = await person('Jonas', 'helper');
    const waiting = await publish(olena, 'need', 'housing', 'hamborn');
    const answered = await publish(olena, 'need', 'family', 'hamborn');
    await publish(jonas, 'offer', 'housing', 'hamborn'); // offers never count as unanswered

    clock.advanceHours(1);
    await requestContact(handle.db, clock, jonas, answered);

    clock.set(new Date(clock.now().getTime() - HOUR + 3 * DAY)); // exactly three days after publishing
    expect((await countPostsByCell(handle.db, clock, TZ)).totals.need.unanswered).toBe(0);

    clock.advance(60_000);
    const { cells, totals } = await countPostsByCell(handle.db, clock, TZ);
    expect(totals.need.unanswered).toBe(1);
    expect(totals.offer.unanswered).toBe(0);
    expect(cells.find((c) => c.kind === 'need' && c.category === 'housing')?.unanswered).toBe(1);
    expect(cells.find((c) => c.kind === 'need' && c.category === 'family')?.unanswered).toBe(0);

    const list = await findUnansweredNeeds(handle.db, clock, TZ);
    expect(list).toEqual([{ id: waiting, category: 'housing', district: 'hamborn', publishedAt: new Date('2026-03-04T10:00:00+01:00') }]);

    // A need that is no longer active is no longer waiting.
    await closePost(handle.db, ctx, olena, waiting, 'closed');
    expect((await countPostsByCell(handle.db, clock, TZ)).totals.need.unanswered).toBe(0);
  });

  it('lists the oldest unanswered needs first, at most five, with nothing about their authors', async () => {
    const olena = await person('Olena');
    const ids: number[] = [];
    for (let days = 10; days >= 4; days--) {
      ids.push(await insertPost(olena.id, { status: 'open', publishedAt: new Date(clock.now().getTime() - days * DAY), category: days % 2 ? 'health' : 'housing' }));
    }
    const list = await findUnansweredNeeds(handle.db, clock, TZ);
    expect(list.map((n) => n.id)).toEqual(ids.slice(0, 5));
    expect(Object.keys(list[0]!).sort()).toEqual(['category', 'district', 'id', 'publishedAt']);
    expect((await countPostsByCell(handle.db, clock, TZ)).totals.need.unanswered).toBe(7);
  });

  it('computes the median time to the first response over the last 30 days, per cell and overall', async () => {
    const olena = await person('Olena');
    const at = (daysAgo: number) => new Date(clock.now().getTime() - daysAgo * DAY);
    const answeredAfter = (daysAgo: number, hours: number, values: { category?: string; status?: PostStatus; kind?: PostKind } = {}) =>
      insertPost(olena.id, { status: 'open', ...values, publishedAt: at(daysAgo), firstResponseAt: new Date(at(daysAgo).getTime() + hours * HOUR) });
    await answeredAfter(2, 1);
    await answeredAfter(5, 3, { status: 'fulfilled' });
    await answeredAfter(10, 5, { category: 'health', status: 'in_contact' });
    await answeredAfter(29, 10, { category: 'health', status: 'closed' });
    // Not counted: older than 30 days, removed by moderation, offers, and needs without a response.
    await answeredAfter(31, 100);
    await answeredAfter(3, 200, { status: 'removed' });
    await answeredAfter(3, 300, { kind: 'offer' });
    await insertPost(olena.id, { status: 'open', publishedAt: at(1) });

    const { cells, totals } = await countPostsByCell(handle.db, clock, TZ);
    expect(totals.need.answered).toBe(4);
    expect(totals.need.medianFirstResponseMs).toBe(4 * HOUR); // between 3 h and 5 h
    expect(totals.offer.medianFirstResponseMs).toBeNull();
    const cell = (category: string) => cells.find((c) => c.kind === 'need' && c.district === 'hamborn' && c.category === category)!;
    expect(cell('housing')).toMatchObject({ answered: 2, medianFirstResponseMs: 2 * HOUR });
    expect(cell('health')).toMatchObject({ answered: 2, medianFirstResponseMs: 7.5 * HOUR });
  });

  it('has no median while no need got a response', async () => {
    const olena = await person('Olena');
    await publish(olena, 'need', 'housing', 'hamborn');
    const { totals } = await countPostsByCell(handle.db, clock, TZ);
    expect(totals.need).toMatchObject({ open: 1, answered: 0, medianFirstResponseMs: null });
  });

  it('counts what was fulfilled since Monday 00:00 in Berlin, across the change to summer time', async () => {
    const olena = await person('Olena');
    const jonas = await person('Jonas', 'helper');
    clock.set('2026-03-25T12:00:00+01:00');
    const before = await publish(olena, 'need', 'housing', 'hamborn');
    const after = await publish(olena, 'need', 'health', 'hamborn');
    const offer = await publish(jonas, 'offer', 'donations', 'mitte');
    const notFulfilled = await publish(olena, 'need', 'family', 'hamborn');

    clock.set('2026-03-29T23:30:00+02:00'); // Sunday night, summer time since 02:00
    await closePost(handle.db, ctx, olena, before, 'fulfilled');
    clock.set('2026-03-30T00:30:00+02:00'); // Monday
    await closePost(handle.db, ctx, olena, after, 'fulfilled');
    await closePost(handle.db, ctx, jonas, offer, 'fulfilled');
    await closePost(handle.db, ctx, olena, notFulfilled, 'closed');

    clock.set('2026-04-01T10:00:00+02:00');
    const overview = await collectStats(handle.db, clock, STAFF, TZ);
    expect(overview.weekStart.toISOString()).toBe('2026-03-29T22:00:00.000Z');
    expect(overview.totals.need.fulfilledThisWeek).toBe(1);
    expect(overview.totals.offer.fulfilledThisWeek).toBe(1);
    expect(overview.cells.filter((c) => c.fulfilledThisWeek > 0).map((c) => `${c.kind} ${c.district} ${c.category}`).sort()).toEqual(['need hamborn health', 'offer mitte donations']);
    expect(overview.totals.need.open).toBe(0);

    // The next Monday starts a new week.
    clock.set('2026-04-06T00:00:00+02:00');
    expect((await collectStats(handle.db, clock, STAFF, TZ)).totals.need.fulfilledThisWeek).toBe(0);
  });
});

describe('createStatsCsv', () => {
  function parse(csv: string): string[][] {
    return csv
      .trimEnd()
      .split('\r\n')
      .map((line) => line.split(';'));
  }

  it('has one row per kind × area × category, zero rows included, and a total row per kind', async () => {
    const olena = await person('Olena');
    const jonas = await person('Jonas', 'helper');
    await publish(olena, 'need', 'housing', 'hamborn');
    await publish(jonas, 'offer', 'leisure', '*');
    clock.advanceDays(4);
    const csv = createStatsCsv(await collectStats(handle.db, clock, STAFF, TZ), city);

    expect(csv.startsWith('\uFEFF')).toBe(false);
    expect(csv.endsWith('\r\n')).toBe(true);
    const [header, ...rows] = parse(csv);
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(header).toContain('unanswered_over_3_days');
    expect(rows).toHaveLength(2 * 8 * 12 + 2);
    expect(rows.every((r) => r.length === header!.length)).toBe(true);

    const row = (kind: string, district: string, category: string) => rows.find((r) => r[0] === 'cell' && r[1] === kind && r[2] === district && r[4] === category)!;
    expect(row('need', 'hamborn', 'housing')).toEqual(['cell', 'need', 'hamborn', 'Hamborn', 'housing', 'Wohnen', '1', '1', '0', '0', '']);
    expect(row('need', 'walsum', 'pets')).toEqual(['cell', 'need', 'walsum', 'Walsum', 'pets', 'Haustiere', '0', '0', '0', '0', '']);
    // Needs-only columns stay empty for offers; the comma in a name needs no quotes with ';'.
    expect(row('offer', '*', 'leisure')).toEqual(['cell', 'offer', '*', 'Ganz Duisburg', 'leisure', 'Freizeit, Kultur & Sport', '1', '', '0', '', '']);
    expect(rows.filter((r) => r[0] === 'total')).toEqual([
      ['total', 'need', '', '', '', '', '1', '1', '0', '0', ''],
      ['total', 'offer', '', '', '', '', '1', '', '0', '', ''],
    ]);
    expect(csv).not.toMatch(/Olena|Jonas|Beschreibung/);
  });

  it('writes the median in whole minutes and quotes names that contain the separator or quotes', () => {
    const custom = new CityDirectory(
      parseCity({
        key: 'testburg',
        name: { de: 'Testburg', uk: 'Тестбург', ru: 'Тестбург' },
        wholeCity: { de: 'Ganz Testburg', uk: 'Увесь Тестбург', ru: 'Весь Тестбург' },
        timezone: TZ,
        districts: [{ key: 'nord', name: { de: 'Nord; "Altstadt"', uk: 'Північ', ru: 'Север' } }],
        categories: [{ key: 'food', emoji: '🍞', name: { de: 'Essen', uk: 'Їжа', ru: 'Еда' } }],
      }),
    );
    const counts = { open: 2, unanswered: 1, fulfilledThisWeek: 3, answered: 2, medianFirstResponseMs: 90.6 * 60_000 };
    const csv = createStatsCsv(
      { cells: [{ kind: 'need', district: 'nord', category: 'food', ...counts }], totals: { need: counts, offer: { ...counts, medianFirstResponseMs: null } } },
      custom,
    );
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(1 + 2 * 2 + 2);
    expect(lines[1]).toBe('cell;need;nord;"Nord; ""Altstadt""";food;Essen;2;1;3;2;91');
    expect(lines[2]).toBe('cell;need;*;Ganz Testburg;food;Essen;0;0;0;0;');
    expect(lines[5]).toBe('total;need;;;;;2;1;3;2;91');
    expect(lines[6]).toBe('total;offer;;;;;2;;3;;');
  });
});

describe('collectLoopStats', () => {
  it('measures offers within 24 h, the time to the first offer, the desk, the needs taken by Lotsen and the helpers’ load', async () => {
    const seeker = await person('Olena');
    const ago = (ms: number) => new Date(clock.now().getTime() - ms);
    // Four needs whose 24 hours are over: offers after 1 h, 10 h and 30 h, and none (it reached the desk).
    await insertPost(seeker.id, { status: 'open', publishedAt: ago(3 * DAY), firstResponseAt: ago(3 * DAY - HOUR) });
    await insertPost(seeker.id, { status: 'open', publishedAt: ago(3 * DAY), firstResponseAt: ago(3 * DAY - 10 * HOUR) });
    await insertPost(seeker.id, { status: 'open', publishedAt: ago(3 * DAY), firstResponseAt: ago(3 * DAY - 30 * HOUR) });
    const desk = await insertPost(seeker.id, { status: 'open', publishedAt: ago(2 * DAY) });
    // It reached the desk; a Lotse had taken it for a person without Telegram (/intake).
    await handle.db.update(posts).set({ deskAt: ago(DAY), intakeName: 'O. K.', intakeLanguage: 'uk' }).where(eq(posts.id, desk));
    // Too young for the 24-hour share, too old for the window, removed: not counted there.
    await insertPost(seeker.id, { status: 'open', publishedAt: ago(HOUR) });
    await insertPost(seeker.id, { status: 'open', publishedAt: ago(40 * DAY), firstResponseAt: ago(40 * DAY) });
    await insertPost(seeker.id, { status: 'removed', publishedAt: ago(2 * DAY), firstResponseAt: ago(2 * DAY) });
    // Three helpers: 0, 2 and 4 post notifications this week (and one older one that does not count).
    const helpers = [await person('A', 'helper'), await person('B', 'helper'), await person('C', 'helper')];
    for (const h of helpers) await replaceSubscriptions(handle.db, h.id, 'need', { categories: ['housing'], districts: ['hamborn'] });
    const told = [[], [1, 2], [1, 2, 3, 4]] as const;
    for (const [i, list] of told.entries()) {
      for (const n of list) await handle.db.insert(notifications).values({ postId: 10_000 + n, userId: helpers[i]!.id, createdAt: ago(n * HOUR) });
    }
    await handle.db.insert(notifications).values({ postId: 20_000, userId: helpers[0]!.id, createdAt: ago(8 * DAY) });

    const loop = await collectLoopStats(handle.db, clock);
    expect(loop).toEqual({
      needs: 5,
      needsOver24h: 4,
      offeredWithin24h: 2,
      medianFirstOfferMs: 10 * HOUR,
      p90FirstOfferMs: 26 * HOUR,
      reachedDesk: 1,
      intakeNeeds: 1,
      helpers: 3,
      loadMedian: 2,
      loadP99: 4,
    });
    // The load as the sweep writes it on the subscriptions: the same figures.
    await catchUpHelperStats(handle.db, clock.now());
    expect(await collectLoopStats(handle.db, clock)).toEqual(loop);
  });
});
