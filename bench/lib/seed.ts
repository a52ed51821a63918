import { asc, eq, sql, type SQL } from 'drizzle-orm';
import { WHOLE_CITY } from '../../src/city';
import { type Database, queryRows } from '../../src/db';
import { users, type UserRow } from '../../src/db/schema';

/** Subscriptions per helper, each a distinct (category, district) cell. */
export const SUBSCRIPTIONS_PER_HELPER = 5;
/** Independent draws per helper from which the first five distinct cells are kept. */
const DRAWS_PER_HELPER = 16;

/** What seeding needs to know about the city. */
export interface SeedCity {
  categories: readonly string[];
  /** The city's districts, without the whole city. */
  districts: readonly string[];
}

/** Keys come from the validated city file (`[a-z][a-z0-9_]*`) or are '*'; checked again before inlining. */
export function textArray(keys: readonly string[]): SQL {
  for (const key of keys) if (!/^([a-z][a-z0-9_]*|\*)$/.test(key)) throw new Error(`unexpected key ${key}`);
  return sql.raw(`array[${keys.map((k) => `'${k}'`).join(', ')}]::text[]`);
}

const SEEDED_AT = new Date('2026-02-01T09:00:00Z');

/**
 * A deterministic 32-bit integer hash in SQL (multiply–xorshift), so that both drivers seed exactly
 * the same data without depending on random() or on the server's hash functions. Dropped after seeding.
 */
const CREATE_MIX = sql`create or replace function bench_mix(x bigint) returns bigint language sql immutable as $$
  select ((h # (h >> 16)) * 73244475 % 4294967296) # (((h # (h >> 16)) * 73244475 % 4294967296) >> 16)
  from (select ((x + 1013904223) % 2147483648) * 2654435761 % 4294967296 as h) s
$$`;

/**
 * Seeds `count` onboarded helpers (locale cycling uk/de/ru, a hashed home district) with five distinct
 * need subscriptions each, drawn uniformly from the categories × (districts + whole city) grid: the
 * first five distinct cells of sixteen hashed draws are a uniform sample without replacement.
 */
export async function seedHelpers(db: Database, city: SeedCity, count: number): Promise<void> {
  const cells = [...city.districts, WHOLE_CITY];
  const grid = city.categories.length * cells.length;
  await db.transaction(async (tx) => {
    await tx.execute(sql`set local statement_timeout = 0`);
    await tx.execute(CREATE_MIX);
    await tx.execute(sql`insert into users (telegram_id, first_name, locale, role, district, onboarded_at, created_at, last_seen_at)
      select 7000000000 + g, 'Helper ' || g, (array['uk', 'de', 'ru'])[1 + g % 3], 'helper',
        (${textArray(cells)})[(1 + bench_mix(g * 64) % ${cells.length})::int], ${SEEDED_AT}, ${SEEDED_AT}, ${SEEDED_AT}
      from generate_series(1, ${count}::int) g`);
    await tx.execute(sql`insert into subscriptions (user_id, kind, category, district, created_at)
      select user_id, 'need', (${textArray(city.categories)})[1 + cell / ${cells.length}::int], (${textArray(cells)})[1 + cell % ${cells.length}::int], ${SEEDED_AT}
      from (
        select user_id, cell, row_number() over (partition by user_id order by first_draw) as rn
        from (
          select u.id as user_id, (bench_mix((u.telegram_id - 7000000000) * 64 + k) % ${grid})::int as cell, min(k) as first_draw
          from users u cross join generate_series(1, ${DRAWS_PER_HELPER}::int) k
          where u.role = 'helper'
          group by 1, 2
        ) draws
      ) ranked
      where rn <= ${SUBSCRIPTIONS_PER_HELPER}`);
    await tx.execute(sql`drop function bench_mix(bigint)`);
  });
  await assertSeeded(db, count);
}

async function assertSeeded(db: Database, helpers: number): Promise<void> {
  const [row] = await queryRows<{ users: number; subs: number; short: number }>(
    db,
    sql`select (select count(*)::int from users where role = 'helper') as users,
      (select count(*)::int from subscriptions) as subs,
      (select count(*)::int from (select user_id from subscriptions group by user_id having count(*) <> ${SUBSCRIPTIONS_PER_HELPER}) s) as short`,
  );
  if (row?.users !== helpers || row.subs !== helpers * SUBSCRIPTIONS_PER_HELPER || row.short !== 0) {
    throw new Error(`seeding went wrong: ${JSON.stringify(row)}`);
  }
}

/** Onboarded seekers without subscriptions, one per post to publish, so no author ever hits a limit. */
export async function seedSeekers(db: Database, count: number, locales: readonly string[]): Promise<UserRow[]> {
  await db.execute(sql`insert into users (telegram_id, first_name, locale, role, district, onboarded_at, created_at, last_seen_at)
    select 8000000000 + g, 'Seeker ' || g, (${textArray(locales)})[1 + g % ${locales.length}::int], 'seeker', ${WHOLE_CITY},
      ${SEEDED_AT}, ${SEEDED_AT}, ${SEEDED_AT}
    from generate_series(1, ${count}::int) g`);
  return db.select().from(users).where(eq(users.role, 'seeker')).orderBy(asc(users.id));
}

/** Fresh planner statistics, as autovacuum would have them on a live database. */
export async function analyse(db: Database): Promise<void> {
  await db.execute(sql`vacuum analyze`);
}
