import { eq } from 'drizzle-orm';
import { ManualClock } from '../../src/clock';
import { users } from '../../src/db/schema';
import { LAST_SEEN_RESOLUTION_MS, upsertUser } from '../../src/domain/users';
import { createTestDb, resetTestDb, type TestDatabase } from '../helpers/db';

let handle: TestDatabase;
let clock: ManualClock;
beforeAll(async () => {
  handle = await createTestDb();
});
beforeEach(async () => {
  await resetTestDb(handle);
  clock = new ManualClock('2026-03-04T10:00:00+01:00');
});
afterAll(async () => {
  await handle.close();
});

const OLENA = { id: 380_777, firstName: 'Олена', username: 'olena_k' };
const asSeeker = { locale: 'uk' as const, isAdmin: false };

async function stored(telegramId: number) {
  const [row] = await handle.db.select().from(users).where(eq(users.telegramId, telegramId));
  return row!;
}

describe('upsertUser (prepared statements, bound at every call)', () => {
  it('creates a person at first contact with the values of this call', async () => {
    const first = await upsertUser(handle.db, clock, OLENA, asSeeker, null);
    expect(first).toMatchObject({ telegramId: OLENA.id, firstName: 'Олена', username: 'olena_k', locale: 'uk', role: null });
    expect(first.createdAt.toISOString()).toBe(clock.now().toISOString());
    expect(await stored(OLENA.id)).toEqual(first);

    // A second person through the same prepared statement gets their own values.
    clock.advance(1_000);
    const jonas = await upsertUser(handle.db, clock, { id: 490_777, firstName: 'Jonas' }, { locale: 'de', isAdmin: false }, null);
    expect(jonas).toMatchObject({ telegramId: 490_777, firstName: 'Jonas', username: null, locale: 'de' });
    expect(jonas.lastSeenAt.toISOString()).toBe(clock.now().toISOString());
  });

  it('writes nothing while nothing changed and last-seen is fresh, and the new values when they did', async () => {
    const first = await upsertUser(handle.db, clock, OLENA, asSeeker, null);
    clock.advance(LAST_SEEN_RESOLUTION_MS - 1);
    expect(await upsertUser(handle.db, clock, OLENA, asSeeker, first)).toBe(first);
    expect((await stored(OLENA.id)).lastSeenAt).toEqual(first.lastSeenAt);

    clock.advance(1);
    const seen = await upsertUser(handle.db, clock, OLENA, asSeeker, first);
    expect(seen.lastSeenAt.toISOString()).toBe(clock.now().toISOString());
    expect(await stored(OLENA.id)).toEqual(seen);

    const renamed = await upsertUser(handle.db, clock, { id: OLENA.id, firstName: 'Olena' }, asSeeker, seen);
    expect(renamed).toMatchObject({ id: first.id, firstName: 'Olena', username: null });
    expect(await stored(OLENA.id)).toEqual(renamed);
  });

  it('unblocks a person who writes again, and makes a listed admin a coordinator', async () => {
    const first = await upsertUser(handle.db, clock, OLENA, asSeeker, null);
    await handle.db.update(users).set({ blockedAt: clock.now(), role: 'helper' }).where(eq(users.id, first.id));
    const back = await upsertUser(handle.db, clock, OLENA, asSeeker, undefined);
    expect(back).toMatchObject({ blockedAt: null, role: 'helper' });

    const listed = await upsertUser(handle.db, clock, OLENA, { locale: 'uk', isAdmin: true }, back);
    expect(listed.role).toBe('coordinator');
    // A new person who is listed starts as coordinator.
    const admin = await upsertUser(handle.db, clock, { id: 999_777, firstName: 'Sabine' }, { locale: 'de', isAdmin: true }, null);
    expect(admin.role).toBe('coordinator');
  });

  it('takes back the row of a deleted person who is banned (found by Telegram id, not known to the caller)', async () => {
    const first = await upsertUser(handle.db, clock, OLENA, asSeeker, null);
    await handle.db
      .update(users)
      .set({ firstName: null, username: null, deletedAt: clock.now(), bannedAt: clock.now() })
      .where(eq(users.id, first.id));
    clock.advance(5_000);
    // The caller read nothing (null): the insert meets the Telegram id and refreshes that row instead.
    const back = await upsertUser(handle.db, clock, OLENA, asSeeker, null);
    expect(back).toMatchObject({ id: first.id, firstName: 'Олена', username: 'olena_k', deletedAt: null });
    expect(back.bannedAt).not.toBeNull();
    expect(back.lastSeenAt.toISOString()).toBe(clock.now().toISOString());
  });
});
