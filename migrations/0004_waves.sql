ALTER TABLE "users" ADD COLUMN "paused_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "wave" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "wave_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "next_wave_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "widened_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "desk_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "wave" smallint;--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "response" text;--> statement-breakpoint
CREATE INDEX "posts_next_wave_idx" ON "posts" USING btree ("next_wave_at") WHERE "posts"."next_wave_at" is not null and "posts"."status" in ('open', 'in_contact');--> statement-breakpoint
CREATE INDEX "notifications_user_idx" ON "notifications" USING btree ("user_id","created_at");