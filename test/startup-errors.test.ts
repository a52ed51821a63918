import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { Client, Pool } from 'pg';
import { createDatabase } from '../src/db';
import { describeDatabaseStartError, describeListenError } from '../src/startup-errors';
import { freePort } from './helpers/wait';

const PASSWORD = 's3cr3t-Pa55';

async function connectError(url: string): Promise<unknown> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (err) {
    return err;
  } finally {
    await client.end().catch(() => undefined);
  }
  throw new Error(`expected ${url} to fail`);
}

async function listenError(port: number, host = '127.0.0.1'): Promise<unknown> {
  const server = net.createServer();
  return new Promise((resolve, reject) => {
    server.once('error', resolve);
    server.listen(port, host, () => server.close(() => reject(new Error(`expected port ${port} to fail`))));
  });
}

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

function expectOneSafeLine(line: string): void {
  expect(line).not.toContain('\n');
  expect(line).not.toContain(PASSWORD);
  expect(line).not.toContain('alice');
}

describe('describeDatabaseStartError for PostgreSQL', () => {
  it('names host and port of a refused connection (real attempt)', async () => {
    const port = await freePort();
    const url = `postgres://alice:${PASSWORD}@127.0.0.1:${port}/hilfenetz`;
    const line = describeDatabaseStartError(await connectError(url), url, './data');
    expect(line).toBe(`DATABASE_URL: cannot connect to 127.0.0.1:${port} (connection refused — is PostgreSQL running there?)`);
    expectOneSafeLine(line);
  });

  it('sees through drizzle wrapping a refused connection (real attempt)', async () => {
    const port = await freePort();
    const url = `postgres://alice:${PASSWORD}@localhost:${port}/hilfenetz`;
    const pool = new Pool({ connectionString: url, connectionTimeoutMillis: 5_000 });
    const err = await drizzle(pool)
      .execute(sql`select 1`)
      .then(() => new Error('expected the query to fail'), (e: unknown) => e);
    await pool.end();
    expect(describeDatabaseStartError(err, url, './data')).toBe(
      `DATABASE_URL: cannot connect to localhost:${port} (connection refused — is PostgreSQL running there?)`,
    );
  });

  it('reports an unknown host (real lookup of a .invalid name)', async () => {
    const url = `postgres://alice:${PASSWORD}@no-such-host.invalid:5432/x`;
    const line = describeDatabaseStartError(await connectError(url), url, './data');
    expect(line).toBe('DATABASE_URL: cannot connect to no-such-host.invalid:5432 (unknown host)');
    expectOneSafeLine(line);
  });

  it('picks the refused connection out of an AggregateError (IPv6 and IPv4 tried)', () => {
    const err = new AggregateError(
      [pgError('EADDRNOTAVAIL', 'connect EADDRNOTAVAIL ::1:5432'), pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
      '',
    );
    expect(describeDatabaseStartError(err, `postgres://alice:${PASSWORD}@localhost/db`, './data')).toBe(
      'DATABASE_URL: cannot connect to localhost:5432 (connection refused — is PostgreSQL running there?)',
    );
  });

  it('explains what the server answered', () => {
    const url = `postgres://alice:${PASSWORD}@db.example.org:6543/hilfenetz`;
    const cases: [unknown, string][] = [
      [pgError('28P01', 'password authentication failed for user "alice"'), 'authentication failed — check user and password'],
      [pgError('28000', 'no pg_hba.conf entry for host "10.0.0.5", user "alice"'), 'authentication failed — check user and password'],
      [pgError('3D000', 'database "hilfenetz" does not exist'), 'database "hilfenetz" does not exist'],
      [pgError('57P03', 'the database system is starting up'), 'the server is starting up or shutting down'],
      [new Error('timeout exceeded when trying to connect'), 'no answer within 5 s'],
      [new Error('Connection terminated due to connection timeout'), 'no answer within 5 s'],
      [pgError('ETIMEDOUT', 'connect ETIMEDOUT 10.0.0.1:6543'), 'no answer within 5 s'],
      [pgError('EAI_AGAIN', 'getaddrinfo EAI_AGAIN db.example.org'), 'unknown host'],
    ];
    for (const [err, reason] of cases) {
      const wrapped = new Error('Failed query: select 1\nparams: ', { cause: err });
      for (const e of [err, wrapped]) {
        const line = describeDatabaseStartError(e, url, './data');
        expect(line).toBe(`DATABASE_URL: cannot connect to db.example.org:6543 (${reason})`);
        expectOneSafeLine(line);
      }
    }
  });

  it('takes the missing database name from the server when the URL has none', () => {
    expect(describeDatabaseStartError(pgError('3D000', 'database "hn" does not exist'), 'postgres://db?user=hn', 'd')).toBe(
      'DATABASE_URL: cannot connect to db:5432 (database "hn" does not exist)',
    );
  });

  it('falls back to a short code and message without credentials', () => {
    const url = `postgres://alice:${PASSWORD}@db.example.org/hilfenetz`;
    const long = pgError('XX000', `internal error for user "alice" at ${url}: ${'x'.repeat(500)}`);
    const line = describeDatabaseStartError(long, url, './data');
    expect(line).toMatch(/^DATABASE_URL: cannot connect to db\.example\.org:5432 \(XX000: internal error for user "\*\*\*" at \*\*\*: x+…\)$/);
    expect(line.length).toBeLessThan(300);
    expectOneSafeLine(line);
    expect(describeDatabaseStartError(new Error(`bad password ${PASSWORD}`), url, './data')).toBe(
      'DATABASE_URL: cannot connect to db.example.org:5432 (bad password ***)',
    );
    expect(describeDatabaseStartError('boom', url, './data')).toBe('DATABASE_URL: cannot connect to db.example.org:5432 (boom)');
  });

  it('does without host and port when the URL cannot be read', () => {
    const url = `postgres://alice:${PASSWORD}@db:port/x`;
    const line = describeDatabaseStartError(pgError('ECONNREFUSED', 'connect ECONNREFUSED'), url, './data');
    expect(line).toBe('DATABASE_URL: cannot connect (connection refused — is PostgreSQL running there?)');
  });
});

describe('describeDatabaseStartError for PGlite', () => {
  const dir = path.resolve('./data', 'pglite');

  it('names the absolute directory and the cause', () => {
    expect(describeDatabaseStartError(pgError('EACCES', "EACCES: permission denied, mkdir 'data'"), undefined, './data')).toBe(
      `DATA_DIR: cannot open the embedded database in ${dir} (no permission to write there)`,
    );
    expect(describeDatabaseStartError(pgError('EROFS', 'EROFS: read-only file system'), undefined, './data')).toBe(
      `DATA_DIR: cannot open the embedded database in ${dir} (no permission to write there)`,
    );
    expect(describeDatabaseStartError(pgError('ENOSPC', 'ENOSPC: no space left on device'), undefined, './data')).toBe(
      `DATA_DIR: cannot open the embedded database in ${dir} (disk full)`,
    );
    expect(describeDatabaseStartError(new Error('could not write file: No space left on device'), undefined, '/srv/hn')).toBe(
      'DATA_DIR: cannot open the embedded database in /srv/hn/pglite (disk full)',
    );
  });

  it('reports a data directory that is a file (real attempt)', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'hn-data-')), 'not-a-dir');
    writeFileSync(file, '');
    const err = await createDatabase({ DATA_DIR: file }).then(
      async (handle) => {
        await handle.close();
        return new Error('expected the database to fail');
      },
      (e: unknown) => e,
    );
    const line = describeDatabaseStartError(err, undefined, file);
    expect(line).toMatch(new RegExp(`^DATA_DIR: cannot open the embedded database in ${file}/pglite \\(ENOTDIR: .+\\)$`));
    expect(line).not.toContain('\n');
  });
});

describe('describeListenError', () => {
  it('reports a port in use (real second listen)', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      expect(describeListenError(await listenError(port), port)).toBe(
        `PORT: port ${port} is already in use by another program; stop it or set PORT to a free port`,
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('reports a privileged port', () => {
    expect(describeListenError(pgError('EACCES', 'listen EACCES: permission denied 0.0.0.0:80'), 80)).toBe(
      'PORT: no permission to listen on port 80; use a port above 1024',
    );
  });

  it('reports anything else with its code and message', async () => {
    const port = 8080;
    const err = Object.assign(new Error(`listen EADDRNOTAVAIL: address not available 10.0.0.1:${port}`), { code: 'EADDRNOTAVAIL' });
    expect(describeListenError(err, port)).toBe(`PORT: cannot listen on port ${port} (listen EADDRNOTAVAIL: address not available 10.0.0.1:${port})`);
    expect(describeListenError(new Error('odd'), 8080)).toBe('PORT: cannot listen on port 8080 (odd)');
  });
});
