import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs (pino). Logs carry ids and counts, never message texts or phone numbers:
 * the redaction list below is a second line of defence for fields that must never appear.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'hilfenetz' },
      redact: {
        paths: ['text', 'caption', '*.text', '*.caption', 'payload.text', 'phone', '*.phone_number', 'token', 'BOT_TOKEN'],
        censor: '[redacted]',
      },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}

/** A logger that drops everything; tests and benchmarks use it. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** What an error may contribute to a log line. */
export interface ErrorSummary {
  type: string;
  message: string;
  code?: string;
  stack?: string;
}

/**
 * A loggable summary of an error that carries no user content: drizzle writes the query parameters
 * (post texts, relayed messages) into its error message, so for query errors only the underlying
 * database error and its SQLSTATE are kept; long quoted values are cut out of any message.
 */
export function describeError(err: unknown, options: { stack?: boolean } = {}): ErrorSummary {
  if (!err || typeof err !== 'object') return { type: typeof err, message: String(err).slice(0, 200) };
  const e = err as { name?: string; message?: string; code?: unknown; cause?: unknown; query?: unknown; stack?: string };
  const scrub = (m: string | undefined) => (m ?? '').replace(/params:[\s\S]*$/i, 'params: [redacted]').replace(/:\s*"[^"]{16,}"/g, ': "…"').slice(0, 300);
  if (typeof e.query === 'string' || /^Failed query:/.test(e.message ?? '')) {
    const cause = (e.cause ?? {}) as { name?: string; message?: string; code?: unknown };
    return { type: `query:${cause.name ?? 'Error'}`, message: scrub(cause.message ?? 'query failed'), ...(typeof cause.code === 'string' ? { code: cause.code } : {}) };
  }
  return {
    type: e.name ?? 'Error',
    message: scrub(e.message),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(options.stack && e.stack ? { stack: e.stack.split('\n').slice(1, 6).join('\n') } : {}),
  };
}
