import path from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { PROJECT_ROOT } from '../util/project-root';
import type { DatabaseHandle } from './index';

/** The committed drizzle-kit migrations. */
export const MIGRATIONS_FOLDER = path.join(PROJECT_ROOT, 'migrations');

/** A fixed key for the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK = 726_411_001;

/**
 * Applies pending migrations. On PostgreSQL, a session advisory lock makes two processes that start
 * together apply them once, one after the other.
 */
export async function runMigrations(handle: DatabaseHandle): Promise<void> {
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
