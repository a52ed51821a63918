-- Room on each page for the new versions of a helper's rows: catching up a helper's statistics rewrites
-- their need subscriptions, and a new version on the same page keeps the pages dirtied (and, after a
-- checkpoint, logged in full) to about one per helper. Set before the column with a stored generated
-- value below, which rewrites the table.
ALTER TABLE "subscriptions" SET (fillfactor = 70);--> statement-breakpoint
CREATE TABLE "helper_stats_pending" (
	"user_id" integer PRIMARY KEY NOT NULL,
	"redraw" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
DROP INDEX "subscriptions_match_idx";--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "load" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "told" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "offered" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "record" double precision GENERATED ALWAYS AS ((("offered" + 1)::float8 / ("told" + 2))) STORED;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "last_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "shuffle" double precision DEFAULT random() NOT NULL;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "stats_change_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "subscriptions_rank_idx" ON "subscriptions" USING btree ("kind","category","district","load","record" DESC NULLS LAST,"last_at" NULLS FIRST,"shuffle","user_id");--> statement-breakpoint
CREATE INDEX "subscriptions_city_rank_idx" ON "subscriptions" USING btree ("kind","category","load","record" DESC NULLS LAST,"last_at" NULLS FIRST,"shuffle","user_id");--> statement-breakpoint
CREATE INDEX "subscriptions_stats_change_idx" ON "subscriptions" USING btree ("stats_change_at") WHERE "subscriptions"."stats_change_at" is not null;--> statement-breakpoint
-- A helper's fairness statistics as of `p_at`, exactly as the wave's ranking defines them (src/domain/waves.ts):
-- notifications in the 7 days (168 hours) before `p_at` (load) and in the 30 days (720 hours) before it (told),
-- offers of help among the latter, the newest of them, and when these next change as time passes: when the
-- oldest notification of a window leaves it. Hours, not days: a day across a change of daylight saving time
-- is not 24 hours, and the application counts milliseconds. One range scan of notifications_user_idx.
CREATE FUNCTION "helper_stats"("p_user" integer, "p_at" timestamptz)
RETURNS TABLE ("load" integer, "told" integer, "offered" integer, "last_at" timestamptz, "stats_change_at" timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT count(*) FILTER (WHERE n.created_at > p_at - interval '168 hours')::int,
         count(*)::int,
         count(*) FILTER (WHERE n.response = 'offered')::int,
         max(n.created_at),
         least(min(n.created_at) FILTER (WHERE n.created_at > p_at - interval '168 hours') + interval '168 hours',
               min(n.created_at) + interval '720 hours')
  FROM notifications n
  WHERE n.user_id = p_user AND n.created_at > p_at - interval '720 hours'
$$;--> statement-breakpoint
-- Lists helpers (people with a need subscription) in helper_stats_pending; `p_redraw`: they were told. One
-- index probe per person: most recipients of an offer have no need subscription and are not listed.
CREATE FUNCTION "mark_helpers_pending"("p_users" integer[], "p_redraw" boolean) RETURNS void LANGUAGE sql AS $$
  INSERT INTO helper_stats_pending (user_id, redraw)
  SELECT DISTINCT u.user_id, p_redraw FROM unnest(p_users) u(user_id)
  WHERE EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = u.user_id AND s.kind = 'need')
  ORDER BY 1
  ON CONFLICT (user_id) DO UPDATE SET redraw = helper_stats_pending.redraw OR excluded.redraw
$$;--> statement-breakpoint
-- New notifications (a wave, routing, the desk): their helpers are pending, with a new tie-breaker to draw.
CREATE FUNCTION "notifications_added"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM mark_helpers_pending((SELECT array_agg(user_id) FROM new_rows), true);
  RETURN NULL;
END
$$;--> statement-breakpoint
-- A response ("I can help", "Not this time") or another change, or notifications deleted (erasure).
CREATE FUNCTION "notifications_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM mark_helpers_pending((SELECT array_agg(user_id) FROM old_rows), false);
  RETURN NULL;
END
$$;--> statement-breakpoint
-- New need subscriptions (/subscribe replaces a helper's subscriptions) start with the defaults: a helper who
-- was ever told is pending until their statistics are written onto the new rows.
CREATE FUNCTION "subscriptions_added"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM mark_helpers_pending((SELECT array_agg(DISTINCT n.user_id) FROM new_rows n
    WHERE n.kind = 'need' AND EXISTS (SELECT 1 FROM notifications x WHERE x.user_id = n.user_id)), false);
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "notifications_added_stats" AFTER INSERT ON "notifications" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "notifications_added"();--> statement-breakpoint
CREATE TRIGGER "notifications_updated_stats" AFTER UPDATE ON "notifications" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "notifications_changed"();--> statement-breakpoint
CREATE TRIGGER "notifications_removed_stats" AFTER DELETE ON "notifications" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "notifications_changed"();--> statement-breakpoint
CREATE TRIGGER "subscriptions_added_stats" AFTER INSERT ON "subscriptions" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "subscriptions_added"();--> statement-breakpoint
-- The need subscriptions of a category (in `p_districts`, or all when null) of the helpers whose statistics on
-- them are out of date — listed in helper_stats_pending, or a window moved on by `p_now` — with their
-- statistics counted afresh as of `p_now`. The wave's ranking merges these few into its index streams
-- (src/domain/waves.ts); a function, so that its plan is made once per connection, not with every wave.
CREATE FUNCTION "pending_helper_stats"("p_category" text, "p_districts" text[], "p_now" timestamptz)
RETURNS TABLE ("user_id" integer, "district" text, "load" integer, "record" double precision, "last_at" timestamptz, "shuffle" double precision)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY
  SELECT s.user_id, s.district, st.load, (st.offered + 1)::float8 / (st.told + 2), st.last_at, s.shuffle
  FROM (SELECT p.user_id FROM helper_stats_pending p
        UNION SELECT c.user_id FROM subscriptions c WHERE c.stats_change_at <= p_now) d
  JOIN subscriptions s ON s.user_id = d.user_id AND s.kind = 'need' AND s.category = p_category
    AND (p_districts IS NULL OR s.district = ANY (p_districts))
  CROSS JOIN LATERAL helper_stats(s.user_id, p_now) st;
END
$$;--> statement-breakpoint
-- Writes the statistics as of `p_now` (the application's clock) onto the need subscriptions of every pending
-- helper and of every helper whose window has moved on by then (stats_change_at <= p_now, an index range
-- scan), and empties the list; the ones told get a new tie-breaker. Each helper's first need subscription is
-- locked first, in the order of the user ids, and the statistics computed after that by a new statement, so
-- that a notification committed meanwhile is counted (a wave that lists a helper again after the DELETE
-- leaves them listed for the next run). Returns how many helpers it wrote.
CREATE FUNCTION "catch_up_helper_stats"("p_now" timestamptz, "p_limit" integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  helpers integer[];
  redraws boolean[];
BEGIN
  -- At most p_limit listed helpers and p_limit rows whose window moved on per call: the caller repeats
  -- until a call finds nothing, one short transaction each.
  WITH batch AS (SELECT user_id FROM helper_stats_pending ORDER BY user_id LIMIT p_limit),
       taken AS (DELETE FROM helper_stats_pending p USING batch b WHERE p.user_id = b.user_id RETURNING p.user_id, p.redraw),
       due AS (SELECT user_id, redraw FROM taken
               UNION ALL (SELECT user_id, false FROM subscriptions WHERE stats_change_at <= p_now ORDER BY stats_change_at LIMIT p_limit)),
       helper AS (SELECT user_id, bool_or(redraw) AS redraw FROM due GROUP BY user_id ORDER BY user_id)
  SELECT array_agg(h.user_id ORDER BY h.user_id), array_agg(h.redraw ORDER BY h.user_id) INTO helpers, redraws
  FROM helper h
  CROSS JOIN LATERAL (SELECT 1 FROM subscriptions s WHERE s.user_id = h.user_id AND s.kind = 'need'
                      ORDER BY s.category, s.district LIMIT 1 FOR UPDATE) l;
  IF helpers IS NULL THEN RETURN 0; END IF;
  UPDATE subscriptions s
  SET load = x.load, told = x.told, offered = x.offered, last_at = x.last_at, stats_change_at = x.stats_change_at,
      shuffle = CASE WHEN x.redraw THEN random() ELSE s.shuffle END
  FROM (SELECT h.user_id, h.redraw, st.* FROM unnest(helpers, redraws) h(user_id, redraw)
        CROSS JOIN LATERAL helper_stats(h.user_id, p_now) st) x
  WHERE s.user_id = x.user_id AND s.kind = 'need';
  RETURN cardinality(helpers);
END
$$;--> statement-breakpoint
-- The overview counts subscriptions by kind, category and district: rewritten statistics must not make it
-- count again (migration 0012).
DROP TRIGGER "subscriptions_overview_changed" ON "subscriptions";--> statement-breakpoint
CREATE TRIGGER "subscriptions_overview_changed" AFTER INSERT OR DELETE OR TRUNCATE ON "subscriptions" FOR EACH STATEMENT EXECUTE FUNCTION "overview_changed"();--> statement-breakpoint
CREATE TRIGGER "subscriptions_overview_updated" AFTER UPDATE OF "user_id", "kind", "category", "district" ON "subscriptions" FOR EACH STATEMENT EXECUTE FUNCTION "overview_changed"();--> statement-breakpoint
-- Every helper who was ever told is pending: the first catch-up (or the ranking itself, until then) counts them.
INSERT INTO helper_stats_pending (user_id)
SELECT DISTINCT s.user_id FROM subscriptions s
WHERE s.kind = 'need' AND EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = s.user_id);
