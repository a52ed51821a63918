CREATE TABLE "poster_starts" (
	"district" text NOT NULL,
	"locale" text NOT NULL,
	"started" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "poster_starts_district_locale_pk" PRIMARY KEY("district","locale")
);
