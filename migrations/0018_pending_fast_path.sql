-- Custom SQL migration (drizzle-kit generate --custom): a function, which drizzle's schema does not describe.
-- pending_helper_stats (migration 0015), which ranks the helpers whose statistics are out of date in every wave
-- (src/domain/waves.ts, pendingStreamSql), made cheap in the wave's plan:
-- - ROWS 20: the planner took the default 1,000 rows for it, and so, as soon as anybody was pending, checked
--   the wave's conditions on these rows by hashing every need subscription of the category (~10,000 rows at
--   100,000 helpers) instead of a few index probes: a wave with the helpers of four earlier waves pending took
--   25 ms at the median instead of 6 (bench:match -- --first-wave --catch-up-every=5).
-- - It returns at once when nobody is pending: no helper listed and no window due to move on by `p_now` (the
--   smallest stats_change_at, from subscriptions_stats_change_idx).
-- - When only listed helpers are pending (the usual case between two catch-up sweeps), its query does not
--   depend on the values for its plan, so PostgreSQL keeps a generic plan per connection; the query that also
--   reads the windows due is planned at each call (a generic plan cannot use the range on stats_change_at),
--   as the only query was before. Each pending helper's subscriptions are read by one index probe.
CREATE OR REPLACE FUNCTION "pending_helper_stats"("p_category" text, "p_districts" text[], "p_now" timestamptz)
RETURNS TABLE ("user_id" integer, "district" text, "load" integer, "record" double precision, "last_at" timestamptz, "shuffle" double precision)
LANGUAGE plpgsql STABLE ROWS 20 AS $$
BEGIN
  IF NOT coalesce((SELECT min(c.stats_change_at) FROM subscriptions c) <= p_now, false) THEN
    IF NOT EXISTS (SELECT 1 FROM helper_stats_pending) THEN
      RETURN;
    END IF;
    RETURN QUERY
    SELECT s.user_id, s.district, st.load, (st.offered + 1)::float8 / (st.told + 2), st.last_at, s.shuffle
    FROM helper_stats_pending p
    CROSS JOIN LATERAL (SELECT x.user_id, x.district, x.shuffle FROM subscriptions x
                        WHERE x.user_id = p.user_id AND x.kind = 'need' AND x.category = p_category
                          AND (p_districts IS NULL OR x.district = ANY (p_districts)) OFFSET 0) s
    CROSS JOIN LATERAL helper_stats(s.user_id, p_now) st;
    RETURN;
  END IF;
  RETURN QUERY
  SELECT s.user_id, s.district, st.load, (st.offered + 1)::float8 / (st.told + 2), st.last_at, s.shuffle
  FROM (SELECT p.user_id FROM helper_stats_pending p
        UNION SELECT c.user_id FROM subscriptions c WHERE c.stats_change_at <= p_now) d
  CROSS JOIN LATERAL (SELECT x.user_id, x.district, x.shuffle FROM subscriptions x
                      WHERE x.user_id = d.user_id AND x.kind = 'need' AND x.category = p_category
                        AND (p_districts IS NULL OR x.district = ANY (p_districts)) OFFSET 0) s
  CROSS JOIN LATERAL helper_stats(s.user_id, p_now) st;
END
$$;
