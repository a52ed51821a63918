import { eq } from 'drizzle-orm';
import type { Clock } from '../clock';
import type { Locale } from '../config';
import type { Executor } from '../db';
import { type Role, type UserRow, users } from '../db/schema';

/** What Telegram tells us about a sender. */
export interface TelegramProfile {
  id: number;
  firstName: string;
  username?: string | undefined;
}

/**
 * Creates the user on first contact (language from Telegram, coordinator when listed in
 * ADMIN_TELEGRAM_IDS) and refreshes name and last-seen on every later update. One statement.
 */
export async function upsertUser(
  db: Executor,
  clock: Clock,
  profile: TelegramProfile,
  initial: { locale: Locale; isAdmin: boolean },
): Promise<UserRow> {
  const now = clock.now();
  // Cut by code points, not UTF-16 units: a name must not end in half an emoji.
  const firstName = [...profile.firstName].slice(0, 64).join('');
  const username = profile.username ? [...profile.username].slice(0, 64).join('') : null;
  const refresh = {
    firstName,
    username,
    lastSeenAt: now,
    // Writing to the bot again means it is no longer blocked.
    blockedAt: null,
    // Only a banned person's deleted row keeps its Telegram id; they are back, still banned.
    deletedAt: null,
    // A listed admin is a coordinator even if they started the bot before being listed.
    ...(initial.isAdmin ? { role: 'coordinator' as const } : {}),
  };
  // The common case is one UPDATE; an INSERT … ON CONFLICT would burn a sequence value every time.
  const [existing] = await db.update(users).set(refresh).where(eq(users.telegramId, profile.id)).returning();
  if (existing) return existing;
  const [row] = await db
    .insert(users)
    .values({
      telegramId: profile.id,
      firstName,
      username,
      locale: initial.locale,
      role: initial.isAdmin ? 'coordinator' : null,
      createdAt: now,
      lastSeenAt: now,
    })
    .onConflictDoUpdate({ target: users.telegramId, set: refresh })
    .returning();
  if (!row) throw new Error('upsert returned no row');
  return row;
}

/** Finds a user by internal id. */
export async function findUserById(db: Executor, id: number): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  return row;
}

/** Changes a user's interface language. */
export async function setLocale(db: Executor, userId: number, locale: Locale): Promise<UserRow> {
  return updateUser(db, userId, { locale });
}

/** Refused when someone tries to choose a role that is granted (staff, coordinator) or to leave one. */
export class RoleChangeNotAllowedError extends Error {
  constructor() {
    super('Staff and coordinator roles are granted and revoked by coordinators; they cannot be chosen.');
  }
}

/** Whether a role is one people choose themselves. */
export function isSelfChosenRole(role: Role | null): role is 'seeker' | 'helper' | null {
  return role === null || role === 'seeker' || role === 'helper';
}

/** Switches between seeker and helper. */
export async function setSelfChosenRole(db: Executor, user: UserRow, role: 'seeker' | 'helper'): Promise<UserRow> {
  if (!isSelfChosenRole(user.role)) throw new RoleChangeNotAllowedError();
  return updateUser(db, user.id, { role });
}

/** Sets the home district (a district key or '*'). */
export async function setDistrict(db: Executor, userId: number, district: string): Promise<UserRow> {
  return updateUser(db, userId, { district });
}

/** Stores the choices of /start and marks the user as onboarded. */
export async function completeOnboarding(
  db: Executor,
  clock: Clock,
  user: UserRow,
  choice: { role: 'seeker' | 'helper' | null; district: string },
): Promise<UserRow> {
  const role = isSelfChosenRole(user.role) ? (choice.role ?? user.role ?? 'seeker') : user.role;
  return updateUser(db, user.id, { role, district: choice.district, onboardedAt: user.onboardedAt ?? clock.now() });
}

/** Marks the user unreachable (they blocked the bot) or reachable again. */
export async function setBlockedBot(db: Executor, clock: Clock, telegramId: number, blocked: boolean): Promise<void> {
  await db
    .update(users)
    .set({ blockedAt: blocked ? clock.now() : null })
    .where(eq(users.telegramId, telegramId));
}

async function updateUser(db: Executor, userId: number, values: Partial<typeof users.$inferInsert>): Promise<UserRow> {
  const [row] = await db.update(users).set(values).where(eq(users.id, userId)).returning();
  if (!row) throw new Error(`user ${userId} not found`);
  return row;
}

/** A user who has both a role and a district (set through /settings) counts as onboarded. */
export async function markOnboardedIfComplete(db: Executor, clock: Clock, user: UserRow): Promise<UserRow> {
  if (user.onboardedAt || !user.role || !user.district) return user;
  return updateUser(db, user.id, { onboardedAt: clock.now() });
}
