import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Clock } from '../clock';
import type { Executor } from '../db';
import { sessionLeases, sessions } from '../db/schema';
import type { Sweep } from './sweeps';

const DAY_MS = 86_400_000;
/** At most this many sessions are deleted per run, so one run never holds a long lock. */
const SESSION_DELETE_BATCH = 10_000;

/**
 * Takes the lease on a chat for `leaseMs`: free, run out, or already this owner's (a lease whose release
 * failed, e.g. during a database failover; one owner handles one update of a chat at a time). One
 * atomic statement, so two processes can never both get it. True when this owner holds it now.
 */
export async function acquireSessionLease(db: Executor, clock: Clock, key: string, owner: string, leaseMs: number): Promise<boolean> {
  const now = clock.now();
  const taken = await db
    .insert(sessionLeases)
    .values({ key, owner, until: new Date(now.getTime() + leaseMs) })
    .onConflictDoUpdate({
      target: sessionLeases.key,
      set: { owner: sql`excluded.owner`, until: sql`excluded.until` },
      setWhere: sql`${sessionLeases.until} <= ${now} or ${sessionLeases.owner} = excluded.owner`,
    })
    .returning({ key: sessionLeases.key });
  return taken.length > 0;
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
