-- The web desk's overview is kept in memory while nothing it counts has changed (src/domain/overview.ts):
-- every statement that changes what it counts takes a number from this sequence, and the overview is
-- computed again when the number differs. A sequence, because nextval() never waits for a lock.
CREATE SEQUENCE "overview_changes";--> statement-breakpoint
CREATE FUNCTION "overview_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM nextval('overview_changes');
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "posts_overview_changed" AFTER INSERT OR DELETE OR TRUNCATE ON "posts" FOR EACH STATEMENT EXECUTE FUNCTION "overview_changed"();--> statement-breakpoint
CREATE TRIGGER "posts_overview_updated" AFTER UPDATE OF "kind", "category", "district", "status", "published_at", "first_response_at", "closed_at" ON "posts" FOR EACH STATEMENT EXECUTE FUNCTION "overview_changed"();--> statement-breakpoint
CREATE TRIGGER "subscriptions_overview_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "subscriptions" FOR EACH STATEMENT EXECUTE FUNCTION "overview_changed"();--> statement-breakpoint
CREATE TRIGGER "users_overview_changed" AFTER DELETE OR TRUNCATE ON "users" FOR EACH STATEMENT EXECUTE FUNCTION "overview_changed"();--> statement-breakpoint
CREATE TRIGGER "users_overview_updated" AFTER UPDATE OF "deleted_at", "banned_at", "blocked_at", "notifications_paused", "paused_until" ON "users" FOR EACH STATEMENT EXECUTE FUNCTION "overview_changed"();
