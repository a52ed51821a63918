import { eq } from 'drizzle-orm';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CityDirectory, loadCity } from '../../src/city';
import { ManualClock } from '../../src/clock';
import { contacts, notices, posts, type Role, users, type UserRow } from '../../src/db/schema';
import { relayMessage, requestContact } from '../../src/domain/contacts';
import { DomainError } from '../../src/domain/errors';
import {
  banUser,
  createReport,
  dismissReport,
  findReport,
  listBanned,
  moderationCounts,
  nextReport,
  pendingPosts,
  unbanUser,
} from '../../src/domain/moderation';
import { cancelNotice, listNoticeReports, sendNotice } from '../../src/domain/notices';
import { listAudit } from '../../src/domain/audit';
import { collectHelperLoad } from '../../src/domain/helper-load';
import { listNeeds, needHistory } from '../../src/domain/needs-list';
import { createWebLogin } from '../../src/domain/web-auth';
import { type Action, ACTIONS, type Actor, ACTOR_ROLES, type ActorRole, actorOf, authorize, can, needsLotse, PERMISSIONS, refusalOf } from '../../src/domain/permissions';
import { checkMayCreateIntake, checkMayCreatePost, type PostsContext, publishPost, renewPost } from '../../src/domain/posts';
import { closeDeskItem, findDeskItem, listDesk, setLotse } from '../../src/domain/desk';
import { createInvite, listStaff, promoteToCoordinator, redeemInvite, revokeStaff } from '../../src/domain/staff';
import { collectStats, exportStats } from '../../src/domain/stats';
import { checkPosterRequest } from '../../src/domain/posters';
import { connectChannel, disconnectChannel, findChannel, listChannels, updateChannel } from '../../src/domain/channels';
import { readLocaleFiles } from '../../src/i18n';
import { createTestDb, resetTestDb, type TestDatabase } from '../helpers/db';
import { createOrganisationInvite, decideVerification, joinOrganisation, listVerified, requestVerification, withdrawOrganisation, withdrawVerification } from '../../src/domain/verification';

/** Every kind of actor: each role, not banned and banned. */
const ACTORS: Actor[] = ACTOR_ROLES.flatMap((role, i) => [
  { userId: 100 + i, role, banned: false, organisation: role === 'staff' ? 'Caritas' : null, lotse: false },
  { userId: 200 + i, role, banned: true, organisation: role === 'staff' ? 'Caritas' : null, lotse: false },
]);
const describeActor = (a: Actor) => `${a.banned ? 'banned ' : ''}${a.role}`;

