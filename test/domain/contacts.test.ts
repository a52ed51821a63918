import { and, eq, inArray } from 'drizzle-orm';
import { ManualClock } from '../../src/clock';
import { contacts, type ContactStatus, outbox, posts, users } from '../../src/db/schema';
import { endConversationsOf } from '../../src/domain/contacts';
import { banUser } from '../../src/domain/moderation';
import { OUTBOX_KINDS } from '../../src/domain/outbox';
import { actorOf } from '../../src/domain/permissions';
import { deleteUserData } from '../../src/domain/privacy';
import { createTestDb, resetTestDb, type TestDatabase } from '../helpers/db';

let handle: TestDatabase;
const clock = new ManualClock('2026-03-02T10:00:00+01:00');

beforeAll(async () => {
  handle = await createTestDb();
});
beforeEach(async () => {
  await resetTestDb(handle);
});
afterAll(async () => {
  await handle.close();
});

let nextTelegramId = 7_000;
async function person(values: Partial<typeof users.$inferInsert> = {}) {
  const now = clock.now();
  const [row] = await handle.db
    .insert(users)
    .values({ telegramId: nextTelegramId++, firstName: 'X', locale: 'de', role: 'helper', district: 'hamborn', createdAt: now, lastSeenAt: now, ...values })
    .returning();
  return row!;
}

async function openPost(authorId: number): Promise<number> {
  const now = clock.now();
  const [row] = await handle.db
    .insert(posts)
    .values({ authorId, kind: 'need', category: 'housing', district: 'hamborn', text: 'Eine Wohnung für zwei', language: 'de', status: 'open', createdAt: now, publishedAt: now, updatedAt: now, expiresAt: new Date(now.getTime() + 14 * 86_400_000) })
    .returning();
  return row!.id;
}

async function contact(postId: number, authorId: number, responderId: number, status: ContactStatus): Promise<number> {
  const [row] = await handle.db.insert(contacts).values({ postId, authorId, responderId, status, createdAt: clock.now() }).returning();
  return row!.id;
}

/** The outbox rows about one conversation, as "kind → user". */
async function toldAbout(contactId: number): Promise<string[]> {
  const rows = await handle.db.select().from(outbox).where(inArray(outbox.kind, [OUTBOX_KINDS.contactEnded, OUTBOX_KINDS.contactCancelled]));
  return rows.filter((r) => (r.payload as { contactId?: number }).contactId === contactId).map((r) => `${r.kind} → ${r.userId}`);
}

/**
 * Ulla's network: an open conversation on her need (with Anna), one on Bernd's need (she helps), her
 * unanswered offer on Carla's need, Dieter's unanswered offer on her need, an open conversation with a
 * partner who deleted their data, and one that ended long ago.
 */
async function network() {
  const ulla = await person({ role: 'seeker' });
  const [anna, bernd, carla, dieter, deleted, fritz] = [await person(), await person({ role: 'seeker' }), await person({ role: 'seeker' }), await person(), await person({ deletedAt: clock.now(), firstName: null }), await person()];
  const ullasNeed = await openPost(ulla.id);
  const c = {
    withAnna: await contact(ullasNeed, ulla.id, anna.id, 'accepted'),
    withBernd: await contact(await openPost(bernd.id), bernd.id, ulla.id, 'accepted'),
    offerToCarla: await contact(await openPost(carla.id), carla.id, ulla.id, 'offered'),
    offerByDieter: await contact(ullasNeed, ulla.id, dieter.id, 'offered'),
    withDeleted: await contact(await openPost(ulla.id), ulla.id, deleted.id, 'accepted'),
    longOver: await contact(ullasNeed, ulla.id, fritz.id, 'ended'),
  };
  return { ulla, anna, bernd, carla, dieter, deleted, fritz, c };
}

describe('taking a user out of their conversations', () => {
  it('ends every asked-for and open conversation and tells each partner once, a deleted one not at all', async () => {
    const { ulla, anna, bernd, carla, dieter, c } = await network();
    const coordinator = await person({ role: 'coordinator' });

    const ended = await endConversationsOf(handle.db, clock, ulla.id, coordinator.id);
    expect(ended.map((e) => e.id).sort((a, b) => a - b)).toEqual([c.withAnna, c.withBernd, c.offerToCarla, c.offerByDieter, c.withDeleted]);
    expect(ended.every((e) => e.status === 'ended' && e.endedBy === coordinator.id && e.endedAt?.getTime() === clock.now().getTime())).toBe(true);
    expect(await toldAbout(c.withAnna)).toEqual([`contact.ended → ${anna.id}`]);
    expect(await toldAbout(c.withBernd)).toEqual([`contact.ended → ${bernd.id}`]);
    expect(await toldAbout(c.offerToCarla)).toEqual([`contact.ended → ${carla.id}`]);
    expect(await toldAbout(c.offerByDieter)).toEqual([`contact.ended → ${dieter.id}`]);
    expect(await toldAbout(c.withDeleted)).toEqual([]);
    expect(await toldAbout(c.longOver)).toEqual([]);

    // Again: nothing is left to end, and nobody hears it twice.
    expect(await endConversationsOf(handle.db, clock, ulla.id, coordinator.id)).toEqual([]);
    expect(await handle.db.select().from(outbox)).toHaveLength(4);
  });

  it.each([
    [
      'a ban',
      async (userId: number) => {
        const coordinator = await person({ role: 'coordinator' });
        await banUser(handle.db, clock, actorOf(coordinator), userId, 'harassment');
        return coordinator.id;
      },
    ],
    [
      '/deleteme',
      async (userId: number) => {
        await deleteUserData(handle.db, clock, userId);
        return userId;
      },
    ],
  ])('%s tells each partner exactly once what happened to their conversation', async (_path, takeOut) => {
    const { ulla, anna, bernd, carla, dieter, c } = await network();
    const endedBy = await takeOut(ulla.id);

    // Open conversations and Ulla's own offer end; the partner in each hears it once.
    expect(await toldAbout(c.withAnna)).toEqual([`contact.ended → ${anna.id}`]);
    expect(await toldAbout(c.withBernd)).toEqual([`contact.ended → ${bernd.id}`]);
    expect(await toldAbout(c.offerToCarla)).toEqual([`contact.ended → ${carla.id}`]);
    // Dieter's offer waited on a post that was taken down: he hears that, and only that.
    expect(await toldAbout(c.offerByDieter)).toEqual([`contact.cancelled → ${dieter.id}`]);
    expect(await toldAbout(c.withDeleted)).toEqual([]);
    expect(await toldAbout(c.longOver)).toEqual([]);

    const rows = await handle.db.select().from(contacts).where(and(inArray(contacts.id, [c.withAnna, c.withBernd, c.offerToCarla]), eq(contacts.status, 'ended')));
    expect(rows.map((r) => r.endedBy)).toEqual([endedBy, endedBy, endedBy]);
  });
});
