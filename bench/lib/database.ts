import { Client } from 'pg';
import { createDatabase, type DatabaseHandle } from '../../src/db';
import { runMigrations } from '../../src/db/migrate';

/** The drivers a benchmark can run on. */
export type Driver = 'postgres' | 'pglite';

/** The server benchmarks use: only to create and drop their own database on it. */
export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** The same server's URL with another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The server's version ("16.4"), or "unavailable". */
export async function serverVersion(): Promise<string> {
  const client = new Client({ connectionString: BENCH_DATABASE_URL });
  try {
    await client.connect();
    const result = await client.query<{ server_version: string }>('show server_version');
    return result.rows[0]?.server_version.split(' ')[0] ?? '?';
  } catch {
    return 'unavailable';
  } finally {
    await client.end().catch(() => undefined);
  }
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
 * before anyone connects; `keep` leaves the database on the server after close() (see reopenBenchDatabase).
 */
export async function openBenchDatabase(driver: Driver, name: string, options: { poolSize?: number; settings?: Record<string, string>; keep?: boolean } = {}): Promise<DatabaseHandle> {
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
  if (options.keep) return handle;
  return {
    ...handle,
    async close() {
      await handle.close();
      await onServer(`drop database if exists ${name} with (force)`);
    },
  };
}

/** An empty database `name` on the server (no migrations), for a baseline that makes its own table; drop() removes it. */
export async function emptyServerDatabase(name: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  await onServer(`drop database if exists ${name} with (force)`);
  await onServer(`create database ${name}`);
  return { url: withDatabase(BENCH_DATABASE_URL, name), drop: () => onServer(`drop database if exists ${name} with (force)`) };
}

/** A database an earlier run kept (PostgreSQL), with any newer migrations applied; left on the server by close(). */
export async function reopenBenchDatabase(name: string): Promise<DatabaseHandle> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  const handle = await createDatabase({ DATABASE_URL: withDatabase(BENCH_DATABASE_URL, name) });
  await runMigrations(handle);
  return handle;
}