describe('the permission table', () => {
  it('has a row for every action and only known roles in it', () => {
    expect(Object.keys(PERMISSIONS).sort()).toEqual([...ACTIONS].sort());
    for (const roles of Object.values(PERMISSIONS)) for (const role of roles) expect(ACTOR_ROLES).toContain(role);
  });

  describe.each(ACTIONS)('%s', (action) => {
    it.each(ACTORS.map((a) => [describeActor(a), a] as const))('%s: can and authorize agree with PERMISSIONS', (_name, actor) => {
      // Staff work the desk and take needs for others only when marked as Lotse (these actors are not).
      const allowed = PERMISSIONS[action].includes(actor.role) && !actor.banned && (!needsLotse(action) || actor.role !== 'staff' || actor.lotse);
      expect(can(actor, action)).toBe(allowed);
      if (allowed) {
        expect(() => authorize(actor, action)).not.toThrow();
        expect(refusalOf(actor, action)).toBeNull();
      } else {
        const refusal = refusalOf(actor, action);
        expect(refusal).not.toBeNull();
        let thrown: unknown;
        try {
          authorize(actor, action);
        } catch (err) {
          thrown = err;
        }
        expect(thrown).toBeInstanceOf(DomainError);
        expect((thrown as DomainError).key).toBe(refusal);
      }
    });
  });

  it('refuses with the texts users got before the table existed', () => {
    const actor = (role: ActorRole, banned = false, lotse = false): Actor => ({ userId: 1, role, banned, organisation: null, lotse });
    // A missing role: the same short "not allowed" everywhere, except a coordinator opening a staff invite.
    expect(refusalOf(actor('seeker'), 'notice.send')).toBe('errors.forbidden');
    expect(refusalOf(actor('staff'), 'notice.stop.any')).toBe('errors.forbidden');
    expect(refusalOf(actor('coordinator'), 'staff.join')).toBe('staff.invite.alreadyCoordinator');
    // A ban: posting says so in its own words; everything else with the general ban notice.
    expect(refusalOf(actor('seeker', true), 'post.create')).toBe('posts.errors.banned');
    expect(refusalOf(actor('helper', true), 'post.renew')).toBe('posts.errors.banned');
    expect(refusalOf(actor('helper', true), 'contact.request')).toBe('moderation.bannedNotice');
    expect(refusalOf(actor('staff', true), 'notice.send')).toBe('moderation.bannedNotice');
    // The missing role is named before the ban.
    expect(refusalOf(actor('seeker', true), 'stats.view')).toBe('errors.forbidden');
    // The desk: coordinators, and staff only when marked as Lotse.
    expect(refusalOf(actor('staff'), 'desk.work')).toBe('desk.errors.notLotse');
    expect(refusalOf(actor('staff', false, true), 'desk.work')).toBeNull();
    expect(refusalOf(actor('staff', true, true), 'desk.work')).toBe('moderation.bannedNotice');
    expect(refusalOf(actor('helper', false, true), 'desk.work')).toBe('errors.forbidden');
    expect(refusalOf(actor('coordinator'), 'desk.work')).toBeNull();
    // /intake: Lotsen and coordinators; everyone else is told who may, in one short text.
    expect(needsLotse('intake.create')).toBe(true);
    expect(needsLotse('notice.send')).toBe(false);
    expect(refusalOf(actor('staff'), 'intake.create')).toBe('intake.errors.notAllowed');
    expect(refusalOf(actor('helper'), 'intake.create')).toBe('intake.errors.notAllowed');
    expect(refusalOf(actor('newcomer'), 'intake.create')).toBe('intake.errors.notAllowed');
    expect(refusalOf(actor('seeker', false, true), 'intake.create')).toBe('intake.errors.notAllowed');
    expect(refusalOf(actor('staff', false, true), 'intake.create')).toBeNull();
    expect(refusalOf(actor('staff', true, true), 'intake.create')).toBe('posts.errors.banned');
    expect(refusalOf(actor('coordinator'), 'intake.create')).toBeNull();
  });

  it('refuses only with texts that exist in every language', () => {
    const locales = readLocaleFiles();
    const keys = new Set(ACTORS.flatMap((a) => ACTIONS.map((action) => refusalOf(a, action))).filter((k): k is string => k !== null));
    expect(keys.size).toBeGreaterThanOrEqual(4);
    for (const [locale, tree] of Object.entries(locales)) {
      for (const key of keys) {
        const value = key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], tree);
        expect([locale, key, typeof value]).toEqual([locale, key, 'string']);
      }
    }
  });

  it('makes an actor of a stored user: no role yet is a newcomer, a ban date is a ban', () => {
    const row = { id: 7, role: null, bannedAt: null, organisation: null, lotse: false } satisfies Pick<UserRow, 'id' | 'role' | 'bannedAt' | 'organisation' | 'lotse'>;
    expect(actorOf(row)).toEqual({ userId: 7, role: 'newcomer', banned: false, organisation: null, lotse: false });
    expect(actorOf({ ...row, role: 'staff', organisation: 'Caritas', bannedAt: new Date(), lotse: true })).toEqual({ userId: 7, role: 'staff', banned: true, organisation: 'Caritas', lotse: true });
  });
});

describe('the README table', () => {
  /** The "Who may do what" table: action → roles with a ✅. */
  function readmeTable(): Record<string, ActorRole[]> {
    const readme = readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.split('### Who may do what')[1]?.split('\n### ')[0];
    if (!section) throw new Error('README has no "Who may do what" section');
    const rows = section
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
    const [header, separator, ...body] = rows;
    expect(separator?.every((cell) => /^-+$/.test(cell))).toBe(true);
    const roles = header!.slice(2).map((name) => name.toLowerCase());
    expect(roles).toEqual([...ACTOR_ROLES]);
    return Object.fromEntries(
      body.map((cells) => {
        const action = /^`([a-z.]+)`$/.exec(cells[0]!)?.[1];
        if (!action) throw new Error(`README: not an action: ${cells[0]}`);
        const marks = cells.slice(2);
        for (const mark of marks) expect(['✅', '—']).toContain(mark);
        return [action, roles.filter((_, i) => marks[i] === '✅') as ActorRole[]];
      }),
    );
  }

  it('lists every action, in order, with exactly the roles PERMISSIONS allows', () => {
    const table = readmeTable();
    expect(Object.keys(table)).toEqual([...ACTIONS]);
    for (const action of ACTIONS) expect([action, table[action]]).toEqual([action, [...PERMISSIONS[action]]]);
  });
});

/**
 * Every domain command that needs a permission asks the table: each action is tried through its domain
 * commands by every kind of actor, with inputs that work for those allowed, and refused for the others
 * with the table's refusal.
 */
