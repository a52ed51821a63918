import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { Clock } from '../clock';
import type { Database, Executor } from '../db';
import { users, type UserRow, webLogins, type WebSessionRow, webSessions } from '../db/schema';
import { DomainError } from './errors';
import { type Actor, actorOf, authorize, can } from './permissions';

/** A random token as it travels in a link or a cookie (256 bits, URL-safe). */
function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the database keeps of a token: a copy of the database opens nothing. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Tokens are 43 URL-safe characters; anything else is refused before the database is asked. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * `/dashboard`: a one-time login link's token for a coordinator or staff member, valid `ttlMs`. Only its
 * hash is stored; the token itself goes into the link and nowhere else.
 */
export async function createWebLogin(db: Executor, clock: Clock, actor: Actor, ttlMs: number): Promise<{ token: string; expiresAt: Date }> {
  authorize(actor, 'web.login');
  const token = newToken();
  const now = clock.now();
  const expiresAt = new Date(now.getTime() + ttlMs);
  await db.insert(webLogins).values({ tokenHash: hashToken(token), userId: actor.userId, createdAt: now, expiresAt });
  return { token, expiresAt };
}

/** Whether a login link can still be used (the GET shows the "Log in" button, or why it cannot). */
export async function checkWebLogin(db: Executor, clock: Clock, token: string): Promise<'valid' | 'used' | 'expired' | 'unknown'> {
  if (!TOKEN_PATTERN.test(token)) return 'unknown';
  const [login] = await db.select().from(webLogins).where(eq(webLogins.tokenHash, hashToken(token)));
  if (!login) return 'unknown';
  if (login.usedAt) return 'used';
  return login.expiresAt.getTime() > clock.now().getTime() ? 'valid' : 'expired';
}

/** A logged-in browser: the cookie's token and the CSRF token its forms carry. */
export interface NewWebSession {
  token: string;
  csrfToken: string;
  expiresAt: Date;
  user: UserRow;
}

/**
 * Uses a login link, once: one conditional UPDATE marks it used (two browsers racing for the same link
 * get one session between them), then the person's permission is checked as it is now, and a session
 * of `ttlMs` begins. Refusals are DomainErrors whose key explains them (`web.login.*`).
 */
export async function consumeWebLogin(db: Database, clock: Clock, token: string, ttlMs: number): Promise<NewWebSession> {
  if (!TOKEN_PATTERN.test(token)) throw new DomainError('web.login.invalid');
  return db.transaction(async (tx) => {
    const now = clock.now();
    const [login] = await tx
      .update(webLogins)
      .set({ usedAt: now })
      .where(and(eq(webLogins.tokenHash, hashToken(token)), isNull(webLogins.usedAt), gt(webLogins.expiresAt, now)))
      .returning();
    if (!login) {
      const state = await checkWebLogin(tx, clock, token);
      throw new DomainError(state === 'used' ? 'web.login.used' : state === 'expired' ? 'web.login.expired' : 'web.login.invalid');
    }
    const [user] = await tx.select().from(users).where(eq(users.id, login.userId));
    return beginSession(tx, now, user, ttlMs);
  });
}

/** A session for a person who proved who they are, if they may log in as they are now. */
async function beginSession(tx: Executor, now: Date, user: UserRow | undefined, ttlMs: number): Promise<NewWebSession> {
  if (!user || user.deletedAt || !can(actorOf(user), 'web.login')) throw new DomainError('web.login.forbidden');
  const session = { token: newToken(), csrfToken: newToken(), expiresAt: new Date(now.getTime() + ttlMs) };
  await tx.insert(webSessions).values({ tokenHash: hashToken(session.token), userId: user.id, csrfToken: session.csrfToken, createdAt: now, expiresAt: session.expiresAt });
  return { ...session, user };
}

/** How old a Telegram Login Widget answer may be (its `auth_date`). */
export const TELEGRAM_LOGIN_MAX_AGE_MS = 86_400_000;

/**
 * Whether a Telegram Login Widget answer is genuine, per Telegram's documented check: the fields other
 * than `hash`, sorted, as `key=value` lines, signed with HMAC-SHA-256 under SHA-256(bot token); and
 * `auth_date` not older than a day (nor more than a minute ahead). Returns the Telegram user id, or null.
 */
