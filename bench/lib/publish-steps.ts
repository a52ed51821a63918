import { performance } from 'node:perf_hooks';
import { and, eq, gte, ne, sql } from 'drizzle-orm';
import type { Database, Executor } from '../../src/db';
import { posts, type PostRow, users, type UserRow } from '../../src/db/schema';
import { routePost } from '../../src/domain/matching';
import { checkMayCreatePost, checkPostText, type NewPost, type PostsContext, textHash } from '../../src/domain/posts';

/**
 * What publishPost does before routing, with the same round trips (author lock, fresh author, limits,
 * duplicate check, insert), so the baseline and the breakdown pay the same for it. Returns the new post.
 */
export async function insertPostLikePublish(tx: Executor, ctx: PostsContext, author: UserRow, input: NewPost): Promise<PostRow> {
  const checked = checkPostText(input.text);
  if (!checked.ok) throw new Error(`bad benchmark text: ${checked.reason}`);
  await tx.execute(sql`select pg_advisory_xact_lock(${726_500_000 + (author.id % 1_000_000)})`);
  const [fresh] = await tx.select().from(users).where(eq(users.id, author.id));
  if (!fresh) throw new Error(`author ${author.id} is missing`);
  await checkMayCreatePost(tx, ctx, fresh);
  const now = ctx.clock.now();
  const hash = textHash(checked.text);
  const [duplicate] = await tx
    .select({ id: posts.id })
    .from(posts)
    .where(and(eq(posts.authorId, author.id), eq(posts.textHash, hash), gte(posts.createdAt, new Date(now.getTime() - 86_400_000)), ne(posts.status, 'removed')))
    .limit(1);
  if (duplicate) throw new Error('duplicate benchmark text');
  const [post] = await tx
    .insert(posts)
    .values({
      authorId: author.id,
      kind: input.kind,
      category: input.category,
      district: input.district,
      text: checked.text,
      photoFileId: input.photoFileId,
      language: input.language,
      status: 'open',
      textHash: hash,
      createdAt: now,
      publishedAt: now,
      updatedAt: now,
      expiresAt: new Date(now.getTime() + ctx.config.POST_TTL_DAYS * 86_400_000),
    })
    .returning();
  return post!;
}

/** The parts of one publication, in milliseconds. */
export interface TimedPublication {
  /** BEGIN, lock, checks and the post insert. */
  beforeMs: number;
  /** routePost's one statement, as the client sees it. */
  routeMs: number;
  commitMs: number;
  recipients: number;
}

/**
 * Publishes like publishPost but times its parts separately, to show where the time of a post goes:
 * the work before routing, routePost's statement itself, and the commit.
 */
export async function publishTimed(db: Database, ctx: PostsContext, author: UserRow, input: NewPost): Promise<TimedPublication> {
  const start = performance.now();
  let routed = start;
  let inserted = start;
  let recipients = 0;
  await db.transaction(async (tx) => {
    const post = await insertPostLikePublish(tx, ctx, author, input);
    inserted = performance.now();
    recipients = await routePost(tx, ctx, post);
    routed = performance.now();
  });
  return { beforeMs: inserted - start, routeMs: routed - inserted, commitMs: performance.now() - routed, recipients };
}
