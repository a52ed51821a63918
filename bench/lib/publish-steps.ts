import { performance } from 'node:perf_hooks';
import type { Database, Executor } from '../../src/db';
import type { PostRow, UserRow } from '../../src/db/schema';
import { routePost } from '../../src/domain/matching';
import { insertNewPost, type NewPost, type PostsContext } from '../../src/domain/posts';

/**
 * What publishPost does before routing (the same function), so the baseline and the breakdown pay the
 * same for it. Returns the new post.
 */
export async function insertPostLikePublish(tx: Executor, ctx: PostsContext, author: UserRow, input: NewPost): Promise<PostRow> {
  const { post, awaitingReview } = await insertNewPost(tx, ctx, author, input);
  if (awaitingReview) throw new Error('the benchmark runs without pre-moderation');
  return post;
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
