import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { getTableColumns, type InferSelectModel, type Query, type SQL, sql, type Table } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { type PgDatabase, PgDialect, type PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { Pool } from 'pg';
import type { Logger } from '../logger';
import { seedDataDir } from './pglite-seed';
import * as schema from './schema';

export { schema };

/** One database type for both drivers: domain code never knows which one it runs on. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A transaction or the database itself; domain functions accept either. */
export type Executor = Database | Parameters<Parameters<Database['transaction']>[0]>[0];

/** An open database plus what the composition root needs to manage it. */
export interface DatabaseHandle {
  db: Database;
  driver: 'postgres' | 'pglite';
  /** Resolves when the database answers; used by /healthz. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Runs fn on a single connection (PostgreSQL) so that session-level advisory locks work. */
  withSingleConnection<T>(fn: (db: Database) => Promise<T>): Promise<T>;
}

export interface DatabaseOptions {
  DATABASE_URL?: string | undefined;
  DATA_DIR?: string;
  /** `memory` gives a throwaway PGlite (tests, benchmarks). */
  pgliteDataDir?: string;
  poolSize?: number;
  logger?: Logger;
  /**
   * A fresh PGlite data directory starts as a copy of the seed `npm install` prepared (src/db/pglite-seed.ts)
   * instead of running initdb and every migration. The bot and `db:migrate` ask for it; tests that check
   * migrations from nothing do not.
   */
  seedPglite?: boolean;
}

/** PostgreSQL through a pg Pool when DATABASE_URL is set, embedded PGlite under DATA_DIR otherwise. */
export async function createDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.DATABASE_URL) return createPostgres(options.DATABASE_URL, options);
  const dir = options.pgliteDataDir ?? path.resolve(options.DATA_DIR ?? './data', 'pglite');
  if (dir === 'memory') return createPglite(undefined);
  if (options.seedPglite && seedDataDir(dir)) options.logger?.info({ dataDir: dir }, 'new PGlite data directory made from the seed prepared by npm install');
  return createPglite(dir);
}

function createPostgres(url: string, options: DatabaseOptions): DatabaseHandle {
  const pool = new Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // A stuck query must not hold an update (and the user) forever.
    statement_timeout: 30_000,
    // Short OLTP statements: JIT compilation only costs time here, and a misestimated plan would pay
    // tens to hundreds of milliseconds for it (bench:match).
    options: '-c jit=off',
  });
  // A server restart or failover ends every connection. An 'error' event without a listener would crash
  // the process: the pool listens only while a connection is idle, so each connection also gets its own
  // listener for the time it is checked out (a transaction, a migration). The query that was running
  // fails with a transient error and the pool replaces the connection by itself.
  const lost = (err: Error) => options.logger?.warn({ err: connectionErrorSummary(err) }, 'database connection lost');
  pool.on('connect', (client) => client.on('error', lost));
  // Idle connections report through the pool as well; the listener above has logged it already.
  pool.on('error', () => undefined);
  const db = drizzleNodePg(pool, { schema }) as unknown as Database;
  return {
    db,
    driver: 'postgres',
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await pool.end();
    },
    async withSingleConnection(fn) {
      const client = await pool.connect();
      try {
        return await fn(drizzleNodePg(client, { schema }));
      } finally {
        client.release();
      }
    },
  };
}

async function createPglite(dataDir: string | undefined): Promise<DatabaseHandle> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir ? { dataDir } : {});
  const db = drizzlePglite(client, { schema }) as unknown as Database;
  return {
    db,
    driver: 'pglite',
    async ping() {
      await client.query('select 1');
    },
    async close() {
      if (!client.closed) await client.close();
    },
    // PGlite is one connection already.
    withSingleConnection: (fn) => fn(db),
  };
}

/** What a lost connection contributes to a log line: its code and message, never the client object. */
export function connectionErrorSummary(err: unknown): { code?: string; message: string } {
  const e = (err ?? {}) as { code?: unknown; message?: unknown };
  return { ...(typeof e.code === 'string' ? { code: e.code } : {}), message: String(e.message ?? err).slice(0, 200) };
}

/** Rows of a raw SQL statement, for both drivers (both results carry `rows`). */
export async function queryRows<T>(db: Executor, query: ReturnType<typeof sql>): Promise<T[]> {
  const result = (await db.execute(query)) as { rows: T[] };
  return result.rows;
}

const dialect = new PgDialect();

/**
 * Hot statements are prepared through drizzle's session (its `prepareQuery`, which names them on
 * node-postgres), so that PostgreSQL parses and plans them once per connection instead of every time
 * (after five runs the server keeps a generic plan when it costs no more than the custom ones). drizzle
 * prepares only its query builders itself; these two do it for raw SQL. On PGlite the name is ignored.
 */

/**
 * A raw statement built once and prepared per database object, for the few statements every update runs:
 * drizzle does not build its SQL again at each call either. `statement` takes its values as
 * `sql.placeholder(name)`.
 */
export function preparedStatement<T>(name: string, statement: SQL): (db: Executor, values: Record<string, unknown>) => Promise<T[]> {
  const query = dialect.sqlToQuery(statement);
  const prepared = new WeakMap<Executor, { execute(values: Record<string, unknown>): Promise<unknown> }>();
  return async (db, values) => {
    let statementOfDb = prepared.get(db);
    if (!statementOfDb) {
      statementOfDb = db._.session.prepareQuery(query, undefined, name, false);
      prepared.set(db, statementOfDb);
    }
    const result = (await statementOfDb.execute(values)) as { rows: T[] };
    return result.rows;
  };
}

/**
 * Raw statements whose text depends on a few structural choices — a *shape*, such as how many districts a
 * wave's ranking reads (src/domain/waves.ts) — and whose values are `sql.placeholder(name)`. Each shape's
 * text is built once and prepared per connection under a name that is a hash of it; a run binds only the
 * values. For statements whose planning costs more than their execution, and whose SQL is large enough that
 * building its text again at every run cost a good part of a millisecond (the wave's: ~0.7 ms).
 */
export function shapedStatement<S, T>(key: (shape: S) => string, build: (shape: S) => SQL): (db: Executor, shape: S, values: Record<string, unknown>) => Promise<T[]> {
  const built = new Map<string, { query: Query; name: string }>();
  return async (db, shape, values) => {
    const k = key(shape);
    let statement = built.get(k);
    if (!statement) {
      const query = dialect.sqlToQuery(build(shape));
      statement = { query, name: `hn_${createHash('sha1').update(query.sql).digest('hex').slice(0, 24)}` };
      built.set(k, statement);
    }
    const result = (await db._.session.prepareQuery(statement.query, undefined, statement.name, false).execute(values)) as { rows: T[] };
    return result.rows;
  };
}

/**
 * A row as a statement returns it through row_to_json (column names, JSON values) in drizzle's shape: for
 * statements that return a table's row next to other columns (a database function, a CTE's RETURNING).
 */
export function rowFromJson<T extends Table>(table: T, row: Record<string, unknown>): InferSelectModel<T> {
  const out: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = row[column.name];
    out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return out as InferSelectModel<T>;
}
