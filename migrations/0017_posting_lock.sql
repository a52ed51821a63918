-- Custom SQL migration (drizzle-kit generate --custom): a function, which drizzle's schema does not describe.
-- Publishing (src/domain/posts.ts, insertNewPost) checks an author's posts and inserts the new one in one
-- statement. Two publishes by the same author at once must not both pass the limits, so the author's posts
-- are read under a lock held to the end of the transaction: this function takes it, then reads them in a
-- statement of its own — under READ COMMITTED its snapshot is taken after the lock, so it sees the post
-- that the lock's previous holder committed (the calling statement's own snapshot is older).
CREATE OR REPLACE FUNCTION posts_of_author_locked(p_author integer)
RETURNS SETOF posts
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(726500000 + p_author % 1000000);
  RETURN QUERY SELECT * FROM posts WHERE author_id = p_author;
END
$$;
