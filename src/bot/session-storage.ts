import { eq, sql } from 'drizzle-orm';
import type { StorageAdapter } from 'grammy';
import type { Clock } from '../clock';
import type { Database } from '../db';
import { sessions } from '../db/schema';

/**
 * grammY session storage on our own database (PostgreSQL or PGlite), so half-filled dialogs survive
 * restarts and are shared by every process. The existing storage adapters speak to a pg client only,
 * not to PGlite; this one works through drizzle for both.
 */
export class DrizzleSessionStorage<T> implements StorageAdapter<T> {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async read(key: string): Promise<T | undefined> {
    const [row] = await this.db.select({ value: sessions.value }).from(sessions).where(eq(sessions.key, key));
    return row?.value as T | undefined;
  }

  async write(key: string, value: T): Promise<void> {
    const now = this.clock.now();
    await this.db
      .insert(sessions)
      .values({ key, value: value as unknown, updatedAt: now })
      .onConflictDoUpdate({ target: sessions.key, set: { value: sql`excluded.value`, updatedAt: now } });
  }

  async delete(key: string): Promise<void> {
    await this.db.delete(sessions).where(eq(sessions.key, key));
  }
}