describe('the domain commands', () => {
  const city = new CityDirectory(loadCity());
  let handle: TestDatabase;
  let clock: ManualClock;
  let postsCtx: PostsContext;
  beforeAll(async () => {
    handle = await createTestDb();
    await resetTestDb(handle);
    clock = new ManualClock('2026-03-04T10:00:00+01:00');
    postsCtx = { clock, timeZone: city.timezone, quietHours: null, config: { POST_TTL_DAYS: 14, MAX_OPEN_POSTS: 5, MAX_POSTS_PER_DAY: 5, PREMODERATE_FIRST_POST: false, INTAKE_MAX_OPEN: 30 }, waves: { size: 10, intervalMs: 7_200_000, weeklyCap: 15, neighbours: () => [] } };
  });
  afterAll(async () => {
    await handle.close();
  });

  let nextTelegramId = 5_000;
  let textCounter = 0;
  async function person(role: Role | null, banned = false, organisation: string | null = null): Promise<UserRow> {
    const now = clock.now();
    const [row] = await handle.db
      .insert(users)
      .values({ telegramId: nextTelegramId++, firstName: 'Test', locale: 'de', role, organisation, district: 'hamborn', bannedAt: banned ? now : null, createdAt: now, lastSeenAt: now })
      .returning();
    return row!;
  }
  const text = () => `Eine Beschreibung mit genug Text, Nummer ${++textCounter}`;
  async function publishedNeed(author: UserRow): Promise<number> {
    return (await publishPost(handle.db, postsCtx, author, { kind: 'need', category: 'housing', district: 'hamborn', text: text(), photoFileId: null, language: 'de' })).post.id;
  }
  async function openPost(authorId: number): Promise<number> {
    const now = clock.now();
    const [row] = await handle.db
      .insert(posts)
      .values({ authorId, kind: 'need', category: 'housing', district: 'hamborn', text: text(), language: 'de', status: 'open', createdAt: now, publishedAt: now, updatedAt: now, expiresAt: new Date(now.getTime() + 86_400_000) })
      .returning();
    return row!.id;
  }
  async function sendingNotice(authorId: number): Promise<number> {
    const [row] = await handle.db
      .insert(notices)
      .values({ authorId, organisation: 'Caritas', audience: 'everyone', districts: [], languages: [], texts: { de: 'Hallo' }, status: 'sending', recipientCount: 1, createdAt: clock.now() })
      .returning();
    return row!.id;
  }
  const coordinator = async () => actorOf(await person('coordinator'));

  /** One try of an action by this user, through the domain commands that need it. */
  const TRIES: Record<Action, (user: UserRow) => Promise<unknown>> = {
    'post.create': async (user) => {
      await checkMayCreatePost(handle.db, postsCtx, user);
      await publishPost(handle.db, postsCtx, user, { kind: 'offer', category: 'housing', district: 'hamborn', text: text(), photoFileId: null, language: 'de' });
    },
    'post.renew': async (user) => renewPost(handle.db, postsCtx, user, await openPost(user.id)),
    'contact.request': async (user) => requestContact(handle.db, clock, user, await publishedNeed(await person('seeker'))),
    'contact.message': async (user) => {
      const author = await person('seeker');
      const postId = await publishedNeed(author);
      const [contact] = await handle.db
        .insert(contacts)
        .values({ postId, authorId: author.id, responderId: user.id, status: 'accepted', createdAt: clock.now(), respondedAt: clock.now() })
        .returning();
      return relayMessage(handle.db, clock, user, contact!.id, { sourceMessageId: 1, text: 'Guten Tag!', photoFileId: null });
    },
    'staff.join': async (user) => {
      const { code } = await createInvite(handle.db, clock, await coordinator(), 'Caritas', 72);
      return redeemInvite(handle.db, clock, actorOf(user), code);
    },
    'notice.send': async (user) =>
      sendNotice(handle.db, clock, actorOf(user), { audience: 'everyone', districts: [], languages: [], texts: { de: 'Hallo zusammen' } }, { chatId: 1, messageId: 1 }),
    'notice.stop.own': async (user) => cancelNotice(handle.db, clock, actorOf(user), await sendingNotice(user.id)),
    'notice.stop.any': async (user) => cancelNotice(handle.db, clock, actorOf(user), await sendingNotice((await person('staff', false, 'Caritas')).id)),
    'stats.view': async (user) => collectStats(handle.db, clock, actorOf(user), city.timezone),
    'stats.export': async (user) => exportStats(handle.db, clock, actorOf(user), city),
    'staff.invite': async (user) => createInvite(handle.db, clock, actorOf(user), 'Diakonie', 72),
    'staff.list': async (user) => listStaff(handle.db, actorOf(user)),
    'staff.revoke': async (user) => revokeStaff(handle.db, clock, actorOf(user), (await person('staff', false, 'Caritas')).id),
    'staff.promote': async (user) => promoteToCoordinator(handle.db, clock, actorOf(user), (await person('staff', false, 'Caritas')).id),
    'moderation.review': async (user) => {
      const actor = actorOf(user);
      const report = await createReport(handle.db, clock, await person('helper'), 'post', await publishedNeed(await person('seeker')), 'spam');
      await moderationCounts(handle.db, actor);
      await nextReport(handle.db, actor);
      await pendingPosts(handle.db, actor);
      await findReport(handle.db, actor, report.id);
      await dismissReport(handle.db, clock, actor, report.id);
    },
    'desk.work': async (user) => {
      const actor = actorOf(user);
      const postId = await publishedNeed(await person('seeker'));
      await handle.db.update(posts).set({ deskAt: clock.now() }).where(eq(posts.id, postId));
      await listDesk(handle.db, actor);
      await findDeskItem(handle.db, actor, postId);
      await closeDeskItem(handle.db, clock, actor, postId, 'duplicate');
    },
    'staff.lotse': async (user) => setLotse(handle.db, clock, actorOf(user), (await person('staff', false, 'Caritas')).id, true),
    'verification.request': async (user) => requestVerification(handle.db, clock, actorOf(user)),
    'verification.join': async (user) => {
      const { code } = await createOrganisationInvite(handle.db, clock, await coordinator(), 'Caritas', 86_400_000);
      return joinOrganisation(handle.db, clock, actorOf(user), code);
    },
    'verification.review': async (user) => {
      const actor = actorOf(user);
      const helper = await person('helper');
      await requestVerification(handle.db, clock, actorOf(helper));
      await listVerified(handle.db, clock, actor);
      await decideVerification(handle.db, clock, actor, helper.id, 'verify');
      await withdrawVerification(handle.db, clock, actor, helper.id);
      const { organisation } = await createOrganisationInvite(handle.db, clock, await coordinator(), `Verein ${++textCounter}`, 86_400_000);
      await withdrawOrganisation(handle.db, clock, actor, organisation.id);
    },
    'verification.invite': async (user) => createOrganisationInvite(handle.db, clock, actorOf(user), 'Diakonie', 86_400_000),
    'poster.create': async (user) => checkPosterRequest(actorOf(user), city, 'hamborn'),
    'moderation.ban': async (user) => {
      const actor = actorOf(user);
      const target = await person('helper');
      await banUser(handle.db, clock, actor, target.id, 'spam');
      await listBanned(handle.db, actor);
      await unbanUser(handle.db, clock, actor, target.id);
    },
    'web.login': async (user) => createWebLogin(handle.db, clock, actorOf(user), 600_000),
    'needs.view': async (user) => {
      const actor = actorOf(user);
      const postId = await publishedNeed(await person('seeker'));
      await listNeeds(handle.db, clock, actor, {});
      await needHistory(handle.db, clock, actor, postId);
    },
    'notices.view': async (user) => listNoticeReports(handle.db, actorOf(user)),
    'audit.view': async (user) => listAudit(handle.db, actorOf(user), {}),
    'helpers.view': async (user) => collectHelperLoad(handle.db, clock, actorOf(user), 15),
    'intake.create': async (user) => {
      await checkMayCreateIntake(handle.db, postsCtx, user);
      await publishPost(handle.db, postsCtx, user, {
        kind: 'need',
        category: 'housing',
        district: 'hamborn',
        text: text(),
        photoFileId: null,
        language: 'uk',
        intake: { name: 'Олена', language: 'uk' },
      });
    },
    'channels.manage': async (user) => {
      const actor = actorOf(user);
      const chatId = -1_001_000_000_000 - ++textCounter;
      const { channel } = await connectChannel(handle.db, clock, actor, { id: chatId, type: 'channel', title: 'Hilfe Hamborn' }, { district: 'hamborn', locale: 'de' });
      await listChannels(handle.db, actor);
      await findChannel(handle.db, actor, channel.id);
      await updateChannel(handle.db, actor, channel.id, { locale: 'uk' });
      await disconnectChannel(handle.db, clock, actor, channel.id);
    },
  };

  /** The refusal a try ended with, or null when it went through. */
  async function refusalOfTry(attempt: Promise<unknown>): Promise<string | null> {
    try {
      await attempt;
      return null;
    } catch (err) {
      if (err instanceof DomainError) return err.key;
      throw err;
    }
  }

  const KINDS = ACTOR_ROLES.flatMap((role) => [false, true].map((banned) => [`${banned ? 'banned ' : ''}${role}`, role, banned] as const));

  describe.each(ACTIONS)('%s', (action) => {
    it.each(KINDS)('%s', async (_name, role, banned) => {
      const user = await person(role === 'newcomer' ? null : role, banned, role === 'staff' ? 'Caritas' : null);
      expect(await refusalOfTry(TRIES[action](user))).toBe(refusalOf(actorOf(user), action));
    });
  });
});
