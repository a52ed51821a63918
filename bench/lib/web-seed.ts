import { sql, type SQL } from 'drizzle-orm';
import { WHOLE_CITY } from '../../src/city';
import { type Database, queryRows } from '../../src/db';
import { textArray } from './seed';

/** What the web desk's data set is made of. */
export interface WebSeedSizes {
  users: number;
  posts: number;
}

/** What seeding needs to know about the city, in the city file's order. */
export interface WebSeedCity {
  categories: readonly string[];
  districts: readonly string[];
  /** The district with most people (30 %) and the one with fewest (3 %); the others share the rest. */
  busiest: string;
  quietest: string;
}

/** Telegram ids of seeded people: BASE + their number (1…users). */
const TELEGRAM_BASE = 7_100_000_000;
/** Of every 1,000 people: helpers, seekers, newcomers (no role yet), staff; the rest are coordinators. */
const HELPERS = 550;
const SEEKERS = 420;
const NEWCOMERS = 25;
const STAFF = 4;
/** Posts are spread over twelve weeks, more of them recent (age = 84 days × u^1.5). */
const AGE_DAYS = 84;
/** Open posts are younger than the default POST_TTL_DAYS. */
const TTL_DAYS = 14;

/** A uniformly random element of a weighted list: each key repeated `weight` times. */
function pick(keys: readonly string[], weights: readonly number[] = keys.map(() => 1)): SQL {
  const list = keys.flatMap((k, i) => Array.from({ length: weights[i] ?? 1 }, () => k));
  return sql`(${textArray(list)})[1 + floor(random() * ${list.length})::int]`;
}

/** District weights out of 100: the busiest 30, the quietest 3, the others the rest in equal parts. */
function districtWeights(city: WebSeedCity): number[] {
  const others = city.districts.length - 2;
  return city.districts.map((d) => (d === city.busiest ? 30 : d === city.quietest ? 3 : Math.round(67 / Math.max(1, others))));
}

/** Category weights 1/rank (the first category of the city file most), out of about 100. */
function categoryWeights(city: WebSeedCity): number[] {
  return city.categories.map((_, i) => Math.max(1, Math.round(100 / (i + 1))));
}

/** A random seeded person of a block (helpers, seekers) as a users.id (person g has id g: see seedWebDesk). */
function personOf(from: number, span: number, users: number): SQL {
  const blocks = Math.max(1, Math.floor(users / 1000));
  return sql`(1000 * floor(random() * ${blocks}) + ${from + 1} + floor(random() * ${span}))::int`;
}

/**
 * A city for the web desk's benchmark, in one transaction of INSERT … SELECT over generate_series with a
 * fixed random seed (the same data on every run of the same sizes): people of every role over the districts
 * (one district with 30 %, one with 3 %), helpers' subscriptions, posts over twelve weeks in every status
 * with waves, widening and the desk, the notifications of their waves with responses, and offers of help.
 * `now` is the moment the data is "as of" (the web app's clock is the system's).
 */
