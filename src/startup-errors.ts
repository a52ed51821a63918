/**
 * Turns the raw errors of a failed start (database, HTTP port) into one line each that says what is
 * wrong and what to check, without a stack trace and without credentials.
 */
import path from 'node:path';

type ErrorLike = { code?: unknown; message?: unknown; errors?: unknown; cause?: unknown };

const MAX_DETAIL = 200;

// The error and everything it wraps (drizzle's `cause`, AggregateError's `errors` for IPv4 + IPv6), outermost first.
function unwrap(err: unknown): ErrorLike[] {
  const seen = new Set<unknown>();
  const chain: ErrorLike[] = [];
  const visit = (e: unknown, depth: number) => {
    if (!e || typeof e !== 'object' || seen.has(e) || depth > 5) return;
    seen.add(e);
    chain.push(e);
    const { errors, cause } = e as ErrorLike;
    if (Array.isArray(errors)) for (const inner of errors) visit(inner, depth + 1);
    visit(cause, depth + 1);
  };
  visit(err, 0);
  return chain;
}

const codeOf = (e: ErrorLike) => (typeof e.code === 'string' && e.code ? e.code : undefined);
const messageOf = (e: ErrorLike) => (typeof e.message === 'string' ? e.message : '');

// The first code in the chain that `reasonFor` knows, as its reason.
function knownReason(chain: ErrorLike[], reasonFor: (code: string) => string | undefined): string | undefined {
  for (const e of chain) {
    const code = codeOf(e);
    const reason = code && reasonFor(code);
    if (reason) return reason;
  }
  return undefined;
}

// The code and message of the most telling error: the first one with a code, else the innermost.
function detail(err: unknown, chain: ErrorLike[], secrets: string[] = []): string {
  const chosen = chain.find(codeOf) ?? chain.at(-1);
  const code = chosen && codeOf(chosen);
  let message = chosen ? messageOf(chosen) : String(err);
  for (const secret of secrets) if (secret) message = message.split(secret).join('***');
  message = message.replace(/user "[^"]*"/g, 'user "***"').replace(/\s+/g, ' ').trim();
  const text = (code && !message.includes(code) ? [code, message] : [message]).filter(Boolean).join(': ') || 'unknown error';
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL - 1)}…` : text;
}

// Host, port and database name of a postgres:// URL; user and password are deliberately left out.
function postgresTarget(databaseUrl: string): { where: string | undefined; database: string; secrets: string[] } {
  try {
    const url = new URL(databaseUrl);
    const host = decodeURIComponent(url.hostname) || url.searchParams.get('host') || 'localhost';
    const port = url.port || url.searchParams.get('port') || '5432';
    const secrets = [databaseUrl, url.password, decodeURIComponent(url.password)];
    return { where: `${host}:${port}`, database: decodeURIComponent(url.pathname.replace(/^\//, '')), secrets };
  } catch {
    return { where: undefined, database: '', secrets: [databaseUrl] };
  }
}

/** One line for a database that cannot be opened at start, naming the server or directory and the likely cause. */
export function describeDatabaseStartError(err: unknown, databaseUrl: string | undefined, dataDir: string): string {
  const chain = unwrap(err);
  if (!databaseUrl) {
    const dir = path.join(path.resolve(dataDir), 'pglite');
    const text = chain.map(messageOf).join(' ');
    const reason =
      knownReason(chain, (code) =>
        code === 'EACCES' || code === 'EROFS' || code === 'EPERM'
          ? 'no permission to write there'
          : code === 'ENOSPC'
            ? 'disk full'
            : undefined,
      ) ??
      (/permission denied|read-only file system/i.test(text) ? 'no permission to write there' : undefined) ??
      (/no space left/i.test(text) ? 'disk full' : undefined) ??
      detail(err, chain);
    return `DATA_DIR: cannot open the embedded database in ${dir} (${reason})`;
  }
  const { where, database, secrets } = postgresTarget(databaseUrl);
  const missingDatabase = () => {
    const named = database || /database "([^"]+)" does not exist/.exec(chain.map(messageOf).join(' '))?.[1];
    return named ? `database "${named}" does not exist` : 'the database does not exist';
  };
  const reason =
    knownReason(chain, (code) => {
      switch (code) {
        case 'ECONNREFUSED':
          return 'connection refused — is PostgreSQL running there?';
        case 'ENOTFOUND':
        case 'EAI_AGAIN':
          return 'unknown host';
        case '28P01':
        case '28000':
          return 'authentication failed — check user and password';
        case '3D000':
          return missingDatabase();
        case '57P03':
          return 'the server is starting up or shutting down';
        case 'ETIMEDOUT':
          return 'no answer within 5 s';
        default:
          return undefined;
      }
    }) ??
    (chain.some((e) => /timeout|timed out/i.test(messageOf(e))) ? 'no answer within 5 s' : undefined) ??
    detail(err, chain, secrets);
  return `DATABASE_URL: cannot connect${where ? ` to ${where}` : ''} (${reason})`;
}

/** One line for an HTTP port that cannot be opened at start, with what to do about it. */
export function describeListenError(err: unknown, port: number): string {
  const chain = unwrap(err);
  const codes = chain.map(codeOf);
  if (codes.includes('EADDRINUSE')) {
    return `PORT: port ${port} is already in use by another program; stop it or set PORT to a free port`;
  }
  if (codes.includes('EACCES')) return `PORT: no permission to listen on port ${port}; use a port above 1024`;
  return `PORT: cannot listen on port ${port} (${detail(err, chain)})`;
}
