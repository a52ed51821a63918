import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { createDatabase, queryRows } from '../../src/db';
import { isUpToDate } from '../../src/db/migrate';
import { isFreshDataDir, pgliteSeedKey, seedDataDir } from '../../src/db/pglite-seed';
import { preparePgliteSeed, pruneSeeds } from '../../src/db/pglite-seed-build';
import { pgliteTemplate } from '../helpers/db';

describe('the PGlite seed (a fresh data directory is a copy, not initdb)', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hn-seed-test-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('fills a fresh data directory with a migrated database, and only a fresh one', async () => {
    const template = await pgliteTemplate();
    const root = path.dirname(template);
    expect(path.basename(template)).toBe(pgliteSeedKey());
    // Preparing again finds the seed that is there.
    expect(await preparePgliteSeed(root)).toBe(template);

    const dataDir = path.join(tempDir(), 'pglite');
    expect(isFreshDataDir(dataDir)).toBe(true);
    expect(seedDataDir(dataDir, root)).toBe(true);
    expect(isFreshDataDir(dataDir)).toBe(false);
    const handle = await createDatabase({ pgliteDataDir: dataDir });
    try {
      expect(await isUpToDate(handle)).toBe(true);
      await handle.db.execute(sql`insert into users (telegram_id, locale) values (4242, 'uk')`);
    } finally {
      await handle.close();
    }

    // An existing cluster is never overwritten: what it holds stays.
    expect(seedDataDir(dataDir, root)).toBe(false);
    const reopened = await createDatabase({ pgliteDataDir: dataDir });
    try {
      const [row] = await queryRows<{ n: number }>(reopened.db, sql`select count(*)::int as n from users where telegram_id = 4242`);
      expect(row?.n).toBe(1);
    } finally {
      await reopened.close();
    }
  });

  it('does nothing without a seed for the current migrations', () => {
    const dataDir = path.join(tempDir(), 'pglite');
    expect(seedDataDir(dataDir, tempDir())).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('removes seeds of other versions once they are an hour old, and keeps the current one', () => {
    const root = tempDir();
    const keep = path.join(root, pgliteSeedKey());
    const recent = path.join(root, 'pglite-0000000000000001');
    const old = path.join(root, 'pglite-0000000000000002');
    const unrelated = path.join(root, 'notes');
    for (const dir of [keep, recent, old, unrelated]) mkdirSync(dir);
    writeFileSync(path.join(old, 'PG_VERSION'), '17');
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    for (const dir of [keep, old, unrelated]) utimesSync(dir, twoHoursAgo, twoHoursAgo);
    pruneSeeds(root, keep);
    expect(existsSync(keep)).toBe(true);
    expect(existsSync(recent)).toBe(true);
    expect(existsSync(unrelated)).toBe(true);
    expect(existsSync(old)).toBe(false);
  });
});
