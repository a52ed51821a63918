-- Custom SQL migration (drizzle-kit generate --custom): a function, which drizzle's schema does not describe.
-- One round trip at the start of every update of a private chat (src/domain/sessions.ts, takeChat): the
-- chat's lease, and when it was taken, the sender's row and the chat's session.
CREATE OR REPLACE FUNCTION take_chat(p_key text, p_owner text, p_until timestamptz, p_now timestamptz, p_telegram_id bigint)
RETURNS TABLE (taken boolean, user_row json, session_value jsonb, session_version integer)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  -- The lease: free, run out, or already this owner's (as acquireSessionLease).
  INSERT INTO session_leases AS l (key, owner, until) VALUES (p_key, p_owner, p_until)
  ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, until = excluded.until
  WHERE l.until <= p_now OR l.owner = excluded.owner;
  IF NOT FOUND THEN
    RETURN QUERY SELECT false, NULL::json, NULL::jsonb, NULL::integer;
    RETURN;
  END IF;
  -- A statement of its own: under READ COMMITTED its snapshot is taken after the lease, so it sees the
  -- session that the chat's previous holder wrote together with its release.
  RETURN QUERY
    SELECT true, (SELECT row_to_json(u) FROM users u WHERE u.telegram_id = p_telegram_id), s.value, s.version
    FROM (SELECT 1) AS one LEFT JOIN sessions s ON s.key = p_key;
END
$$;
