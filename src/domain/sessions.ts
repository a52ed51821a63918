import { and, eq, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Clock } from '../clock';
import { type Executor, preparedStatement, rowFromJson } from '../db';
import { sessionLeases, sessions, type UserRow, users } from '../db/schema';
import type { Sweep } from './sweeps';

const DAY_MS = 86_400_000;
/** At most this many sessions are deleted per run, so one run never holds a long lock. */
const SESSION_DELETE_BATCH = 10_000;

/**
 * Takes the lease on a chat for `leaseMs`: free, run out, or already this owner's (a lease whose release
 * failed, e.g. during a database failover; one owner handles one update of a chat at a time). One
 * atomic statement, so two processes can never both get it. True when this owner holds it now. The lease
 * is the one `take_chat` takes (takeChat, which updates use); this is it without a sender to read.
 */
export async function acquireSessionLease(db: Executor, clock: Clock, key: string, owner: string, leaseMs: number): Promise<boolean> {
  return (await takeChat(db, clock, key, owner, leaseMs, 0)) !== null;
}

/** Extends a lease this owner holds (a long update); false when it was lost meanwhile. */
export async function renewSessionLease(db: Executor, clock: Clock, key: string, owner: string, leaseMs: number): Promise<boolean> {
  const renewed = await db
    .update(sessionLeases)
    .set({ until: new Date(clock.now().getTime() + leaseMs) })
    .where(and(eq(sessionLeases.key, key), eq(sessionLeases.owner, owner)))
    .returning({ key: sessionLeases.key });
  return renewed.length > 0;
}

/** Gives the chat back to the next update, in whichever process it waits. */
export async function releaseSessionLease(db: Executor, key: string, owner: string): Promise<void> {
  await db.delete(sessionLeases).where(and(eq(sessionLeases.key, key), eq(sessionLeases.owner, owner)));
}

/** A stored session as one update read it. */
export interface StoredSession {
  value: unknown;
  version: number;
}

/** What an update of a private chat needs before its handler runs: the sender and the chat's session. */
export interface ChatState {
  user: UserRow | null;
  session: StoredSession | null;
}

const takeChatStatement = preparedStatement<{ taken: boolean; user_row: Record<string, unknown> | null; session_value: unknown; session_version: number | null }>(
  'take_chat',
  sql`select taken, user_row, session_value, session_version from take_chat(${sql.placeholder('key')}, ${sql.placeholder('owner')},
    ${sql.placeholder('until')}::timestamptz, ${sql.placeholder('now')}::timestamptz, ${sql.placeholder('telegramId')}::bigint)`,
);

/**
 * Takes the chat's lease and, when it got it, reads the sender and the chat's session — one round trip
 * for both, through the database function `take_chat`
 * (migration 0016_take_chat). Inside it they are two statements, so the read has a snapshot taken after
 * the lease: it sees the session that the chat's previous holder wrote together with its release. Null
 * when another owner holds the chat.
 */
export async function takeChat(db: Executor, clock: Clock, key: string, owner: string, leaseMs: number, telegramId: number): Promise<ChatState | null> {
  const now = clock.now();
  const [row] = await takeChatStatement(db, {
    key,
    owner,
    until: new Date(now.getTime() + leaseMs).toISOString(),
    now: now.toISOString(),
    telegramId,
  });
  if (!row?.taken) return null;
  return {
    user: row.user_row ? rowFromJson(users, row.user_row) : null,
    session: row.session_version !== null ? { value: row.session_value, version: row.session_version } : null,
  };
}

const release = sql`delete from ${sessionLeases} where ${sessionLeases.key} = ${sql.placeholder('key')} and ${sessionLeases.owner} = ${sql.placeholder('owner')}`;
const releaseLease = preparedStatement('release_lease', release);
/** The session written onto the version it read, and the lease given back, in one statement. */
const storeAndRelease = (store: SQL) => sql`with stored as (${store}), released as (${release}) select count(*)::int as written from stored`;
const updateSession = preparedStatement<{ written: number }>(
  'update_session',
  storeAndRelease(sql`update ${sessions} set value = ${sql.placeholder('value')}::jsonb, version = version + 1, updated_at = ${sql.placeholder('now')}::timestamptz
    where key = ${sql.placeholder('key')} and version = ${sql.placeholder('expectedVersion')}::int returning 1`),
);
const insertSession = preparedStatement<{ written: number }>(
  'insert_session',
  storeAndRelease(sql`insert into ${sessions} (key, value, version, updated_at)
    values (${sql.placeholder('key')}, ${sql.placeholder('value')}::jsonb, 1, ${sql.placeholder('now')}::timestamptz)
    on conflict (key) do nothing returning 1`),
);

/**
 * Ends an update of a chat in one statement: writes its changed session onto the version it read
 * (compare-and-set; `expectedVersion` null: there was no row) and gives the lease back. Without a
 * session to write, only the lease. Returns false when the session was not written because another
 * process changed it meanwhile (the lease is given back all the same). Prepared statements: every
 * update ends here.
 */
export async function finishChatUpdate(
  db: Executor,
  clock: Clock,
  lease: { key: string; owner: string },
  write: { value: unknown; expectedVersion: number | null } | null,
): Promise<boolean> {
  if (!write) {
    await releaseLease(db, lease);
    return true;
  }
  const values = { ...lease, value: JSON.stringify(write.value), now: clock.now().toISOString() };
  const [row] =
    write.expectedVersion === null ? await insertSession(db, values) : await updateSession(db, { ...values, expectedVersion: write.expectedVersion });
  return (row?.written ?? 0) > 0;
}

/**
 * Deletes sessions (half-filled dialogs) nobody changed for `ttlDays`, except those of chats whose
 * update is being handled right now, and leases left behind by processes that died. Returns how many
 * rows went.
 */
export async function deleteStaleSessions(db: Executor, clock: Clock, ttlDays: number): Promise<number> {
  const now = clock.now();
  const cutoff = new Date(now.getTime() - ttlDays * DAY_MS);
  const deleted = await db
    .delete(sessions)
    .where(
      inArray(
        sessions.key,
        db
          .select({ key: sessions.key })
          .from(sessions)
          .where(
            and(
              lt(sessions.updatedAt, cutoff),
              sql`not exists (select 1 from ${sessionLeases} where ${sessionLeases.key} = ${sessions.key} and ${sessionLeases.until} > ${now})`,
            ),
          )
          .limit(SESSION_DELETE_BATCH),
      ),
    )
    .returning({ key: sessions.key });
  const leases = await db.delete(sessionLeases).where(lt(sessionLeases.until, now)).returning({ key: sessionLeases.key });
  return deleted.length + leases.length;
}

/** The session sweep for the scheduler, with the configured SESSION_TTL_DAYS. */
export function createSessionSweep(ttlDays: number): Sweep {
  return (db, clock) => deleteStaleSessions(db, clock, ttlDays);
}
