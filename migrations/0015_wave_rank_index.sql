-- Room on each page for the new versions of a helper's rows: every wave rewrites the need subscriptions of
-- the helpers it tells (their statistics), and a new version on the same page keeps the pages a wave
-- dirties (and, after a checkpoint, logs in full) to about one per helper. Set before the column with a
-- stored generated value below, which rewrites the table.
ALTER TABLE "subscriptions" SET (fillfactor = 70);--> statement-breakpoint
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
-- Writes the statistics of helpers (`p_users[i]` as of `p_at[i]`) onto all their need subscriptions, and with
-- `p_redraw` a new tie-breaker. Each helper's first need subscription is locked first (in the order of the
-- user ids; every writer of statistics comes through here, so that row is the helper's lock), and the
-- statistics are computed after that by a new statement: its snapshot includes whatever another transaction
-- committed for these helpers before we got them, so two waves telling the same helper at once cannot lose
-- one of their notifications. People without need subscriptions (most recipients of an offer) cost one
-- index probe each.
CREATE FUNCTION "restate_helpers"("p_users" integer[], "p_at" timestamptz[], "p_redraw" boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  helpers integer[];
BEGIN
  IF p_users IS NULL THEN RETURN; END IF;
  SELECT array_agg(h.user_id) INTO helpers
  FROM (SELECT DISTINCT u AS user_id FROM unnest(p_users) u ORDER BY 1) h
  CROSS JOIN LATERAL (SELECT 1 FROM subscriptions s WHERE s.user_id = h.user_id AND s.kind = 'need'
                      ORDER BY s.category, s.district LIMIT 1 FOR UPDATE) l;
  IF helpers IS NULL THEN RETURN; END IF;
  UPDATE subscriptions s
  SET load = x.load, told = x.told, offered = x.offered, last_at = x.last_at, stats_change_at = x.stats_change_at,
      shuffle = CASE WHEN p_redraw THEN random() ELSE s.shuffle END
  FROM (SELECT a.user_id, st.*
        FROM unnest(p_users, p_at) a(user_id, at)
        JOIN unnest(helpers) h(user_id) ON h.user_id = a.user_id
        CROSS JOIN LATERAL helper_stats(a.user_id, a.at) st) x
  WHERE s.user_id = x.user_id AND s.kind = 'need';
END
$$;--> statement-breakpoint
-- The wave's refresh before it ranks (src/domain/waves.ts): the helpers whose windows have moved on by
-- `p_now` (the application's clock), recomputed as of `p_now`. An index range scan of
-- subscriptions_stats_change_idx finds them. Returns how many helpers it recomputed.
CREATE FUNCTION "refresh_helper_stats"("p_now" timestamptz) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  stale integer[];
BEGIN
  SELECT array_agg(DISTINCT user_id) INTO stale FROM subscriptions WHERE stats_change_at <= p_now;
  IF stale IS NULL THEN RETURN 0; END IF;
  PERFORM restate_helpers(stale, array_fill(p_now, ARRAY[cardinality(stale)]), false);
  RETURN cardinality(stale);
END
$$;--> statement-breakpoint
-- New notifications: their helpers' statistics as of the newest new notification (no later than the clock of
-- the application that wrote it), and a new tie-breaker. One call per statement: a wave of 50 is one.
CREATE FUNCTION "notifications_added"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM restate_helpers(array_agg(a.user_id), array_agg(a.at), true)
  FROM (SELECT user_id, max(created_at) AS at FROM new_rows GROUP BY user_id) a;
  RETURN NULL;
END
$$;--> statement-breakpoint
-- A response ("I can help", "Not this time") or any other change: the helpers concerned, as of the newest
-- notification changed.
CREATE FUNCTION "notifications_updated"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM restate_helpers(array_agg(a.user_id), array_agg(a.at), false)
  FROM (SELECT user_id, max(created_at) AS at
        FROM (SELECT user_id, created_at FROM old_rows UNION ALL SELECT user_id, created_at FROM new_rows) c
        GROUP BY user_id) a;
  RETURN NULL;
END
$$;--> statement-breakpoint
-- Notifications deleted (erasure): their helpers without them.
CREATE FUNCTION "notifications_removed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM restate_helpers(array_agg(a.user_id), array_agg(a.at), false)
  FROM (SELECT user_id, max(created_at) AS at FROM old_rows GROUP BY user_id) a;
  RETURN NULL;
END
$$;--> statement-breakpoint
-- New need subscriptions (/subscribe replaces a helper's subscriptions): the helper's statistics as of their
-- newest notification, on all their need subscriptions. Helpers never told keep the defaults.
CREATE FUNCTION "subscriptions_added"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM restate_helpers(array_agg(a.user_id), array_agg(m.at), false)
  FROM (SELECT DISTINCT user_id FROM new_rows WHERE kind = 'need') a
  CROSS JOIN LATERAL (SELECT max(n.created_at) AS at FROM notifications n WHERE n.user_id = a.user_id) m
  WHERE m.at IS NOT NULL;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "notifications_added_stats" AFTER INSERT ON "notifications" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "notifications_added"();--> statement-breakpoint
CREATE TRIGGER "notifications_updated_stats" AFTER UPDATE ON "notifications" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "notifications_updated"();--> statement-breakpoint
CREATE TRIGGER "notifications_removed_stats" AFTER DELETE ON "notifications" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "notifications_removed"();--> statement-breakpoint
CREATE TRIGGER "subscriptions_added_stats" AFTER INSERT ON "subscriptions" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "subscriptions_added"();--> statement-breakpoint
-- The overview counts subscriptions by kind, category and district: statistics that change with every wave
-- must not make it count again (migration 0012).
DROP TRIGGER "subscriptions_overview_changed" ON "subscriptions";--> statement-breakpoint
CREATE TRIGGER "subscriptions_overview_changed" AFTER INSERT OR DELETE OR TRUNCATE ON "subscriptions" FOR EACH STATEMENT EXECUTE FUNCTION "overview_changed"();--> statement-breakpoint
CREATE TRIGGER "subscriptions_overview_updated" AFTER UPDATE OF "user_id", "kind", "category", "district" ON "subscriptions" FOR EACH STATEMENT EXECUTE FUNCTION "overview_changed"();--> statement-breakpoint
-- The existing helpers' statistics, as of their newest notification (a wave recomputes them as of its clock
-- where a window has moved on since).
SELECT restate_helpers(array_agg(a.user_id), array_agg(m.at), false)
FROM (SELECT DISTINCT user_id FROM subscriptions WHERE kind = 'need') a
CROSS JOIN LATERAL (SELECT max(n.created_at) AS at FROM notifications n WHERE n.user_id = a.user_id) m
WHERE m.at IS NOT NULL;
