import { sql } from 'drizzle-orm';
import { createDatabase, type DatabaseHandle } from '../../src/db';
import { isUpToDate, runMigrations } from '../../src/db/migrate';

describe('migrations at start-up', () => {
  let handle: DatabaseHandle;
  beforeEach(async () => {
    handle = await createDatabase({ pgliteDataDir: 'memory' });
  });
  afterEach(async () => {
    await handle.close();
  });

  it('runs the migrator on an empty database and skips it once the newest migration is recorded', async () => {
    expect(await isUpToDate(handle)).toBe(false);
    await runMigrations(handle);
    expect(await isUpToDate(handle)).toBe(true);
    // The schema is there: the tables exist.
    await handle.db.execute(sql`select 1 from users limit 1`);
  });

  it('is not up to date when the newest committed migration is not recorded (a database one release behind)', async () => {
    await runMigrations(handle);
    await handle.db.execute(sql`delete from drizzle.__drizzle_migrations where created_at = (select max(created_at) from drizzle.__drizzle_migrations)`);
    expect(await isUpToDate(handle)).toBe(false);
  });
});
