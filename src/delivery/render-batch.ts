import { and, inArray, or, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../db';
import { blocks, posts, type OutboxRow, type PostRow, users } from '../db/schema';
import { isBlockedPair } from '../domain/contacts';
import { findPost } from '../domain/posts';
import { isVerifiedHelper, verifiedHelperSql } from '../domain/verification';

const pairKey = (a: number, b: number) => (a < b ? `${a}:${b}` : `${b}:${a}`);

/**
 * What the rows of one claimed batch share, loaded before any of them is rendered: the posts they
 * refer to (one query) and whether each post's author and the row's recipient blocked each other (one
 * query). A post routed to 250 people then costs two queries per batch instead of 500. What the batch
 * did not load (a relayed message's pair) is looked up on demand and kept for the rest of the batch.
 */
export class RenderBatch {
  /** Which of the batch's recipients are verified helpers; loaded at the first question (protected needs only). */
  private verified?: Map<number, boolean>;

  private constructor(
    private readonly db: Executor,
    private readonly posts: Map<number, PostRow | null>,
    private readonly blocked: Map<string, boolean>,
    private readonly recipients: readonly number[],
  ) {}

  /** Loads the posts of `rows` and the block pairs between their authors and the rows' recipients. */
  static async load(db: Executor, rows: readonly OutboxRow[]): Promise<RenderBatch> {
    const postIds = [...new Set(rows.flatMap((row) => (row.postId === null ? [] : [row.postId])))];
    const loaded = new Map<number, PostRow | null>(postIds.map((id) => [id, null]));
    if (postIds.length > 0) {
      for (const post of await db.select().from(posts).where(inArray(posts.id, postIds))) loaded.set(post.id, post);
    }
    const pairs = rows.flatMap((row) => {
      const post = row.postId === null ? null : loaded.get(row.postId);
      return post && post.authorId !== row.userId ? [{ author: post.authorId, recipient: row.userId }] : [];
    });
    const blocked = new Map<string, boolean>(pairs.map((p) => [pairKey(p.author, p.recipient), false]));
    if (pairs.length > 0) {
      const authors = [...new Set(pairs.map((p) => p.author))];
      const recipients = [...new Set(pairs.map((p) => p.recipient))];
      const found = await db
        .select({ blocker: blocks.blockerId, blocked: blocks.blockedId })
        .from(blocks)
        .where(
          or(
            and(inArray(blocks.blockerId, authors), inArray(blocks.blockedId, recipients)),
            and(inArray(blocks.blockerId, recipients), inArray(blocks.blockedId, authors)),
          ),
        );
      for (const b of found) blocked.set(pairKey(b.blocker, b.blocked), true);
    }
    return new RenderBatch(db, loaded, blocked, [...new Set(rows.map((row) => row.userId))]);
  }

  /** The post as loaded for this batch; undefined when it no longer exists. */
  async post(id: number): Promise<PostRow | undefined> {
    if (!this.posts.has(id)) {
      this.posts.set(id, (await findPost(this.db, id)) ?? null);
    }
    return this.posts.get(id) ?? undefined;
  }

  /** Whether one of the two blocked the other. */
  async isBlocked(a: number, b: number): Promise<boolean> {
    const key = pairKey(a, b);
    let blocked = this.blocked.get(key);
    if (blocked === undefined) {
      blocked = await isBlockedPair(this.db, a, b);
      this.blocked.set(key, blocked);
    }
    return blocked;
  }

  /**
   * Whether a recipient is a verified helper now (a notification of a protected need goes out only then).
   * The first question loads the answer for every recipient of the batch in one query.
   */
  async isVerifiedHelper(userId: number): Promise<boolean> {
    if (!this.verified) {
      this.verified = new Map(this.recipients.map((id) => [id, false]));
      if (this.recipients.length > 0) {
        const ids = sql.join(this.recipients.map((id) => sql`${id}`), sql`, `);
        for (const row of await queryRows<{ id: number }>(this.db, sql`select u.id from ${users} u where u.id in (${ids}) and ${verifiedHelperSql()}`)) {
          this.verified.set(Number(row.id), true);
        }
      }
    }
    const known = this.verified.get(userId);
    if (known !== undefined) return known;
    const verified = await isVerifiedHelper(this.db, userId);
    this.verified.set(userId, verified);
    return verified;
  }
}
