import { eq, sql } from 'drizzle-orm';
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
 * How stale `last_seen_at` may get: an update of a known person whose name and state did not change
 * writes nothing when they were seen less than this long ago (the figures that use it count days).
 */
export const LAST_SEEN_RESOLUTION_MS = 60_000;

/** A known user as this update shows them: whether anything needs writing. */
function needsRefresh(row: UserRow, firstName: string, username: string | null, now: Date, isAdmin: boolean): boolean {
  return (
    row.firstName !== firstName ||
    row.username !== username ||
    row.blockedAt !== null ||
    row.deletedAt !== null ||
    (isAdmin && row.role !== 'coordinator') ||
    now.getTime() - row.lastSeenAt.getTime() >= LAST_SEEN_RESOLUTION_MS
  );
}

const prepareByTelegramId = (db: Executor) =>
  db
    .select()
    .from(users)
    .where(eq(users.telegramId, sql.placeholder('telegramId')))
    .prepare('user_by_telegram_id');
/** Built once per database (or transaction) object: the SQL is not rebuilt for every update. */
const byTelegramId = new WeakMap<Executor, ReturnType<typeof prepareByTelegramId>>();

/** The user with this Telegram id, if known (a prepared statement: it runs for nearly every update). */
export async function findUserByTelegramId(db: Executor, telegramId: number): Promise<UserRow | undefined> {
  let prepared = byTelegramId.get(db);
  if (!prepared) {
    prepared = prepareByTelegramId(db);
    byTelegramId.set(db, prepared);
  }
  const [row] = await prepared.execute({ telegramId });
  return row;
}

/**
 * What an update of a known person writes. The values are placeholders (firstName, username, now): the
 * statements that use it are prepared, as they run at every first contact and at every stale last-seen.
 */
function refreshSet(isAdmin: boolean) {
  return {
    firstName: sql<string>`${sql.placeholder('firstName')}`,
    username: sql<string | null>`${sql.placeholder('username')}`,
    lastSeenAt: sql<Date>`${sql.placeholder('now')}`,
    // Writing to the bot again means it is no longer blocked.
    blockedAt: null,
    // Only a banned person's deleted row keeps its Telegram id; they are back, still banned.
    deletedAt: null,
    // A listed admin is a coordinator even if they started the bot before being listed.
    ...(isAdmin ? { role: 'coordinator' as const } : {}),
  };
}

const prepareRefresh = (db: Executor, isAdmin: boolean) =>
  db
    .update(users)
    .set(refreshSet(isAdmin))
    .where(eq(users.id, sql.placeholder('id')))
    .returning()
    .prepare(isAdmin ? 'user_refresh_admin' : 'user_refresh');

const prepareCreate = (db: Executor, isAdmin: boolean) =>
  db
    .insert(users)
    .values({
      telegramId: sql.placeholder('telegramId'),
      firstName: sql.placeholder('firstName'),
      username: sql.placeholder('username'),
      locale: sql.placeholder('locale'),
      role: isAdmin ? 'coordinator' : null,
      createdAt: sql.placeholder('now'),
      lastSeenAt: sql.placeholder('now'),
    })
    .onConflictDoUpdate({ target: users.telegramId, set: refreshSet(isAdmin) })
    .returning()
    .prepare(isAdmin ? 'user_create_admin' : 'user_create');

/**
 * The two writes of upsertUser, built once per database object and kind of person (listed admin or not):
 * drizzle built the insert's SQL afresh at every first contact, ~0.5 ms of CPU, a quarter of a /start.
 */
interface UserWrites {
  refresh: ReturnType<typeof prepareRefresh>;
  create: ReturnType<typeof prepareCreate>;
}
const userWrites = new WeakMap<Executor, Partial<Record<'admin' | 'other', UserWrites>>>();

function writesFor(db: Executor, isAdmin: boolean): UserWrites {
  let ofDb = userWrites.get(db);
  if (!ofDb) {
    ofDb = {};
    userWrites.set(db, ofDb);
  }
  const kind = isAdmin ? 'admin' : 'other';
  return (ofDb[kind] ??= { refresh: prepareRefresh(db, isAdmin), create: prepareCreate(db, isAdmin) });
}

/**
 * Creates the user on first contact (language from Telegram, coordinator when listed in
 * ADMIN_TELEGRAM_IDS) and refreshes name and last-seen on later updates — only when something changed
 * or last-seen is older than LAST_SEEN_RESOLUTION_MS, so that most updates write nothing. `known` is the
 * row the caller already read for this update (null: none); without it the row is read here.
 */
export async function upsertUser(
  db: Executor,
  clock: Clock,
  profile: TelegramProfile,
  initial: { locale: Locale; isAdmin: boolean },
  known?: UserRow | null,
): Promise<UserRow> {
  const now = clock.now();
  // Cut by code points, not UTF-16 units: a name must not end in half an emoji.
  const firstName = [...profile.firstName].slice(0, 64).join('');
  const username = profile.username ? [...profile.username].slice(0, 64).join('') : null;
  const current = known === undefined ? await findUserByTelegramId(db, profile.id) : known;
  if (current && !needsRefresh(current, firstName, username, now, initial.isAdmin)) return current;
  const writes = writesFor(db, initial.isAdmin);
  if (current) {
    const [updated] = await writes.refresh.execute({ id: current.id, firstName, username, now });
    if (updated) return updated;
  }
  const [row] = await writes.create.execute({ telegramId: profile.id, firstName, username, locale: initial.locale, now });
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
