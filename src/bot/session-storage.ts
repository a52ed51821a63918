import { and, eq, sql } from 'drizzle-orm';
import type { StorageAdapter } from 'grammy';
import type { Clock } from '../clock';
import type { Database } from '../db';
import { sessions } from '../db/schema';
import { DomainError } from '../domain/errors';
import { finishChatUpdate, type StoredSession } from '../domain/sessions';

/** What an update read: the row's version (null: no row) and the session as JSON, to see whether it changed. */
interface ReadState {
  version: number | null;
  json: string;
}

/** A missing row and an empty session (the `initial` value) are the same: neither is written. */
const EMPTY_SESSION = '{}';

/**
 * grammY session storage on our own database (PostgreSQL or PGlite), so half-filled dialogs survive
 * restarts and are shared by every process. The existing storage adapters speak to a pg client only,
 * not to PGlite; this one works through drizzle for both.
 *
 * grammY writes a session back after every update that read it; this storage writes only what changed,
 * and only onto the version it read (compare-and-set): a write that would overwrite a newer session
 * (another process changed it meanwhile) is refused with `errors.sessionConflict` ("too fast, please
 * try again") and the newer session stays. The chat lease (middleware/chat-lease.ts) makes that rare.
 *
 * For a chat whose update holds the lease, the lease middleware hands over the session it read together
 * with the sender (`prime`: no query of its own), and the write waits for the end of the update, where it
 * goes out with the lease's release in one statement (`finish`). Without the lease middleware (tests,
 * other callers) read and write query at once.
 */
export class DrizzleSessionStorage<T> implements StorageAdapter<T> {
  /**
   * The read state of the update in flight per chat; `sequentialize` allows one per chat and instance.
   * Taken by write/delete; an update that failed leaves its entry until the chat's next read.
   */
  private readonly reads = new Map<string, ReadState>();

  /** Sessions read with the sender by the lease middleware, for read() to return without a query. */
  private readonly primed = new Map<string, StoredSession | null>();
  /** Chats whose update ends in finish(): their write waits there. */
  private readonly held = new Set<string>();
  private readonly pending = new Map<string, { value: unknown; expectedVersion: number | null }>();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /** The chat's session as the lease middleware read it; this update's write is held for finish(). */
  prime(key: string, session: StoredSession | null): void {
    this.primed.set(key, session);
    this.held.add(key);
    this.pending.delete(key);
  }

  async read(key: string): Promise<T | undefined> {
    if (this.primed.has(key)) {
      const primed = this.primed.get(key) ?? null;
      this.primed.delete(key);
      this.reads.set(key, primed ? { version: primed.version, json: JSON.stringify(primed.value) } : { version: null, json: EMPTY_SESSION });
      return primed?.value as T | undefined;
    }
    const [row] = await this.db.select({ value: sessions.value, version: sessions.version }).from(sessions).where(eq(sessions.key, key));
    this.reads.set(key, row ? { version: row.version, json: JSON.stringify(row.value) } : { version: null, json: EMPTY_SESSION });
    return row?.value as T | undefined;
  }

  async write(key: string, value: T): Promise<void> {
    const read = this.reads.get(key) ?? { version: null, json: EMPTY_SESSION };
    this.reads.delete(key);
    if (JSON.stringify(value) === read.json) return;
    if (this.held.has(key)) {
      this.pending.set(key, { value, expectedVersion: read.version });
      return;
    }
    const now = this.clock.now();
    const written =
      read.version === null
        ? await this.db
            .insert(sessions)
            .values({ key, value, version: 1, updatedAt: now })
            .onConflictDoNothing({ target: sessions.key })
            .returning({ key: sessions.key })
        : await this.db
            .update(sessions)
            .set({ value, version: sql`${sessions.version} + 1`, updatedAt: now })
            .where(and(eq(sessions.key, key), eq(sessions.version, read.version)))
            .returning({ key: sessions.key });
    if (written.length === 0) throw new DomainError('errors.sessionConflict');
  }

  /**
   * Ends a held chat's update: writes the session it changed (if it did) and gives the lease back, in one
   * statement; `write` false (the update failed) drops what it changed. Refuses with
   * `errors.sessionConflict` when another process changed the session meanwhile.
   */
  async finish(key: string, owner: string, write: boolean): Promise<void> {
    const pending = write ? (this.pending.get(key) ?? null) : null;
    this.held.delete(key);
    this.primed.delete(key);
    this.pending.delete(key);
    if (!(await finishChatUpdate(this.db, this.clock, { key, owner }, pending))) throw new DomainError('errors.sessionConflict');
  }

  /** Whether finish() has a session to write for this chat. */
  hasPendingWrite(key: string): boolean {
    return this.pending.has(key);
  }

  async delete(key: string): Promise<void> {
    this.reads.delete(key);
    this.pending.delete(key);
    await this.db.delete(sessions).where(eq(sessions.key, key));
  }
}
