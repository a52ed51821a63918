ALTER TABLE "posts" ADD COLUMN "intake_name" text;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "intake_language" text;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "intake_organisation" text;