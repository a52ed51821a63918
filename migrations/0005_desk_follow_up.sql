ALTER TABLE "users" ADD COLUMN "lotse" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "desk_announced_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "desk_owner_id" integer;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "desk_broadcast_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "referred_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "close_reason" text;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "follow_up_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "posts" ADD CONSTRAINT "posts_desk_owner_id_users_id_fk" FOREIGN KEY ("desk_owner_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "posts_desk_idx" ON "posts" USING btree ("desk_at") WHERE "posts"."desk_at" is not null and "posts"."status" in ('open', 'in_contact');--> statement-breakpoint
CREATE INDEX "contacts_follow_up_idx" ON "contacts" USING btree ("follow_up_at") WHERE "contacts"."follow_up_at" is not null;