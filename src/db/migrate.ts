import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { MIGRATIONS_FOLDER } from '../util/project-root';
import type { DatabaseHandle } from './index';

/** A fixed key for the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK = 726_411_001;

/** When the newest committed migration was generated (drizzle-kit's journal), as drizzle records it. */
function newestMigrationMillis(): number {
  const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: { when: number }[] };
  return Math.max(...journal.entries.map((e) => e.when));
}

/**
 * Whether the database already has the newest committed migration: one small query instead of the
 * migrator, which reads and hashes every migration file and creates its schema and table if missing.
 * Any doubt (no table yet, an error) answers false and the migrator decides.
 */
export async function isUpToDate(handle: DatabaseHandle): Promise<boolean> {
  try {
    const result = (await handle.db.execute(sql`select max(created_at)::text as newest from drizzle.__drizzle_migrations`)) as { rows: { newest: string | null }[] };
    const newest = result.rows[0]?.newest;
    return newest !== null && newest !== undefined && Number(newest) >= newestMigrationMillis();
  } catch {
    return false;
  }
}

/**
 * Applies pending migrations, unless the database is up to date already (isUpToDate). On PostgreSQL, a
 * session advisory lock makes two processes that start together apply them once, one after the other.
 */
export async function runMigrations(handle: DatabaseHandle): Promise<void> {
  if (await isUpToDate(handle)) return;
  if (handle.driver === 'pglite') {
    await migratePglite(handle.db as unknown as PgliteDatabase<Record<string, never>>, { migrationsFolder: MIGRATIONS_FOLDER });
    return;
  }
  await handle.withSingleConnection(async (db) => {
    await db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK})`);
    try {
      await migrateNodePg(db as unknown as NodePgDatabase<Record<string, never>>, { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK})`);
    }
  });
}