export async function seedWebDesk(db: Database, city: WebSeedCity, sizes: WebSeedSizes, now: Date): Promise<void> {
  if (sizes.users < 1000) throw new Error('--users must be at least 1000 (people come in blocks of 1,000)');
  const at = (daysAgo: SQL) => sql`${now}::timestamptz - (${daysAgo}) * interval '1 day'`;
  const districts = pick(city.districts, districtWeights(city));
  const categories = pick(city.categories, categoryWeights(city));
  const helper = personOf(0, HELPERS, sizes.users);
  const seeker = personOf(HELPERS, SEEKERS, sizes.users);
  await db.transaction(async (tx) => {
    await tx.execute(sql`set local statement_timeout = 0`);
    await tx.execute(sql`select setseed(0.42)`);
    // People: the role by position in each block of 1,000, everything else random.
    await tx.execute(sql`insert into users (telegram_id, first_name, locale, role, organisation, district, onboarded_at, notifications_paused,
        paused_until, blocked_at, banned_at, deleted_at, created_at, last_seen_at)
      select ${TELEGRAM_BASE}::bigint + g, case when r.gone then null else 'Person ' || g end, ${pick(['uk', 'ru', 'de'], [45, 35, 20])},
        r.role, case when r.role in ('staff', 'coordinator') then ${pick(['caritas', 'diakonie', 'sozialamt', 'drk'])} end,
        case when r.role is null then null else ${districts} end,
        case when r.role is null then null else ${at(sql`100 + random() * 200`)} end,
        r.role is not distinct from 'helper' and random() < 0.05,
        case when r.role = 'helper' and random() < 0.03 then ${at(sql`-random() * 7`)} end,
        case when random() < 0.04 then ${at(sql`random() * 60`)} end,
        case when random() < 0.003 then ${at(sql`random() * 60`)} end,
        case when r.gone then ${at(sql`random() * 60`)} end,
        ${at(sql`100 + random() * 200`)}, ${at(sql`random() * 30`)}
      from generate_series(1, ${sizes.users}::int) g,
        lateral (select case when (g - 1) % 1000 < ${HELPERS} then 'helper'
                             when (g - 1) % 1000 < ${HELPERS + SEEKERS} then 'seeker'
                             when (g - 1) % 1000 < ${HELPERS + SEEKERS + NEWCOMERS} then null
                             when (g - 1) % 1000 < ${HELPERS + SEEKERS + NEWCOMERS + STAFF} then 'staff'
                             else 'coordinator' end as role,
                        random() < 0.01 as gone) r`);
    // The fresh table's serial numbered them in generate_series' order; personOf() counts on it.
    const [shifted] = await queryRows<{ n: number }>(tx, sql`select count(*)::int as n from users where id <> telegram_id - ${TELEGRAM_BASE}::bigint`);
    if (shifted?.n !== 0) throw new Error('seeded people are not numbered 1…n (is the database fresh?)');
    // Helpers subscribe to needs: one to seven cells, the home district (60 %), the whole city (20 %) or another.
    await tx.execute(sql`insert into subscriptions (user_id, kind, category, district, created_at)
      select u.id, 'need', ${categories},
        case when c.r < 0.6 then u.district when c.r < 0.8 then ${WHOLE_CITY} else ${districts} end, u.created_at
      from users u, lateral (select random() as r, k from generate_series(1, 1 + floor(random() * 7)::int + 0 * u.id) k) c
      where u.role = 'helper' and u.deleted_at is null
      on conflict do nothing`);
    // A tenth of the seekers subscribe to offers.
    await tx.execute(sql`insert into subscriptions (user_id, kind, category, district, created_at)
      select id, 'offer', ${categories}, coalesce(district, ${WHOLE_CITY}), created_at from users
      where role = 'seeker' and deleted_at is null and random() < 0.1
      on conflict do nothing`);
    // Posts: 70 % needs (by seekers), 30 % offers (by helpers); the status follows the age.
    await tx.execute(sql`insert into posts (author_id, kind, category, district, text, language, status, created_at, published_at, updated_at,
        expires_at, closed_at, first_response_at, wave, wave_at, widened_at, desk_at, desk_announced_at, close_reason)
      select p.author, p.kind, p.category, p.district, 'Benchmark post ' || p.g, p.language, p.status,
        p.published, p.published, p.published, p.published + ${TTL_DAYS} * interval '1 day', p.closed,
        case when p.kind = 'need' and (p.status in ('in_contact', 'fulfilled') or p.answered) then least(p.response, ${now}) end,
        case when p.kind = 'need' then p.wave else 0 end,
        case when p.kind = 'need' then p.published + (p.wave - 1) * interval '30 minutes' end,
        case when p.kind = 'need' and p.wave >= 3 then p.published + interval '90 minutes' end,
        case when p.desk then p.published + interval '3 hours' end,
        case when p.desk then p.published + interval '3 hours' end,
        case when p.status = 'closed' and p.kind = 'need' and random() < 0.5 then 'referred' end
      from (
        select g, kind, category, district, language, published, answered, response, wave,
          kind = 'need' and status = 'open' and not answered and random() < 0.3 as desk, status,
          case when status not in ('open', 'in_contact') then least(published + random() * ${TTL_DAYS} * interval '1 day', ${now}) end as closed,
          case when kind = 'need' then ${seeker} else ${helper} end as author
        from (
          select g, kind, category, district, language, published, answered, response, wave,
            case when published > ${now}::timestamptz - ${TTL_DAYS} * interval '1 day'
                 then ${pick(['open', 'in_contact', 'fulfilled', 'closed', 'removed'], [55, 10, 25, 7, 3])}
                 else ${pick(['expired', 'fulfilled', 'closed', 'removed'], [55, 30, 12, 3])} end as status
          from (
            select g, case when random() < 0.7 then 'need' else 'offer' end as kind, ${categories} as category,
              case when random() < 0.08 then ${WHOLE_CITY} else ${districts} end as district, ${pick(['uk', 'ru', 'de'], [45, 35, 20])} as language,
              ${at(sql`${AGE_DAYS} * power(random(), 1.5)`)} as published, random() < 0.65 as answered,
              -ln(1 - random()) * interval '8 hours' as delay, 1 + floor(random() * 4)::int as wave
            from generate_series(1, ${sizes.posts}::int) g
          ) base, lateral (select base.published + base.delay as response) r
        ) s
      ) p`);
    // Who was told about each post: 10–40 helpers per need over its waves (some answered), 5–15 seekers per offer.
    await tx.execute(sql`insert into notifications (post_id, user_id, created_at, wave, response)
      select p.id, ${helper}, least(p.published_at + (w - 1) * interval '30 minutes', ${now}), w,
        case when random() < 0.1 then 'declined' end
      from posts p, lateral (select k, 1 + (k % p.wave) as w from generate_series(1, 10 + floor(random() * 31)::int + 0 * p.id) k) n
      where p.kind = 'need'
      on conflict do nothing`);
    await tx.execute(sql`insert into notifications (post_id, user_id, created_at)
      select p.id, ${seeker}, p.published_at
      from posts p, lateral (select k from generate_series(1, 5 + floor(random() * 11)::int + 0 * p.id) k) n
      where p.kind = 'offer'
      on conflict do nothing`);
    // Offers of help: one to three per answered need, the first at its first response.
    await tx.execute(sql`insert into contacts (post_id, author_id, responder_id, status, created_at, responded_at, ended_at)
      select p.id, p.author_id, ${helper},
        case p.status when 'in_contact' then 'accepted' when 'fulfilled' then 'ended' when 'open' then 'offered' else ${pick(['declined', 'cancelled'])} end,
        p.first_response_at + (k - 1) * interval '2 hours', case when p.status <> 'open' then p.first_response_at + interval '3 hours' end,
        case when p.status = 'fulfilled' then p.closed_at end
      from posts p, lateral (select k from generate_series(1, 1 + floor(random() * 3)::int + 0 * p.id) k) c
      where p.kind = 'need' and p.first_response_at is not null
      on conflict do nothing`);
    // Whoever offered help had been told about the need, and their notification records the offer.
    await tx.execute(sql`insert into notifications (post_id, user_id, created_at, wave, response)
      select c.post_id, c.responder_id, p.published_at, 1, 'offered' from contacts c join posts p on p.id = c.post_id
      on conflict (post_id, user_id) do update set response = 'offered'`);
  });
  await db.execute(sql`vacuum analyze`);
}

/** Row counts of the seeded tables, for the report. */
export async function seededCounts(db: Database): Promise<Record<string, number>> {
  const [row] = await queryRows<Record<string, number>>(
    db,
    sql`select (select count(*)::int from users) as users, (select count(*)::int from users where role = 'helper') as helpers,
      (select count(*)::int from subscriptions) as subscriptions, (select count(*)::int from posts) as posts,
      (select count(*)::int from posts where kind = 'need' and status in ('open', 'in_contact')) as "openNeeds",
      (select count(*)::int from notifications) as notifications, (select count(*)::int from contacts) as contacts`,
  );
  return row ?? {};
}

/** Why a seeded data set would not test the overview: a figure of it that stayed zero. */
export function seedProblems(counts: Record<string, number>, sizes: WebSeedSizes): string[] {
  const problems: string[] = [];
  if (counts.users !== sizes.users) problems.push(`${counts.users} users instead of ${sizes.users}`);
  if (counts.posts !== sizes.posts) problems.push(`${counts.posts} posts instead of ${sizes.posts}`);
  for (const key of ['subscriptions', 'openNeeds', 'notifications', 'contacts']) if (!counts[key]) problems.push(`no ${key}`);
  return problems;
}
