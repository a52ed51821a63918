-- Custom SQL migration (drizzle-kit generate --custom): a function, which drizzle's schema does not describe.
-- pending_helper_stats (migration 0015) returns at once when nobody is pending: no helper listed in
-- helper_stats_pending and no window due to move on by `p_now` (the smallest stats_change_at, read from
-- subscriptions_stats_change_idx). Its query is planned afresh at every call — a generic plan cannot use the
-- range on stats_change_at, so PostgreSQL rightly keeps custom plans — and that planning was most of the
-- pending stream's cost in every wave (~0.5 ms of a ~3 ms wave statement; ~2 ms when called on its own),
-- though after each catch-up sweep (every 5 s) nobody is pending.
CREATE OR REPLACE FUNCTION "pending_helper_stats"("p_category" text, "p_districts" text[], "p_now" timestamptz)
RETURNS TABLE ("user_id" integer, "district" text, "load" integer, "record" double precision, "last_at" timestamptz, "shuffle" double precision)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM helper_stats_pending)
     AND NOT coalesce((SELECT min(c.stats_change_at) FROM subscriptions c) <= p_now, false) THEN
    RETURN;
  END IF;
  RETURN QUERY
  SELECT s.user_id, s.district, st.load, (st.offered + 1)::float8 / (st.told + 2), st.last_at, s.shuffle
  FROM (SELECT p.user_id FROM helper_stats_pending p
        UNION SELECT c.user_id FROM subscriptions c WHERE c.stats_change_at <= p_now) d
  JOIN subscriptions s ON s.user_id = d.user_id AND s.kind = 'need' AND s.category = p_category
    AND (p_districts IS NULL OR s.district = ANY (p_districts))
  CROSS JOIN LATERAL helper_stats(s.user_id, p_now) st;
END
$$;
