DROP INDEX "channel_posts_live_idx";--> statement-breakpoint
ALTER TABLE "channel_posts" ADD COLUMN "content" text;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "last_error_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "channel_posts_live_idx" ON "channel_posts" USING btree ("post_id") WHERE "channel_posts"."state" in ('queued', 'card', 'editing');--> statement-breakpoint
-- Cards already in channels show their post as it is now: recorded, so that only later edits edit them.
UPDATE "channel_posts" cp SET "content" = md5(concat_ws(chr(31), p.kind, p.category, p.district, coalesce(p.text, ''), (p.photo_file_id is not null)::text, p.language)) FROM "posts" p WHERE p.id = cp.post_id AND cp.message_id IS NOT NULL;
