CREATE TABLE "channel_posts" (
	"channel_id" integer NOT NULL,
	"post_id" integer NOT NULL,
	"state" text NOT NULL,
	"message_id" integer,
	"posted_at" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "channel_posts_channel_id_post_id_pk" PRIMARY KEY("channel_id","post_id")
);
--> statement-breakpoint
CREATE TABLE "channels" (
	"id" serial PRIMARY KEY NOT NULL,
	"chat_id" bigint NOT NULL,
	"type" text NOT NULL,
	"title" text NOT NULL,
	"username" text,
	"district" text NOT NULL,
	"locale" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"lost_reason" text,
	"lost_at" timestamp with time zone,
	"added_by" integer,
	"created_at" timestamp with time zone NOT NULL,
	"next_send_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "channel_posts" ADD CONSTRAINT "channel_posts_channel_id_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."channels"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "channel_posts" ADD CONSTRAINT "channel_posts_post_id_posts_id_fk" FOREIGN KEY ("post_id") REFERENCES "public"."posts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "channels" ADD CONSTRAINT "channels_added_by_users_id_fk" FOREIGN KEY ("added_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "channel_posts_live_idx" ON "channel_posts" USING btree ("post_id") WHERE "channel_posts"."state" in ('queued', 'card');--> statement-breakpoint
CREATE UNIQUE INDEX "channels_chat_idx" ON "channels" USING btree ("chat_id");