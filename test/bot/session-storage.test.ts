import { eq } from 'drizzle-orm';
import type { SessionData } from '../../src/bot/context';
import { DrizzleSessionStorage } from '../../src/bot/session-storage';
import { ManualClock } from '../../src/clock';
import { sessions } from '../../src/db/schema';
import { DomainError } from '../../src/domain/errors';
import { createTestDb, resetTestDb, type TestDatabase } from '../helpers/db';

let handle: TestDatabase;
let clock: ManualClock;
/** Two processes' storages on one database. */
let a: DrizzleSessionStorage<SessionData>;
let b: DrizzleSessionStorage<SessionData>;
beforeAll(async () => {
  handle = await createTestDb();
});
beforeEach(async () => {
  await resetTestDb(handle);
  clock = new ManualClock('2026-06-01T10:00:00Z');
  a = new DrizzleSessionStorage(handle.db, clock);
  b = new DrizzleSessionStorage(handle.db, clock);
});
afterAll(async () => {
  await handle.close();
});

const dialog = (step: string): SessionData => ({ dialog: { name: 'post', step, messageId: 7, data: { kind: 'need' } } });

async function row(key: string) {
  const [found] = await handle.db.select().from(sessions).where(eq(sessions.key, key));
  return found;
}

describe('DrizzleSessionStorage', () => {
  it('writes only what changed', async () => {
    // No session and nothing to store: no row.
    expect(await a.read('1')).toBeUndefined();
    await a.write('1', {});
    expect(await row('1')).toBeUndefined();

    expect(await a.read('1')).toBeUndefined();
    await a.write('1', dialog('category'));
    expect(await row('1')).toMatchObject({ version: 1, value: dialog('category'), updatedAt: clock.now() });

    // Read and written back unchanged (most updates): no write, the time of the last change stays.
    clock.advanceHours(1);
    const session = (await a.read('1'))!;
    await a.write('1', session);
    expect(await row('1')).toMatchObject({ version: 1, updatedAt: new Date('2026-06-01T10:00:00Z') });

    // Changed in place, as handlers do.
    const again = (await a.read('1'))!;
    again.dialog!.step = 'district';
    await a.write('1', again);
    expect(await row('1')).toMatchObject({ version: 2, value: dialog('district'), updatedAt: clock.now() });

    // A dialog that ended leaves an empty session.
    const ended = (await a.read('1'))!;
    delete ended.dialog;
    await a.write('1', ended);
    expect(await row('1')).toMatchObject({ version: 3, value: {} });
  });

  it('never overwrites a session another process changed after it was read', async () => {
    await a.read('1');
    await a.write('1', dialog('preview'));

    const seenByA = (await a.read('1'))!;
    const seenByB = (await b.read('1'))!;
    delete seenByA.dialog; // A published and closed the dialog …
    await a.write('1', seenByA);
    seenByB.dialog!.data = { kind: 'need', refused: true }; // … B, from the same old state, kept the draft.
    await expect(b.write('1', seenByB)).rejects.toEqual(new DomainError('errors.sessionConflict'));
    expect(await row('1')).toMatchObject({ version: 2, value: {} });

    // B's next update reads the newer session and goes on from there.
    expect(await b.read('1')).toEqual({});
  });

  it('lets only one of two processes create a new session', async () => {
    expect(await a.read('1')).toBeUndefined();
    expect(await b.read('1')).toBeUndefined();
    await b.write('1', dialog('category'));
    await expect(a.write('1', dialog('text'))).rejects.toBeInstanceOf(DomainError);
    expect(await row('1')).toMatchObject({ version: 1, value: dialog('category') });
  });

  it('conflicts with a session deleted meanwhile (/deleteme, the sweep) instead of bringing it back', async () => {
    await a.read('1');
    await a.write('1', dialog('category'));
    const seen = (await a.read('1'))!;
    await b.read('1');
    await b.delete('1');
    seen.dialog!.step = 'district';
    await expect(a.write('1', seen)).rejects.toBeInstanceOf(DomainError);
    expect(await row('1')).toBeUndefined();
  });
});
