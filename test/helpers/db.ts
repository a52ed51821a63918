import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getTableName, sql } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { Client } from 'pg';
import { createDatabase, type DatabaseHandle } from '../../src/db';
import { MIGRATIONS_FOLDER, runMigrations } from '../../src/db/migrate';
import * as schema from '../../src/db/schema';

/** The PostgreSQL server tests use when TEST_DATABASE_URL is set; PGlite otherwise. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

export interface TestDatabase extends DatabaseHandle {
  /** The URL of the database created for this test file (PostgreSQL only). */
  url?: string;
}

/** Where the migrated PGlite data directories that tests copy are kept (one per set of migrations). */
const TEMPLATES = path.join(tmpdir(), 'hilfenetz-test-pglite');

/**
 * A migrated PGlite data directory to copy from. A new PGlite runs initdb, which takes 4–12 s of CPU;
 * opening a copy of an initialised one takes under a second. Made once per PGlite version and set of
 * migrations (their content is the key) and shared by every test file, worker, spawned bot and run.
 */
export async function pgliteTemplate(): Promise<string> {
  const hash = createHash('sha256');
  hash.update(readFileSync(path.join(path.dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json')));
  const files = readdirSync(MIGRATIONS_FOLDER, { recursive: true, encoding: 'utf8' }).sort();
  for (const file of files) {
    const full = path.join(MIGRATIONS_FOLDER, file);
    if (file.endsWith('.sql') || file.endsWith('.json')) hash.update(file).update(readFileSync(full));
  }
  const template = path.join(TEMPLATES, hash.digest('hex').slice(0, 16));
  if (existsSync(template)) return template;
  mkdirSync(TEMPLATES, { recursive: true });
  const building = mkdtempSync(`${template}.building-`);
  const handle = await createDatabase({ pgliteDataDir: building });
  await runMigrations(handle);
  await handle.close();
  try {
    // Atomic: another worker may have finished first; then its copy is used and this one dropped.
    renameSync(building, template);
  } catch {
    rmSync(building, { recursive: true, force: true });
  }
  return template;
}

/**
 * A DATA_DIR for a bot process (`src/main.ts` opens `<DATA_DIR>/pglite`) that holds an already
 * migrated database, so that the process starts in about a second instead of running initdb.
 */
export async function createDataDir(prefix = 'hn-data-'): Promise<string> {
  const template = await pgliteTemplate();
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  cpSync(template, path.join(dir, 'pglite'), { recursive: true });
  return dir;
}

/**
 * A fresh, migrated database for one test file: PGlite in a copy of the migrated template (removed again
 * by close()) by default, or a new database on the PostgreSQL server at TEST_DATABASE_URL (dropped
 * again by close()).
 */
export async function createTestDb(): Promise<TestDatabase> {
  if (!TEST_DATABASE_URL) {
    const template = await pgliteTemplate();
    const dir = mkdtempSync(path.join(tmpdir(), 'hn-pglite-'));
    cpSync(template, dir, { recursive: true });
    const handle = await createDatabase({ pgliteDataDir: dir });
    // Nothing to apply (the template is migrated); it checks that the template matches the migrations.
    await runMigrations(handle);
    return {
      ...handle,
      async close() {
        await handle.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `hilfenetz_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin(async (client) => {
    await client.query(`create database ${name}`);
  });
  const url = withDatabase(TEST_DATABASE_URL, name);
  const handle = await createDatabase({ DATABASE_URL: url, poolSize: 5 });
  await runMigrations(handle);
  return {
    ...handle,
    url,
    async close() {
      await handle.close();
      await admin((client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/** Runs statements on the server's own database (create/drop test databases). */
export async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

const TABLES = (Object.values(schema) as unknown[])
  .filter((v): v is PgTable => v instanceof PgTable)
  .map((t) => `"${getTableName(t)}"`);

/** Empties every table (and restarts ids) so that the tests of one file share one database cheaply. */
export async function resetTestDb(handle: DatabaseHandle): Promise<void> {
  await handle.db.execute(sql.raw(`truncate ${TABLES.join(', ')} restart identity cascade`));
}
