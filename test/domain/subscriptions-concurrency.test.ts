import { eq, sql } from 'drizzle-orm';
import { Client } from 'pg';
import { ManualClock } from '../../src/clock';
import { helperStatsPending, posts, users } from '../../src/db/schema';
import { getSubscriptionSets, replaceSubscriptions } from '../../src/domain/subscriptions';
import { catchUpHelperStats } from '../../src/domain/waves';
import { createTestDb, type TestDatabase, TEST_DATABASE_URL } from '../helpers/db';
import { waitFor } from '../helpers/wait';

// Locks between connections: PGlite runs one statement at a time, so only the PostgreSQL run can show it.
const describeOnPostgres = TEST_DATABASE_URL ? describe : describe.skip;

describeOnPostgres('a helper changing their subscriptions while the statistics are caught up', () => {
  let db: TestDatabase;
  const clock = new ManualClock('2026-03-25T10:00:00+01:00');
  let helper: number;

  beforeAll(async () => {
    db = await createTestDb();
    const now = clock.now();
    const person = { firstName: 'X', locale: 'de' as const, district: 'hamborn', createdAt: now, lastSeenAt: now, onboardedAt: now };
    const [seeker, told] = await db.db
      .insert(users)
      .values([
        { ...person, telegramId: 90_001, role: 'seeker' as const },
        { ...person, telegramId: 90_002, role: 'helper' as const },
      ])
      .returning({ id: users.id });
    helper = told!.id;
    const [need] = await db.db
      .insert(posts)
      .values({ authorId: seeker!.id, kind: 'need', category: 'housing', district: 'hamborn', text: 'Suche eine Wohnung für drei Personen.', language: 'de', status: 'open', createdAt: now, updatedAt: now, expiresAt: new Date(now.getTime() + 86_400_000) })
      .returning({ id: posts.id });
    await replaceSubscriptions(db.db, helper, 'need', { categories: ['food', 'housing', 'transport'], districts: ['hamborn', 'walsum'] });
    // Told once: the helper is listed as pending until the catch-up writes the statistics.
    await db.db.execute(sql`insert into notifications (post_id, user_id, created_at, wave) values (${need!.id}, ${helper}, ${now}, 1)`);
  });
  afterAll(async () => {
    await db.close();
  });

  async function client(): Promise<Client> {
    const c = new Client({ connectionString: db.url });
    await c.connect();
    return c;
  }

  it('takes the pending row before any subscription, as the catch-up does, so the two cannot deadlock', async () => {
    expect(await db.db.select().from(helperStatsPending).where(eq(helperStatsPending.userId, helper))).toHaveLength(1);
    // Where the catch-up stands after its first step: the helper's pending row taken, their subscriptions next.
    const catchUp = await client();
    const observer = await client();
    try {
      await catchUp.query('begin');
      await catchUp.query('select 1 from helper_stats_pending where user_id = $1 for update', [helper]);

      const replaced = replaceSubscriptions(db.db, helper, 'need', { categories: ['housing'], districts: ['walsum'] });
      await waitFor(
        '/subscribe waiting for a lock',
        async () => (await observer.query(`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).rowCount,
        5_000,
        undefined,
        20,
      );
      // Meanwhile it holds none of the helper's subscriptions, which the catch-up takes next.
      await observer.query('begin');
      const free = await observer.query(`select 1 from subscriptions where user_id = $1 and kind = 'need' for update skip locked`, [helper]);
      await observer.query('rollback');
      expect(free.rowCount).toBe(6);

      await catchUp.query('commit');
      expect(await replaced).toBe(1);
      expect(await getSubscriptionSets(db.db, helper, 'need')).toEqual({ categories: ['housing'], districts: ['walsum'] });
    } finally {
      await catchUp.end();
      await observer.end();
    }
    // The helper is pending again (new rows start without statistics) until the sweep writes them.
    expect(await catchUpHelperStats(db.db, clock.now())).toBe(1);
    expect(await db.db.select().from(helperStatsPending).where(eq(helperStatsPending.userId, helper))).toEqual([]);
  });
});