export function checkTelegramLogin(fields: Record<string, string>, botToken: string, now: Date): number | null {
  const { hash, ...signed } = fields;
  if (!hash || !/^[0-9a-f]{64}$/.test(hash) || !/^[1-9]\d{0,15}$/.test(signed.id ?? '') || !/^\d{1,12}$/.test(signed.auth_date ?? '')) return null;
  const dataCheckString = Object.keys(signed)
    .sort()
    .map((key) => `${key}=${signed[key]}`)
    .join('\n');
  const expected = createHmac('sha256', createHash('sha256').update(botToken).digest()).update(dataCheckString).digest();
  if (!timingSafeEqual(expected, Buffer.from(hash, 'hex'))) return null;
  const age = now.getTime() - Number(signed.auth_date) * 1000;
  if (age > TELEGRAM_LOGIN_MAX_AGE_MS || age < -60_000) return null;
  return Number(signed.id);
}

/**
 * A session from a checked Telegram Login Widget answer. Each answer works once: its hash is kept (as a
 * used login link, deleted by the sweep after it expired), so a copied or logged address opens nothing.
 */
export async function consumeTelegramLogin(db: Database, clock: Clock, telegramId: number, hash: string, authDate: Date, ttlMs: number): Promise<NewWebSession> {
  return db.transaction(async (tx) => {
    const now = clock.now();
    const [user] = await tx.select().from(users).where(eq(users.telegramId, telegramId));
    if (!user) throw new DomainError('web.login.forbidden');
    const [login] = await tx
      .insert(webLogins)
      .values({ tokenHash: hashToken(`telegram:${hash}`), userId: user.id, createdAt: now, expiresAt: new Date(authDate.getTime() + TELEGRAM_LOGIN_MAX_AGE_MS), usedAt: now })
      .onConflictDoNothing()
      .returning();
    if (!login) throw new DomainError('web.login.used');
    return beginSession(tx, now, user, ttlMs);
  });
}

/** A live session with the person behind it, as they are now. */
export interface WebSessionState {
  session: WebSessionRow;
  user: UserRow;
  actor: Actor;
}

/**
 * The session of a cookie, read on every request together with the person's current row: null when it
 * is unknown, ended, expired, or the person may no longer log in (role revoked, banned, deleted) — so a
 * revocation or a ban ends the web session at once, without waiting for it to expire.
 */
export async function findWebSession(db: Executor, clock: Clock, token: string | undefined): Promise<WebSessionState | null> {
  if (!token || !TOKEN_PATTERN.test(token)) return null;
  const [row] = await db
    .select({ session: webSessions, user: users })
    .from(webSessions)
    .innerJoin(users, eq(users.id, webSessions.userId))
    .where(and(eq(webSessions.tokenHash, hashToken(token)), isNull(webSessions.endedAt), gt(webSessions.expiresAt, clock.now())));
  if (!row || row.user.deletedAt) return null;
  const actor = actorOf(row.user);
  if (!can(actor, 'web.login')) return null;
  return { ...row, actor };
}

/** Whether a form's CSRF token is the session's (compared in constant time). */
export function isValidCsrf(session: Pick<WebSessionRow, 'csrfToken'>, submitted: unknown): boolean {
  if (typeof submitted !== 'string' || submitted.length !== session.csrfToken.length) return false;
  return timingSafeEqual(Buffer.from(submitted), Buffer.from(session.csrfToken));
}

/** Logout: the session ends now. */
export async function endWebSession(db: Executor, clock: Clock, sessionId: number): Promise<void> {
  await db.update(webSessions).set({ endedAt: clock.now() }).where(eq(webSessions.id, sessionId));
}

/** Every session of a person ends (role revoked, banned, /deleteme); the per-request check covers the rest. */
export async function endWebSessionsOf(db: Executor, clock: Clock, userId: number): Promise<void> {
  await db.update(webSessions).set({ endedAt: clock.now() }).where(and(eq(webSessions.userId, userId), isNull(webSessions.endedAt)));
}

/** The language picked with the web desk's switcher. */
export async function setWebSessionLocale(db: Executor, sessionId: number, locale: string): Promise<void> {
  await db.update(webSessions).set({ locale }).where(eq(webSessions.id, sessionId));
}

/** Sweep: login links and sessions a day past their end are deleted (they open nothing any more). */
export async function deleteExpiredWebAccess(db: Executor, clock: Clock): Promise<number> {
  const cutoff = new Date(clock.now().getTime() - 86_400_000);
  const logins = await db.delete(webLogins).where(lt(webLogins.expiresAt, cutoff)).returning({ id: webLogins.id });
  const sessions = await db
    .delete(webSessions)
    .where(or(lt(webSessions.expiresAt, cutoff), sql`${webSessions.endedAt} < ${cutoff}`))
    .returning({ id: webSessions.id });
  return logins.length + sessions.length;
}
