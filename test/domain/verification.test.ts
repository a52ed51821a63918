import { eq } from 'drizzle-orm';
import { CityDirectory, loadCity } from '../../src/city';
import { ManualClock } from '../../src/clock';
import { organisationMembers, organisations, posts, type Role, subscriptions, users, verifications } from '../../src/db/schema';
import { findRecipients, routePost, routingContext } from '../../src/domain/matching';
import { actorOf } from '../../src/domain/permissions';
import { collectUserData, deleteUserData } from '../../src/domain/privacy';
import {
  createOrganisationInvite,
  decideVerification,
  isVerifiedHelper,
  joinOrganisation,
  requestVerification,
  verificationState,
  withdrawOrganisation,
} from '../../src/domain/verification';
import { createTestDb, resetTestDb, type TestDatabase } from '../helpers/db';

const city = new CityDirectory(loadCity());
let handle: TestDatabase;
let clock: ManualClock;
beforeAll(async () => {
  handle = await createTestDb();
});
beforeEach(async () => {
  await resetTestDb(handle);
  clock = new ManualClock('2026-06-01T10:00:00Z');
});
afterAll(async () => {
  await handle.close();
});

let nextTelegramId = 1_000;
async function person(role: Role | null = 'helper') {
  const now = clock.now();
  const [row] = await handle.db.insert(users).values({ telegramId: nextTelegramId++, firstName: 'Test', locale: 'de', role, district: 'hamborn', createdAt: now, lastSeenAt: now }).returning();
  return row!;
}

async function subscribedHelper(category: string, role: Role = 'helper') {
  const helper = await person(role);
  await handle.db.insert(subscriptions).values({ userId: helper.id, kind: 'need', category, district: '*', createdAt: clock.now() });
  return helper;
}

async function need(authorId: number, category: string) {
  const now = clock.now();
  const [row] = await handle.db
    .insert(posts)
    .values({ authorId, kind: 'need', category, district: 'hamborn', text: 'Eine Beschreibung mit genug Text.', language: 'de', status: 'open', createdAt: now, publishedAt: now, updatedAt: now, expiresAt: new Date(now.getTime() + 86_400_000) })
    .returning();
  return row!;
}

describe('who counts as verified (verifiedHelperSql)', () => {
  it('one by one, as a member of an organisation whose verification stands, or as staff or coordinator — nobody else', async () => {
    const coordinator = actorOf(await person('coordinator'));
    const [plain, requested, declined, individual, member, staff] = [await person(), await person(), await person(), await person(), await person(), await person('staff')];
    await requestVerification(handle.db, clock, actorOf(requested));
    await requestVerification(handle.db, clock, actorOf(declined));
    await decideVerification(handle.db, clock, coordinator, declined.id, 'decline');
    await requestVerification(handle.db, clock, actorOf(individual));
    await decideVerification(handle.db, clock, coordinator, individual.id, 'verify');
    const { code } = await createOrganisationInvite(handle.db, clock, coordinator, 'Caritas Duisburg', 3_600_000);
    await joinOrganisation(handle.db, clock, actorOf(member), code);
    const verified = async () => {
      const out: Record<string, boolean> = {};
      for (const [name, u] of Object.entries({ plain, requested, declined, individual, member, staff, coordinator: { id: coordinator.userId } })) out[name] = await isVerifiedHelper(handle.db, u.id);
      return out;
    };
    expect(await verified()).toEqual({ plain: false, requested: false, declined: false, individual: true, member: true, staff: true, coordinator: true });
    expect(await verificationState(handle.db, member)).toMatchObject({ verified: true, organisations: ['Caritas Duisburg'], individually: false });

    // The same name in another case is the same organisation; withdrawing it takes its members' verification.
    const again = await createOrganisationInvite(handle.db, clock, coordinator, 'caritas duisburg', 3_600_000);
    expect(await handle.db.select().from(organisations)).toHaveLength(1);
    await joinOrganisation(handle.db, clock, actorOf(individual), again.code);
    expect(await withdrawOrganisation(handle.db, clock, coordinator, again.organisation.id)).toMatchObject({ lost: 1 });
    expect(await verified()).toMatchObject({ individual: true, member: false });
    await expect(joinOrganisation(handle.db, clock, actorOf(plain), code)).rejects.toMatchObject({ key: 'verification.join.withdrawn' });
    // A new link for the name makes a new organisation; the old members are not in it.
    await createOrganisationInvite(handle.db, clock, coordinator, 'Caritas Duisburg', 3_600_000);
    expect(await handle.db.select().from(organisations)).toHaveLength(2);
    expect(await isVerifiedHelper(handle.db, member.id)).toBe(false);
  });
});

describe('the matcher', () => {
  it('routes a need of a protected category to verified helpers only; other categories and offers as before', async () => {
    const ctx = routingContext({ QUIET_HOURS: null }, clock, city);
    const seeker = await person('seeker');
    const verified = await subscribedHelper('family');
    const unverified = await subscribedHelper('family');
    const staff = await subscribedHelper('family', 'staff');
    await handle.db.insert(verifications).values({ userId: verified.id, status: 'verified', decidedAt: clock.now() });
    const family = await need(seeker.id, 'family');
    expect(await findRecipients(handle.db, family, clock.now(), ctx)).toEqual([verified.id, staff.id]);
    // Without the city's protection (a benchmark's own context) everyone subscribed.
    expect(await findRecipients(handle.db, family, clock.now())).toEqual([verified.id, unverified.id, staff.id]);
    expect(await routePost(handle.db, ctx, family, { firstTime: true })).toBe(2);

    const healthHelper = await subscribedHelper('health');
    expect(await findRecipients(handle.db, await need(seeker.id, 'health'), clock.now(), ctx)).toEqual([healthHelper.id]);
  });
});

describe('privacy', () => {
  it('/mydata shows one\'s request and organisations; /deleteme erases them', async () => {
    const coordinator = actorOf(await person('coordinator'));
    const helper = await person();
    await requestVerification(handle.db, clock, actorOf(helper));
    const { code } = await createOrganisationInvite(handle.db, clock, coordinator, 'Diakonie', 3_600_000);
    await joinOrganisation(handle.db, clock, actorOf(helper), code);
    const data = await collectUserData(handle.db, helper.id);
    expect(data.verification).toMatchObject({ request: { status: 'requested' }, organisations: [{ organisation: 'Diakonie', withdrawnAt: null }] });
    expect(data.auditLog.map((a) => a.action).sort()).toEqual(['organisation.joined', 'verification.requested']);

    await deleteUserData(handle.db, clock, helper.id);
    expect(await handle.db.select().from(verifications).where(eq(verifications.userId, helper.id))).toHaveLength(0);
    expect(await handle.db.select().from(organisationMembers).where(eq(organisationMembers.userId, helper.id))).toHaveLength(0);
    expect(await isVerifiedHelper(handle.db, helper.id)).toBe(false);
  });
});
