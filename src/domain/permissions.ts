import { ROLES, type Role, type UserRow } from '../db/schema';
import { DomainError } from './errors';

/** A role for permissions: the stored roles, plus `newcomer` for someone who has not chosen one in /start yet. */
export type ActorRole = Role | 'newcomer';

/** Every actor role, in ascending order of trust (the README table has one column per role, in this order). */
export const ACTOR_ROLES: readonly ActorRole[] = ['newcomer', ...ROLES];

/**
 * Who acts, as far as permissions care. The bot builds it from the sender's row (`actorOf`); another
 * front end (a web desk) builds it from its own session, and both get the same answers.
 */
export interface Actor {
  userId: number;
  role: ActorRole;
  /** A banned person may do none of the actions below (reading and their own data stay open to them). */
  banned: boolean;
  /** The organisation staff act for; notices are signed with it. */
  organisation: string | null;
  /** Staff marked as Lotse by a coordinator: they work the desk like coordinators. */
  lotse: boolean;
}

/** The actor a user's stored profile stands for. */
export function actorOf(user: Pick<UserRow, 'id' | 'role' | 'bannedAt' | 'organisation' | 'lotse'>): Actor {
  return { userId: user.id, role: user.role ?? 'newcomer', banned: user.bannedAt !== null, organisation: user.organisation, lotse: user.lotse };
}

/**
 * Every action that needs a permission. Everything else (/start, /settings, /language, /help, /notices,
 * /browse, /subscribe, /my, /end, reporting, /privacy, /mydata, /deleteme) is open to everyone, banned
 * people included; what one may do with one's own posts and conversations is decided by who owns them.
 */
export const ACTIONS = [
  'post.create',
  'post.renew',
  'contact.request',
  'contact.message',
  'staff.join',
  'notice.send',
  'notice.stop.own',
  'notice.stop.any',
  'stats.view',
  'stats.export',
  'staff.invite',
  'staff.list',
  'staff.revoke',
  'staff.promote',
  'moderation.review',
  'moderation.ban',
  'desk.work',
  'staff.lotse',
  'verification.request',
  'verification.join',
  'verification.review',
  'verification.invite',
  'poster.create',
  'web.login',
  'needs.view',
  'notices.view',
  'audit.view',
  'helpers.view',
  'channels.manage',
  'intake.create',
] as const;
/** One of ACTIONS. */
export type Action = (typeof ACTIONS)[number];

const EVERYONE = ACTOR_ROLES;
const TRUSTED: readonly ActorRole[] = ['staff', 'coordinator'];
const COORDINATORS: readonly ActorRole[] = ['coordinator'];

/**
 * Who may do what: the roles allowed for each action. A banned actor is refused every action whatever the
 * role. The README's "Who may do what" table shows the same (a test compares them).
 */
export const PERMISSIONS: Record<Action, readonly ActorRole[]> = {
  'post.create': EVERYONE,
  'post.renew': EVERYONE,
  'contact.request': EVERYONE,
  'contact.message': EVERYONE,
  // A coordinator redeeming a staff invite would lose their role.
  'staff.join': ['newcomer', 'seeker', 'helper', 'staff'],
  'notice.send': TRUSTED,
  'notice.stop.own': TRUSTED,
  'notice.stop.any': COORDINATORS,
  'stats.view': TRUSTED,
  'stats.export': COORDINATORS,
  'staff.invite': COORDINATORS,
  'staff.list': COORDINATORS,
  'staff.revoke': COORDINATORS,
  'staff.promote': COORDINATORS,
  'moderation.review': COORDINATORS,
  'moderation.ban': COORDINATORS,
  // Staff only when a coordinator marked them as Lotse (LOTSE_ONLY below).
  'desk.work': TRUSTED,
  'staff.lotse': COORDINATORS,
  // Staff and coordinators count as verified already (a coordinator invited or appointed them).
  'verification.request': ['newcomer', 'seeker', 'helper'],
  'verification.join': ['newcomer', 'seeker', 'helper'],
  'verification.review': COORDINATORS,
  'verification.invite': COORDINATORS,
  'poster.create': TRUSTED,
  // The web desk (src/web): staff see the overview and their organisation's notices, coordinators everything.
  'web.login': TRUSTED,
  'needs.view': COORDINATORS,
  // Staff see only their own organisation's notices (the domain narrows the list).
  'notices.view': TRUSTED,
  'audit.view': COORDINATORS,
  'helpers.view': COORDINATORS,
  // /channels: which channels and groups mirror new posts, in which language and for which district.
  'channels.manage': COORDINATORS,
  // /intake: a need taken on behalf of a person without Telegram; staff only when marked as Lotse (LOTSE_ONLY).
  'intake.create': TRUSTED,
};

/** Actions that staff may do only when marked as Lotse (coordinators always may). */
const LOTSE_ONLY: ReadonlySet<Action> = new Set(['desk.work', 'intake.create']);

/** Whether staff need the Lotse mark for this action (the command menus and the tests ask). */
export function needsLotse(action: Action): boolean {
  return LOTSE_ONLY.has(action);
}

/** The locale keys of refusals that say more than "not allowed"; anything not listed uses the defaults. */
const REFUSALS: Partial<Record<Action, { role?: string; lotse?: string; banned?: string }>> = {
  'post.create': { banned: 'posts.errors.banned' },
  'post.renew': { banned: 'posts.errors.banned' },
  'staff.join': { role: 'staff.invite.alreadyCoordinator' },
  'verification.request': { role: 'verification.errors.staff' },
  'verification.join': { role: 'verification.errors.staff' },
  'intake.create': { role: 'intake.errors.notAllowed', lotse: 'intake.errors.notAllowed', banned: 'posts.errors.banned' },
};
const NOT_LOTSE = 'desk.errors.notLotse';
const MISSING_ROLE = 'errors.forbidden';
const BANNED = 'moderation.bannedNotice';

/**
 * Why the actor may not do this, as the locale key of the refusal; null when they may. A missing role
 * is named before a ban.
 */
export function refusalOf(actor: Actor, action: Action): string | null {
  if (!PERMISSIONS[action].includes(actor.role)) return REFUSALS[action]?.role ?? MISSING_ROLE;
  if (LOTSE_ONLY.has(action) && actor.role === 'staff' && !actor.lotse) return REFUSALS[action]?.lotse ?? NOT_LOTSE;
  if (actor.banned) return REFUSALS[action]?.banned ?? BANNED;
  return null;
}

/** Whether the actor may do this (to show or hide a button; `authorize` before doing it). */
export function can(actor: Actor, action: Action): boolean {
  return refusalOf(actor, action) === null;
}

/** Refuses the action with a DomainError whose key explains the refusal in the user's language. */
export function authorize(actor: Actor, action: Action): void {
  const refusal = refusalOf(actor, action);
  if (refusal !== null) throw new DomainError(refusal);
}
