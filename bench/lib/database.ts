import { Client } from 'pg';
import { createDatabase, type DatabaseHandle } from '../../src/db';
import { runMigrations } from '../../src/db/migrate';

/** The drivers a benchmark can run on. */
export type Driver = 'postgres' | 'pglite';

/** The server benchmarks use: only to create and drop their own database on it. */
export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function onServer(statement: string): Promise<void> {
  const client = new Client({ connectionString: BENCH_DATABASE_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, migrated database for one benchmark case: a new database `name` on the PostgreSQL server
 * (dropped again by close()), or an in-memory PGlite. The same migrations as production run on both.
 * `poolSize` undefined means the production pool size; `settings` are set on the new database (PostgreSQL only)
 * before anyone connects.
 */
export async function openBenchDatabase(driver: Driver, name: string, options: { poolSize?: number; settings?: Record<string, string> } = {}): Promise<DatabaseHandle> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  if (driver === 'pglite') {
    const handle = await createDatabase({ pgliteDataDir: 'memory' });
    await runMigrations(handle);
    return handle;
  }
  await onServer(`drop database if exists ${name} with (force)`);
  await onServer(`create database ${name}`);
  // Settings of this database only (e.g. synchronous_commit for a simulation that measures no commit latency).
  for (const [key, value] of Object.entries(options.settings ?? {})) {
    if (!/^[a-z_]+$/.test(key) || !/^[a-z0-9_]+$/.test(value)) throw new Error(`bad setting ${key}=${value}`);
    await onServer(`alter database ${name} set ${key} = ${value}`);
  }
  const handle = await createDatabase({ DATABASE_URL: withDatabase(BENCH_DATABASE_URL, name), poolSize: options.poolSize });
  await runMigrations(handle);
  return {
    ...handle,
    async close() {
      await handle.close();
      await onServer(`drop database if exists ${name} with (force)`);
    },
  };
}
