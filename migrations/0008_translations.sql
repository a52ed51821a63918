CREATE TABLE "translation_jobs" (
	"id" serial PRIMARY KEY NOT NULL,
	"post_id" integer,
	"relay_message_id" integer,
	"targets" text[] NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" smallint DEFAULT 0 NOT NULL,
	"not_before" timestamp with time zone NOT NULL,
	"lease_until" timestamp with time zone,
	"error" text,
	"created_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "translation_jobs_one_subject" CHECK (("translation_jobs"."post_id" is null) <> ("translation_jobs"."relay_message_id" is null))
);
--> statement-breakpoint
CREATE TABLE "translation_opt_outs" (
	"user_id" integer NOT NULL,
	"contact_id" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "translation_opt_outs_user_id_contact_id_pk" PRIMARY KEY("user_id","contact_id")
);
--> statement-breakpoint
CREATE TABLE "translations" (
	"id" serial PRIMARY KEY NOT NULL,
	"post_id" integer,
	"relay_message_id" integer,
	"source" text NOT NULL,
	"target" text NOT NULL,
	"source_hash" text NOT NULL,
	"text" text NOT NULL,
	"engine" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "translations_one_subject" CHECK (("translations"."post_id" is null) <> ("translations"."relay_message_id" is null))
);
--> statement-breakpoint
ALTER TABLE "translation_jobs" ADD CONSTRAINT "translation_jobs_post_id_posts_id_fk" FOREIGN KEY ("post_id") REFERENCES "public"."posts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "translation_jobs" ADD CONSTRAINT "translation_jobs_relay_message_id_relay_messages_id_fk" FOREIGN KEY ("relay_message_id") REFERENCES "public"."relay_messages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "translation_opt_outs" ADD CONSTRAINT "translation_opt_outs_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "translation_opt_outs" ADD CONSTRAINT "translation_opt_outs_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "translations" ADD CONSTRAINT "translations_post_id_posts_id_fk" FOREIGN KEY ("post_id") REFERENCES "public"."posts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "translations" ADD CONSTRAINT "translations_relay_message_id_relay_messages_id_fk" FOREIGN KEY ("relay_message_id") REFERENCES "public"."relay_messages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "translation_jobs_post_idx" ON "translation_jobs" USING btree ("post_id") WHERE "translation_jobs"."post_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "translation_jobs_relay_idx" ON "translation_jobs" USING btree ("relay_message_id") WHERE "translation_jobs"."relay_message_id" is not null;--> statement-breakpoint
CREATE INDEX "translation_jobs_due_idx" ON "translation_jobs" USING btree ("not_before") WHERE "translation_jobs"."status" = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "translations_post_idx" ON "translations" USING btree ("post_id","target") WHERE "translations"."post_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "translations_relay_idx" ON "translations" USING btree ("relay_message_id","target") WHERE "translations"."relay_message_id" is not null;