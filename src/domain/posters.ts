import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { CityDirectory } from '../city';
import type { Clock } from '../clock';
import type { Locale } from '../config';
import type { Database, Executor } from '../db';
import { posterStarts, type UserRow, users } from '../db/schema';
import { DomainError } from './errors';
import { type Actor, authorize } from './permissions';
import { completeOnboarding } from './users';

/** Where a poster hangs (a district key or WHOLE_CITY) and the language it speaks. */
export interface PosterOrigin {
  district: string;
  locale: Locale;
}

/**
 * Checks a poster request before anything is drawn: the actor may make posters (staff, coordinators),
 * and the district is one of the city's (or the whole city).
 */
export function checkPosterRequest(actor: Actor, city: CityDirectory, district: string): void {
  authorize(actor, 'poster.create');
  if (!city.isArea(district)) throw new DomainError('poster.errors.unknownDistrict');
}

/**
 * Finishes onboarding that began at a poster, with the poster's district as home district, and counts
 * the start for the poster — once per person: only the statement that sets `onboarded_at` for the first
 * time counts, in the same transaction, so a repeated press or a second poster later counts nothing.
 */
export async function completePosterOnboarding(
  db: Database,
  clock: Clock,
  user: UserRow,
  role: 'seeker' | 'helper' | null,
  origin: PosterOrigin,
): Promise<{ user: UserRow; counted: boolean }> {
  return db.transaction(async (tx) => {
    const now = clock.now();
    const [first] = await tx
      .update(users)
      .set({ onboardedAt: now })
      .where(and(eq(users.id, user.id), isNull(users.onboardedAt)))
      .returning({ id: users.id });
    if (first) await countPosterStart(tx, origin);
    const updated = await completeOnboarding(tx, clock, { ...user, onboardedAt: user.onboardedAt ?? now }, { role, district: origin.district });
    return { user: updated, counted: first !== undefined };
  });
}

/** One more person started through this poster. */
async function countPosterStart(db: Executor, origin: PosterOrigin): Promise<void> {
  await db
    .insert(posterStarts)
    .values({ district: origin.district, locale: origin.locale, started: 1 })
    .onConflictDoUpdate({ target: [posterStarts.district, posterStarts.locale], set: { started: sql`${posterStarts.started} + 1` } });
}

/** Starts per poster (district × language), for /stats and /export; only posters someone started through. */
export async function listPosterStarts(db: Executor): Promise<(PosterOrigin & { started: number })[]> {
  const rows = await db.select().from(posterStarts).orderBy(asc(posterStarts.district), asc(posterStarts.locale));
  return rows.filter((r) => r.started > 0).map((r) => ({ district: r.district, locale: r.locale as Locale, started: r.started }));
}
