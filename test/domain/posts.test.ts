import { eq } from 'drizzle-orm';
import { ManualClock } from '../../src/clock';
import { posts, type UserRow, users } from '../../src/db/schema';
import { DomainError } from '../../src/domain/errors';
import { type PostsContext, publishPost } from '../../src/domain/posts';
import { createTestDb, resetTestDb, type TestDatabase } from '../helpers/db';

let db: TestDatabase;
let clock: ManualClock;
let ctx: PostsContext;

beforeAll(async () => {
  db = await createTestDb();
});
beforeEach(async () => {
  await resetTestDb(db);
  clock = new ManualClock('2026-03-04T10:00:00+01:00');
  ctx = {
    clock,
    timeZone: 'Europe/Berlin',
    quietHours: null,
    config: { POST_TTL_DAYS: 14, MAX_OPEN_POSTS: 2, MAX_POSTS_PER_DAY: 50, PREMODERATE_FIRST_POST: false, INTAKE_MAX_OPEN: 30 },
    waves: { size: 5, intervalMs: 3_600_000, weeklyCap: 3, neighbours: () => [] },
  };
});
afterAll(async () => {
  await db.close();
});

async function seeker(): Promise<UserRow> {
  const now = clock.now();
  const [row] = await db.db.insert(users).values({ telegramId: 4242, firstName: 'Olena', locale: 'uk', role: 'seeker', district: 'hamborn', createdAt: now, lastSeenAt: now }).returning();
  return row!;
}

function need(text: string) {
  return { kind: 'need' as const, category: 'housing', district: 'hamborn', text, photoFileId: null, language: 'uk' };
}

/** The error keys of the publishes that were refused, sorted; the published ones as 'ok'. */
async function outcomes(runs: Promise<unknown>[]): Promise<string[]> {
  const settled = await Promise.allSettled(runs);
  return settled.map((s) => (s.status === 'fulfilled' ? 'ok' : s.reason instanceof DomainError ? s.reason.message : String(s.reason))).sort();
}

describe('publishing', () => {
  it('returns the post as stored', async () => {
    const author = await seeker();
    const { post, awaitingReview } = await publishPost(db.db, ctx, author, need('Шукаю житло для сім’ї з трьох осіб.'));
    const [stored] = await db.db.select().from(posts).where(eq(posts.id, post.id));
    expect(awaitingReview).toBe(false);
    // The first wave found nobody: the need is on the desk (startWaves updated the row after the insert).
    expect(post).toEqual(stored);
    expect(post).toMatchObject({ authorId: author.id, status: 'open', publishedAt: clock.now(), createdAt: clock.now(), intakeName: null });
  });

  it('keeps the limits when the same person publishes several times at once', async () => {
    const author = await seeker();
    const texts = ['Шукаю житло для сім’ї з трьох осіб.', 'Потрібен лікар-терапевт для мами.', 'Шукаю няню на два вечори на тиждень.', 'Потрібна допомога з документами.'];
    const refused = (await outcomes(texts.map((text) => publishPost(db.db, ctx, author, need(text))))).filter((o) => o !== 'ok');
    expect(refused).toEqual(['posts.errors.tooManyOpen', 'posts.errors.tooManyOpen']);
    expect(await db.db.select().from(posts)).toHaveLength(2);
  });

  it('refuses the same text sent several times at once but once', async () => {
    const author = await seeker();
    const runs = [1, 2, 3].map(() => publishPost(db.db, ctx, author, need('Шукаю житло для сім’ї з трьох осіб.')));
    expect(await outcomes(runs)).toEqual(['ok', 'posts.errors.duplicate', 'posts.errors.duplicate']);
    expect(await db.db.select().from(posts)).toHaveLength(1);
  });

  it('stores nothing for a refused post, and holds a first post for review several times at once', async () => {
    ctx.config.PREMODERATE_FIRST_POST = true;
    const author = await seeker();
    const runs = ['Шукаю житло для сім’ї з трьох осіб.', 'Потрібен лікар-терапевт для мами.'].map((text) => publishPost(db.db, ctx, author, need(text)));
    const results = await Promise.all(runs);
    expect(results.map((r) => [r.awaitingReview, r.post.status, r.post.publishedAt])).toEqual([
      [true, 'pending_review', null],
      [true, 'pending_review', null],
    ]);
    await expect(publishPost(db.db, ctx, author, need('Потрібна допомога з документами.'))).rejects.toThrow(new DomainError('posts.errors.tooManyOpen', { max: 2 }));
    await db.db.update(users).set({ bannedAt: clock.now() }).where(eq(users.id, author.id));
    ctx.config.MAX_OPEN_POSTS = 50;
    await expect(publishPost(db.db, ctx, author, need('Потрібна допомога з документами.'))).rejects.toThrow(DomainError);
    expect(await db.db.select().from(posts)).toHaveLength(2);
  });
});
