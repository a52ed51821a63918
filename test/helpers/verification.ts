import { inArray } from 'drizzle-orm';
import { users, verifications } from '../../src/db/schema';
import type { Harness } from './harness';

/**
 * Setup for tests about something else that use a protected category (housing, family): the helpers are
 * verified one by one, as a coordinator would have done in /verified. The verification itself is tested
 * end to end in test/bot/verification.test.ts.
 */
export async function verifyHelpers(h: Pick<Harness, 'db' | 'clock'>, ...userIds: number[]): Promise<void> {
  const now = h.clock.now();
  for (const userId of userIds) {
    await h.db.db
      .insert(verifications)
      .values({ userId, status: 'verified', requestedAt: now, decidedAt: now })
      .onConflictDoUpdate({ target: verifications.userId, set: { status: 'verified', decidedAt: now } });
  }
}

/** verifyHelpers for people driven through the bot (they must have written to it already). */
export async function verifyPeople(h: Pick<Harness, 'db' | 'clock'>, ...people: { id: number }[]): Promise<void> {
  const rows = await h.db.db
    .select({ id: users.id })
    .from(users)
    .where(inArray(users.telegramId, people.map((p) => p.id)));
  if (rows.length !== people.length) throw new Error('verifyPeople: everyone must have written to the bot first');
  await verifyHelpers(h, ...rows.map((r) => r.id));
}
