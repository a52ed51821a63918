import { and, eq, sql } from 'drizzle-orm';
import type { Database, Executor } from '../db';
import { type PostKind, subscriptions, users, type UserRow } from '../db/schema';

/** A user's subscriptions of one kind as the sets they chose: every category × every district. */
export interface SubscriptionSets {
  categories: string[];
  districts: string[];
}

/** Reads the sets back from the stored pairs. */
export async function getSubscriptionSets(db: Executor, userId: number, kind: PostKind): Promise<SubscriptionSets> {
  const rows = await db
    .select({ category: subscriptions.category, district: subscriptions.district })
    .from(subscriptions)
    .where(and(eq(subscriptions.userId, userId), eq(subscriptions.kind, kind)));
  return {
    categories: [...new Set(rows.map((r) => r.category))].sort(),
    districts: [...new Set(rows.map((r) => r.district))].sort(),
  };
}

/**
 * Replaces a user's subscriptions of one kind with categories × districts (empty when either set is
 * empty). Overlaps (a district and the whole city) are harmless: the matcher notifies once per person.
 */
export async function replaceSubscriptions(db: Database, userId: number, kind: PostKind, sets: SubscriptionSets): Promise<number> {
  return db.transaction(async (tx) => {
    // New need subscriptions list the helper as pending (trigger subscriptions_added_stats). The catch-up of
    // the statistics (catch_up_helper_stats) takes that row first and the helper's first need subscription
    // second; taking them in the same order here keeps the two from waiting on each other (a deadlock).
    if (kind === 'need') {
      await tx.execute(sql`select 1 from helper_stats_pending where user_id = ${userId} for update`);
      await tx.execute(sql`select 1 from subscriptions where user_id = ${userId} and kind = 'need' order by category, district limit 1 for update`);
    }
    await tx.delete(subscriptions).where(and(eq(subscriptions.userId, userId), eq(subscriptions.kind, kind)));
    const pairs = sets.categories.flatMap((category) => sets.districts.map((district) => ({ userId, kind, category, district })));
    if (pairs.length > 0) await tx.insert(subscriptions).values(pairs).onConflictDoNothing();
    return pairs.length;
  });
}

/** Pauses or resumes every notification of the user with one tap; resuming also ends a week's pause. */
export async function setNotificationsPaused(db: Executor, userId: number, paused: boolean): Promise<void> {
  await db
    .update(users)
    .set(paused ? { notificationsPaused: true } : { notificationsPaused: false, pausedUntil: null })
    .where(eq(users.id, userId));
}

/** Whether the user hears nothing now: paused with the toggle, or within a week's pause. */
export function isPaused(user: Pick<UserRow, 'notificationsPaused' | 'pausedUntil'>, now: Date): boolean {
  return user.notificationsPaused || (user.pausedUntil !== null && user.pausedUntil > now);
}

/** Sets the user's daily cap (null: the configured default). */
export async function setDailyCap(db: Executor, userId: number, cap: number | null): Promise<void> {
  await db.update(users).set({ dailyCap: cap }).where(eq(users.id, userId));
}

/** Sets the user's quiet hours in minutes after midnight; start = end means none; null: the default. */
export async function setQuietHours(db: Executor, userId: number, quiet: { start: number; end: number } | null): Promise<void> {
  await db
    .update(users)
    .set({ quietStart: quiet?.start ?? null, quietEnd: quiet?.end ?? null })
    .where(eq(users.id, userId));
}
