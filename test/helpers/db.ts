import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getTableName, sql } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { Client } from 'pg';
import { createDatabase, type DatabaseHandle } from '../../src/db';
import { runMigrations } from '../../src/db/migrate';
import { preparePgliteSeed } from '../../src/db/pglite-seed-build';
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
 * A migrated PGlite data directory to copy from: the same seed `npm install` prepares for `npm start`
 * (src/db/pglite-seed.ts), kept in the temporary directory and shared by every test file, worker,
 * spawned bot and run. A new PGlite runs initdb (4–12 s of CPU); opening a copy takes under a second.
 */
export function pgliteTemplate(): Promise<string> {
  return preparePgliteSeed(TEMPLATES);
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
