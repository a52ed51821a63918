import { ManualClock } from '../../src/clock';
import { sessionLeases, sessions, users } from '../../src/db/schema';
import {
  acquireSessionLease,
  createSessionSweep,
  deleteStaleSessions,
  releaseSessionLease,
  renewSessionLease,
  takeChat,
} from '../../src/domain/sessions';
import { runSweep } from '../../src/domain/sweeps';
import { createTestDb, resetTestDb, type TestDatabase } from '../helpers/db';

const DAY = 86_400_000;
const LEASE_MS = 10_000;

let handle: TestDatabase;
let clock: ManualClock;
beforeAll(async () => {
  handle = await createTestDb();
});
beforeEach(async () => {
  await resetTestDb(handle);
  clock = new ManualClock('2026-06-01T10:00:00Z');
});
afterAll(async () => {
  await handle.close();
});

const daysAgo = (days: number) => new Date(clock.now().getTime() - days * DAY);

async function keys(): Promise<string[]> {
  return (await handle.db.select({ key: sessions.key }).from(sessions)).map((r) => r.key).sort();
}

describe('deleteStaleSessions', () => {
  it('deletes sessions unchanged for the TTL, keeps newer ones and chats in the middle of an update', async () => {
    await handle.db.insert(sessions).values([
      { key: '1', value: { dialog: { name: 'post', step: 'text', data: {} } }, updatedAt: daysAgo(31) },
      { key: '2', value: {}, updatedAt: daysAgo(30.5) },
      { key: '3', value: { dialog: { name: 'post', step: 'preview', data: {} } }, updatedAt: daysAgo(29) },
      { key: '4', value: {}, updatedAt: daysAgo(400) },
    ]);
    // Chat 4's update is being handled right now: its session is left alone until the lease ends.
    await acquireSessionLease(handle.db, clock, '4', 'process-a', LEASE_MS);

    expect(await deleteStaleSessions(handle.db, clock, 30)).toBe(2);
    expect(await keys()).toEqual(['3', '4']);
    // Idempotent: nothing more to do.
    expect(await deleteStaleSessions(handle.db, clock, 30)).toBe(0);

    await releaseSessionLease(handle.db, '4', 'process-a');
    clock.advanceDays(2);
    expect(await deleteStaleSessions(handle.db, clock, 30)).toBe(2);
    expect(await keys()).toEqual([]);
  });

  it('removes leases left behind by a process that died', async () => {
    await acquireSessionLease(handle.db, clock, '7', 'dead-process', LEASE_MS);
    await acquireSessionLease(handle.db, clock, '8', 'live-process', LEASE_MS);
    clock.advance(LEASE_MS / 2);
    await renewSessionLease(handle.db, clock, '8', 'live-process', LEASE_MS);
    clock.advance(LEASE_MS / 2 + 1);
    expect(await deleteStaleSessions(handle.db, clock, 30)).toBe(1);
    expect((await handle.db.select().from(sessionLeases)).map((l) => l.key)).toEqual(['8']);
  });

  it('runs as a scheduled sweep with the configured TTL', async () => {
    await handle.db.insert(sessions).values([
      { key: '1', value: {}, updatedAt: daysAgo(8) },
      { key: '2', value: {}, updatedAt: daysAgo(6) },
    ]);
    expect(await runSweep(handle.db, clock, 'delete-stale-sessions', createSessionSweep(7))).toBe(1);
    expect(await keys()).toEqual(['2']);
  });
});

describe('session leases', () => {
  it('gives a chat to one owner at a time, until it is released or runs out', async () => {
    const { db } = handle;
    expect(await acquireSessionLease(db, clock, '42', 'a', LEASE_MS)).toBe(true);
    expect(await acquireSessionLease(db, clock, '42', 'b', LEASE_MS)).toBe(false);
    // Other chats are independent.
    expect(await acquireSessionLease(db, clock, '43', 'b', LEASE_MS)).toBe(true);
    // Released: the next one gets it at once.
    await releaseSessionLease(db, '42', 'a');
    expect(await acquireSessionLease(db, clock, '42', 'b', LEASE_MS)).toBe(true);
    // Someone else's release changes nothing.
    await releaseSessionLease(db, '42', 'a');
    expect(await acquireSessionLease(db, clock, '42', 'a', LEASE_MS)).toBe(false);
    // Renewed, it lasts; not renewed, it runs out and is taken over; the old owner cannot renew it then.
    clock.advance(8_000);
    expect(await renewSessionLease(db, clock, '42', 'b', LEASE_MS)).toBe(true);
    clock.advance(8_000);
    expect(await acquireSessionLease(db, clock, '42', 'a', LEASE_MS)).toBe(false);
    clock.advance(2_000);
    expect(await acquireSessionLease(db, clock, '42', 'a', LEASE_MS)).toBe(true);
    expect(await renewSessionLease(db, clock, '42', 'b', LEASE_MS)).toBe(false);
  });

  it('lets the owner take back a lease whose release failed', async () => {
    expect(await acquireSessionLease(handle.db, clock, '42', 'a', LEASE_MS)).toBe(true);
    expect(await acquireSessionLease(handle.db, clock, '42', 'a', LEASE_MS)).toBe(true);
  });

  it('never gives one chat to two of many owners asking at once', async () => {
    const owners = Array.from({ length: 8 }, (_, i) => `owner-${i}`);
    const results = await Promise.all(owners.map((o) => acquireSessionLease(handle.db, clock, '42', o, LEASE_MS)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});

describe('takeChat', () => {
  it('takes the lease and reads the sender and the session in one call, every column as drizzle reads it', async () => {
    const { db } = handle;
    const [olena] = await db
      .insert(users)
      .values({
        telegramId: 9_007_199_254,
        firstName: 'Олена',
        username: 'olena_k',
        locale: 'uk',
        role: 'seeker',
        district: 'hamborn',
        onboardedAt: new Date('2026-05-01T08:30:00.123Z'),
        pausedUntil: new Date('2026-06-08T10:00:00Z'),
        dailyCap: 5,
        quietStart: 22 * 60,
        quietEnd: 7 * 60,
        notifiedDay: '2026-06-01',
        notifiedCount: 2,
        lotse: true,
        organisation: 'Caritas',
      })
      .returning();
    await db.insert(sessions).values({ key: '9007199254', value: { dialog: { name: 'post', step: 'text', data: { category: 'housing' } } }, version: 3 });

    const state = await takeChat(db, clock, '9007199254', 'a', LEASE_MS, 9_007_199_254);
    expect(state).toEqual({ user: olena, session: { value: { dialog: { name: 'post', step: 'text', data: { category: 'housing' } } }, version: 3 } });
    expect(state?.user?.onboardedAt).toBeInstanceOf(Date);
    // Held by another owner: nothing is read; the same owner takes it back (a release that failed).
    expect(await takeChat(db, clock, '9007199254', 'b', LEASE_MS, 9_007_199_254)).toBeNull();
    expect(await takeChat(db, clock, '9007199254', 'a', LEASE_MS, 9_007_199_254)).not.toBeNull();
    // Run out: taken over, and the lease is the new owner's.
    clock.advance(LEASE_MS + 1);
    expect((await takeChat(db, clock, '9007199254', 'b', LEASE_MS, 9_007_199_254))?.session?.version).toBe(3);
    expect(await db.select({ owner: sessionLeases.owner }).from(sessionLeases)).toEqual([{ owner: 'b' }]);
    // Someone who never wrote before: no row, no session.
    expect(await takeChat(db, clock, '77', 'a', LEASE_MS, 77)).toEqual({ user: null, session: null });
  });
});
