import { createHash } from 'node:crypto';
import { and, count, desc, eq, getTableColumns, gte, inArray, ne, or, type SQL, sql } from 'drizzle-orm';
import { WHOLE_CITY } from '../city';
import type { Clock } from '../clock';
import type { Config } from '../config';
import { type Database, type Executor, queryRows, rowFromJson } from '../db';
import { ACTIVE_POST_STATUSES, contacts, outbox, posts, PRIORITY, type PostKind, type PostRow, type PostStatus, users, type UserRow } from '../db/schema';
import { DomainError } from './errors';
import { checkedIntake, type Intake } from './intake';
import { routePost, type RoutingContext } from './matching';
import { enqueue, OUTBOX_KINDS } from './outbox';
import { actorOf, authorize } from './permissions';
import { postTargets, queueTranslation } from './translations';
import { resumeWavesAfterRenewal, startWaves, waveAfterEdit, type WaveContext } from './waves';

/** Bounds of a post's description. */
export const POST_TEXT_MIN = 10;
export const POST_TEXT_MAX = 1000;

/** What the posts functions need besides the database: routing, the waves of needs, the limits. */
export interface PostsContext extends WaveContext {
  config: Pick<Config, 'POST_TTL_DAYS' | 'MAX_OPEN_POSTS' | 'MAX_POSTS_PER_DAY' | 'PREMODERATE_FIRST_POST' | 'INTAKE_MAX_OPEN'>;
  /** Machine translation is on (TRANSLATE_URL): publishing queues the post's translation job. */
  translate?: boolean;
  /**
   * Runs the routing of a post going out for the first time (a need's first wave: startWaves), for a
   * benchmark that times it within publishing; production leaves it out and routes directly.
   */
  aroundRouting?: <T>(route: () => Promise<T>) => Promise<T>;
}

/** Checks a description: 10–1000 characters after trimming. */
export function checkPostText(raw: string): { ok: true; text: string } | { ok: false; reason: 'tooShort' | 'tooLong'; length: number } {
  const text = raw.replace(/\r\n/g, '\n').trim();
  const length = [...text].length;
  if (length < POST_TEXT_MIN) return { ok: false, reason: 'tooShort', length };
  if (length > POST_TEXT_MAX) return { ok: false, reason: 'tooLong', length };
  return { ok: true, text };
}

/** Same text for the duplicate check: case, spacing and punctuation do not matter. */
export function textHash(text: string): string {
  const normal = text
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[\p{P}\p{S}]/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
  return createHash('sha256').update(normal).digest('hex');
}

/** A phone number or @username in a post is visible to everyone who sees the post. */
export function containsContactDetails(text: string): boolean {
  return /(\+?\d[\d\s/().-]{6,}\d)|(^|\s)@[A-Za-z][A-Za-z0-9_]{4,}/.test(text);
}

/** Whether a post counts as visible, matchable and against the open-post limit. */
export function isActive(post: Pick<PostRow, 'status'>): boolean {
  return (ACTIVE_POST_STATUSES as string[]).includes(post.status);
}

export interface NewPost {
  kind: PostKind;
  category: string;
  district: string;
  text: string;
  photoFileId: string | null;
  language: string;
  /** Set for a need a Lotse takes on behalf of a person without Telegram (/intake, src/domain/intake.ts). */
  intake?: { name: string; language: string };
}

/** The outcome of publishing: the stored post and how many people were notified. */
export interface Published {
  /** As stored now (a need's routing state included: widened, on the desk). */
  post: PostRow;
  /** People told now: everyone matching for an offer, the first wave (or the edit's wave) for a need. */
  recipients: number;
  /** True when the post waits for a coordinator (first post under PREMODERATE_FIRST_POST). */
  awaitingReview: boolean;
}

function ttlFrom(now: Date, days: number): Date {
  return new Date(now.getTime() + days * 86_400_000);
}

function dayBefore(now: Date): Date {
  return new Date(now.getTime() - 86_400_000);
}

/** Posts in these statuses count against MAX_OPEN_POSTS: one awaiting review is as good as open. */
const LIMITED_STATUSES: PostStatus[] = [...ACTIVE_POST_STATUSES, 'pending_review'];

/** What the posting limits count, per author: their own posts and the needs they took for others apart. */
interface LimitCounts {
  open: number;
  today: number;
  /** Open needs taken on behalf of others (/intake), against INTAKE_MAX_OPEN only. */
  intakeOpen: number;
}

/**
 * What the posting limits count, as aggregates over the caller's rows of `posts` (one author's): open
 * posts, leaving out `exceptPostId`, and posts created in the last 24 hours — both without the needs a
 * Lotse took for others, which are counted on their own. SQL, so that publishing counts them in the same
 * statement as its other checks.
 */
function limitCounts(now: Date, exceptPostId?: number): { [K in keyof LimitCounts]: SQL<number> } {
  const except = exceptPostId === undefined ? sql`` : sql` and ${posts.id} <> ${exceptPostId}`;
  const own = sql`${posts.intakeLanguage} is null`;
  return {
    open: sql<number>`count(${posts.id}) filter (where ${own} and ${inArray(posts.status, LIMITED_STATUSES)}${except})::int`.mapWith(Number),
    today: sql<number>`count(${posts.id}) filter (where ${own} and ${gte(posts.createdAt, dayBefore(now))})::int`.mapWith(Number),
    intakeOpen: sql<number>`count(${posts.id}) filter (where ${posts.intakeLanguage} is not null and ${inArray(posts.status, LIMITED_STATUSES)}${except})::int`.mapWith(Number),
  };
}

/**
 * The posting limits: at most MAX_OPEN_POSTS open posts and MAX_POSTS_PER_DAY new posts in 24 hours
 * (reopening an expired post is not a new post). The one copy of the rule, for publishing, for the check
 * before a dialog starts and for renewing.
 */
function refuseOverLimits(counts: LimitCounts, config: PostsContext['config'], options: { reopening: boolean; intake: boolean }): void {
  // A Lotse posts for many people: their intake needs have one limit of their own (INTAKE_MAX_OPEN).
  if (options.intake) {
    if (counts.intakeOpen >= config.INTAKE_MAX_OPEN) throw new DomainError('intake.errors.tooManyOpen', { max: config.INTAKE_MAX_OPEN });
    return;
  }
  if (counts.open >= config.MAX_OPEN_POSTS) throw new DomainError('posts.errors.tooManyOpen', { max: config.MAX_OPEN_POSTS });
  if (!options.reopening && counts.today >= config.MAX_POSTS_PER_DAY) throw new DomainError('posts.errors.tooManyToday', { max: config.MAX_POSTS_PER_DAY });
}

/**
 * Counts the author's posts and applies the limits; `reopenedPostId` is an expired post about to reopen,
 * `intake` says which limit applies (the needs taken for others, or one's own posts).
 */
async function assertWithinLimits(db: Executor, ctx: PostsContext, authorId: number, options: { reopenedPostId?: number; intake: boolean }): Promise<void> {
  const [counts] = await db.select(limitCounts(ctx.clock.now(), options.reopenedPostId)).from(posts).where(eq(posts.authorId, authorId));
  refuseOverLimits(counts ?? { open: 0, today: 0, intakeOpen: 0 }, ctx.config, { reopening: options.reopenedPostId !== undefined, intake: options.intake });
}

/** Refuses the limits before a dialog even starts (so nobody types a text in vain). */
export async function checkMayCreatePost(db: Executor, ctx: PostsContext, author: UserRow): Promise<void> {
  authorize(actorOf(author), 'post.create');
  await assertWithinLimits(db, ctx, author.id, { intake: false });
}

/** The same for /intake: only Lotsen and coordinators, within INTAKE_MAX_OPEN. */
export async function checkMayCreateIntake(db: Executor, ctx: PostsContext, author: UserRow): Promise<void> {
  authorize(actorOf(author), 'intake.create');
  await assertWithinLimits(db, ctx, author.id, { intake: true });
}

/**
 * The duplicate rule: the same text (see textHash) by the same author within a day, unless removed. A
 * Lotse may write the same need for two people: posts for another person (`intakeName`) do not count.
 */
function sameTextWithinDay(hash: string, now: Date, intakeName: string | null): SQL {
  return and(
    eq(posts.textHash, hash),
    gte(posts.createdAt, dayBefore(now)),
    ne(posts.status, 'removed'),
    sql`${posts.intakeName} is not distinct from ${intakeName}`,
  )!;
}

async function assertNotDuplicate(db: Executor, ctx: PostsContext, authorId: number, hash: string, exceptPostId: number, intakeName: string | null): Promise<void> {
  const [existing] = await db
    .select({ id: posts.id })
    .from(posts)
    .where(and(eq(posts.authorId, authorId), sameTextWithinDay(hash, ctx.clock.now(), intakeName), ne(posts.id, exceptPostId)))
    .limit(1);
  if (existing) throw new DomainError('posts.errors.duplicate', { postId: existing.id });
}

/**
 * Publishes a post and routes it, in one transaction: the post, its notification records and its outbox
 * rows are stored together or not at all. Refuses banned authors, more than MAX_OPEN_POSTS open posts,
 * more than MAX_POSTS_PER_DAY new posts in 24 hours, and the same text twice within a day.
 */
export async function publishPost(db: Database, ctx: PostsContext, author: UserRow, input: NewPost): Promise<Published> {
  return db.transaction(async (tx) => {
    const { post, awaitingReview } = await insertNewPost(tx, ctx, author, input);
    if (awaitingReview) return { post, recipients: 0, awaitingReview };
    return { ...(await routeFirstTime(tx, ctx, post)), awaitingReview };
  });
}

/**
 * A post goes out for the first time: a need as its first wave (src/domain/waves.ts), an offer to
 * everyone it matches at once.
 */
async function routeFirstTime(tx: Executor, ctx: PostsContext, post: PostRow): Promise<{ post: PostRow; recipients: number }> {
  if (ctx.translate) await queueTranslation(tx, ctx.clock, { postId: post.id }, postTargets(post.language));
  const route = async (): Promise<{ post: PostRow; recipients: number }> => {
    if (post.kind === 'need') {
      const wave = await startWaves(tx, ctx, post);
      return { post: wave.post, recipients: wave.told };
    }
    return { post, recipients: await routePost(tx, ctx, post, { firstTime: true }) };
  };
  return ctx.aroundRouting ? ctx.aroundRouting(route) : route();
}

/**
 * The part of publishing before routing, inside the caller's transaction: the author's lock, every check
 * that may refuse the post (the text first, before any query), and the insert — after the text, one
 * statement. Separate so that the matcher benchmark times exactly this.
 */
export async function insertNewPost(tx: Executor, ctx: PostsContext, author: UserRow, input: NewPost): Promise<{ post: PostRow; awaitingReview: boolean }> {
  const text = checkedText(input.text);
  const intake: Intake | null = input.intake ? checkedIntake(input.intake) : null;
  // Only needs are taken for others: an offer is one's own.
  if (intake && input.kind !== 'need') throw new DomainError('errors.forbidden');
  const hash = textHash(text);
  const now = ctx.clock.now();
  const counts = limitCounts(now);
  // What the new post is, apart from its status, which depends on the checks (pre-moderation).
  const columns = getTableColumns(posts);
  const values = {
    authorId: author.id,
    kind: input.kind,
    category: input.category,
    district: input.district,
    text,
    photoFileId: input.photoFileId,
    language: input.language,
    textHash: hash,
    createdAt: now,
    updatedAt: now,
    expiresAt: ttlFrom(now, ctx.config.POST_TTL_DAYS),
    intakeName: intake?.name ?? null,
    intakeLanguage: intake?.language ?? null,
    intakeOrganisation: intake ? author.organisation : null,
  } satisfies Partial<typeof posts.$inferInsert>;
  const names = (Object.keys(values) as (keyof typeof values)[]).map((key) => sql.identifier(columns[key].name));
  const params = (Object.keys(values) as (keyof typeof values)[]).map((key) => sql`${sql.param(values[key], columns[key])}::${sql.raw(columns[key].getSQLType())}`);
  // One round trip for everything that may refuse the post and for the insert: ban, the posting limits,
  // the same text within a day, whether the author ever had a post published (pre-moderation: the post's
  // status), and the post. The author's posts are read through posts_of_author_locked (migration 0017),
  // which first takes the author's lock to the end of the transaction and then reads them afresh, so two
  // quick taps cannot both pass the limits. A refusal throws below and the transaction takes the insert back.
  const [check] = await queryRows<{ banned: boolean; open: number; today: number; intakeOpen: number; duplicate: number | null; post: Record<string, unknown> }>(
    tx,
    sql`with checked as (
        select u.banned_at is not null as banned,
          ${counts.open} as open,
          ${counts.today} as today,
          ${counts.intakeOpen} as "intakeOpen",
          max(${posts.id}) filter (where ${sameTextWithinDay(hash, now, intake?.name ?? null)}) as duplicate,
          ${ctx.config.PREMODERATE_FIRST_POST}::boolean and not (bool_or(${posts.publishedAt} is not null) is true) as review
        from ${users} u left join posts_of_author_locked(${author.id}::int) ${posts} on true
        where u.id = ${author.id}
        group by u.id
      ),
      inserted as (
        insert into ${posts} (${sql.join(names, sql`, `)}, ${sql.identifier(columns.status.name)}, ${sql.identifier(columns.publishedAt.name)})
        select ${sql.join(params, sql`, `)},
          case when c.review then ${'pending_review' satisfies PostStatus} else ${'open' satisfies PostStatus} end,
          case when c.review then null else ${now}::timestamptz end
        from checked c
        returning *
      )
      select c.banned, c.open, c.today, c."intakeOpen", c.duplicate, row_to_json(i) as post
      from checked c cross join inserted i`,
  );
  if (!check) throw new DomainError('posts.errors.notFound');
  // The ban as stored now, not as loaded with the update: a ban in between is not outrun.
  authorize({ ...actorOf(author), banned: check.banned }, intake ? 'intake.create' : 'post.create');
  refuseOverLimits(check, ctx.config, { reopening: false, intake: intake !== null });
  if (check.duplicate !== null) throw new DomainError('posts.errors.duplicate', { postId: Number(check.duplicate) });
  const post = rowFromJson(posts, check.post);
  return { post, awaitingReview: post.status === 'pending_review' };
}

/** The normalised text of a post, or a DomainError that says what is wrong with it. */
function checkedText(raw: string): string {
  const checked = checkPostText(raw);
  if (!checked.ok) throw new DomainError(`posts.errors.${checked.reason}`, { min: POST_TEXT_MIN, max: POST_TEXT_MAX, length: checked.length });
  return checked.text;
}

/** A coordinator approves a pre-moderated post: it is published and routed. */
export async function approvePost(db: Database, ctx: PostsContext, postId: number): Promise<Published> {
  return db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const [post] = await tx
      .update(posts)
      .set({ status: 'open', publishedAt: now, updatedAt: now, remindedAt: null, expiresAt: ttlFrom(now, ctx.config.POST_TTL_DAYS) })
      .where(and(eq(posts.id, postId), eq(posts.status, 'pending_review')))
      .returning();
    if (!post) throw new DomainError('moderation.errors.alreadyHandled');
    return { ...(await routeFirstTime(tx, ctx, post)), awaitingReview: false };
  });
}

/** Loads a post by id. */
export async function findPost(db: Executor, postId: number): Promise<PostRow | undefined> {
  const [post] = await db.select().from(posts).where(eq(posts.id, postId));
  return post;
}

/** Loads a post the user authored and may still change; refuses anyone else. */
async function ownActivePost(db: Executor, user: UserRow, postId: number, allowed: PostStatus[]): Promise<PostRow> {
  const post = await findPost(db, postId);
  if (!post) throw new DomainError('posts.errors.notFound');
  if (post.authorId !== user.id) throw new DomainError('posts.errors.notYours');
  if (!allowed.includes(post.status)) throw new DomainError('posts.errors.notActive');
  return post;
}

export interface PostChanges {
  category?: string;
  district?: string;
  text?: string;
  photoFileId?: string | null;
  /** The language of the new text (detected), when the text changes. */
  language?: string;
}

/**
 * Edits a post. A new category or district reaches the people it now matches — all of them for an
 * offer, one wave for a need; nobody is told twice about the same post.
 */
export async function editPost(db: Database, ctx: PostsContext, user: UserRow, postId: number, changes: PostChanges): Promise<Published> {
  return db.transaction(async (tx) => {
    const post = await ownActivePost(tx, user, postId, [...ACTIVE_POST_STATUSES, 'pending_review']);
    const values: Partial<typeof posts.$inferInsert> = { updatedAt: ctx.clock.now() };
    if (changes.text !== undefined) {
      values.text = checkedText(changes.text);
      values.textHash = textHash(values.text);
      if (values.textHash !== post.textHash) await assertNotDuplicate(tx, ctx, user.id, values.textHash, post.id, post.intakeName);
    }
    if (changes.category !== undefined) values.category = changes.category;
    if (changes.district !== undefined) values.district = changes.district;
    if (changes.photoFileId !== undefined) values.photoFileId = changes.photoFileId;
    if (changes.text !== undefined && changes.language !== undefined) values.language = changes.language;
    const [updated] = await tx.update(posts).set(values).where(eq(posts.id, postId)).returning();
    if (updated!.status === 'pending_review') return { post: updated!, recipients: 0, awaitingReview: true };
    // A new text is translated anew (the old translations no longer match its hash and are not shown).
    if (ctx.translate && updated!.textHash !== post.textHash) await queueTranslation(tx, ctx.clock, { postId: updated!.id }, postTargets(updated!.language));
    if (updated!.kind === 'need') {
      const wave = await waveAfterEdit(tx, ctx, post, updated!);
      return { post: wave.post, recipients: wave.told, awaitingReview: false };
    }
    return { post: updated!, recipients: await routePost(tx, ctx, updated!), awaitingReview: false };
  });
}

/**
 * Renews a post for another POST_TTL_DAYS (an expired one is reopened, within the limits). An offer is
 * routed again: people who subscribed since hear about it, nobody twice. A need's waves go on where they
 * stood (a wave goes out now only if one is due anyway).
 */
export async function renewPost(db: Database, ctx: PostsContext, user: UserRow, postId: number): Promise<Published> {
  return db.transaction(async (tx) => {
    const post = await ownActivePost(tx, user, postId, [...ACTIVE_POST_STATUSES, 'expired']);
    authorize(actorOf(user), 'post.renew');
    // Erased by retention: there is nothing left to publish.
    if (post.text === null) throw new DomainError('posts.errors.notActive');
    if (post.status === 'expired') await assertWithinLimits(tx, ctx, user.id, { reopenedPostId: post.id, intake: post.intakeLanguage !== null });
    const now = ctx.clock.now();
    const [renewed] = await tx
      .update(posts)
      .set({
        status: post.status === 'expired' ? 'open' : post.status,
        expiresAt: ttlFrom(now, ctx.config.POST_TTL_DAYS),
        remindedAt: null,
        closedAt: null,
        updatedAt: now,
      })
      .where(eq(posts.id, postId))
      .returning();
    if (renewed!.kind === 'need') {
      const wave = await resumeWavesAfterRenewal(tx, ctx, renewed!);
      return { post: wave.post, recipients: wave.told, awaitingReview: false };
    }
    return { post: renewed!, recipients: await routePost(tx, ctx, renewed!), awaitingReview: false };
  });
}

/**
 * Closes a post: "fulfilled" or "no longer needed". It stops matching at once; people whose offer of
 * help was still waiting are told the post is taken.
 */
export async function closePost(db: Database, ctx: RoutingContext, user: UserRow, postId: number, outcome: 'fulfilled' | 'closed'): Promise<PostRow> {
  return db.transaction(async (tx) => {
    await ownActivePost(tx, user, postId, [...ACTIVE_POST_STATUSES, 'pending_review']);
    const now = ctx.clock.now();
    const [closed] = await tx.update(posts).set({ status: outcome, closedAt: now, updatedAt: now }).where(eq(posts.id, postId)).returning();
    await cancelWaitingContacts(tx, ctx.clock, postId);
    return closed!;
  });
}

/** Offers of help still waiting for an answer on a post that closed are cancelled, and their senders told. */
export async function cancelWaitingContacts(db: Executor, clock: Clock, postId: number): Promise<number> {
  const cancelled = await db
    .update(contacts)
    .set({ status: 'cancelled', endedAt: clock.now() })
    .where(and(eq(contacts.postId, postId), eq(contacts.status, 'offered')))
    .returning({ id: contacts.id, responderId: contacts.responderId });
  if (cancelled.length === 0) return 0;
  const responders = await db.select({ id: users.id, telegramId: users.telegramId }).from(users).where(inArray(users.id, cancelled.map((c) => c.responderId)));
  const chat = new Map(responders.map((r) => [r.id, r.telegramId]));
  await enqueue(
    db,
    clock,
    cancelled.map((c) => ({
      userId: c.responderId,
      chatId: chat.get(c.responderId)!,
      kind: OUTBOX_KINDS.contactCancelled,
      priority: PRIORITY.interactive,
      payload: { contactId: c.id },
      postId,
    })),
  );
  return cancelled.length;
}

/** Message ids (in the author's chat) of requests about a post that were not accepted, for tidying up. */
export async function findRequestMessageIds(db: Executor, postId: number, authorId: number): Promise<number[]> {
  const rows = await db
    .select({ messageId: outbox.messageId })
    .from(outbox)
    .where(
      and(
        eq(outbox.postId, postId),
        eq(outbox.userId, authorId),
        eq(outbox.kind, OUTBOX_KINDS.contactRequest),
        eq(outbox.status, 'sent'),
        // An accepted request became the conversation's message with its "end" button: it stays.
        sql`not exists (select 1 from ${contacts} c where c.id = (${outbox.payload}->>'contactId')::int and c.status = 'accepted')`,
      ),
    );
  return rows.map((r) => r.messageId).filter((id): id is number => id !== null);
}

/**
 * The user's open posts and those that expired in the last 14 days (to renew them), newest first, at most
 * `limit` (a Lotse's needs taken for others come on top of their own posts).
 */
export async function listOwnPosts(db: Executor, clock: Clock, userId: number, limit = 20): Promise<PostRow[]> {
  const since = new Date(clock.now().getTime() - 14 * 86_400_000);
  return db
    .select()
    .from(posts)
    .where(
      and(
        eq(posts.authorId, userId),
        or(inArray(posts.status, [...ACTIVE_POST_STATUSES, 'pending_review']), and(eq(posts.status, 'expired'), gte(posts.updatedAt, since))),
      ),
    )
    .orderBy(desc(posts.createdAt))
    .limit(limit);
}

export interface BrowseFilter {
  kind: PostKind;
  /** null: all categories. */
  category: string | null;
  /** A district (posts there and whole-city posts) or '*' for everything. */
  district: string;
  page: number;
  pageSize?: number;
}

/** Open posts for browsing, newest first, a page at a time; uses the partial browse index. */
export async function browsePosts(db: Executor, filter: BrowseFilter): Promise<{ posts: PostRow[]; total: number }> {
  const pageSize = filter.pageSize ?? 5;
  const where = and(
    eq(posts.kind, filter.kind),
    inArray(posts.status, ACTIVE_POST_STATUSES),
    filter.category ? eq(posts.category, filter.category) : undefined,
    filter.district === WHOLE_CITY ? undefined : inArray(posts.district, [filter.district, WHOLE_CITY]),
  );
  const [total] = await db.select({ n: count() }).from(posts).where(where);
  const rows = await db
    .select()
    .from(posts)
    .where(where)
    .orderBy(desc(posts.publishedAt), desc(posts.id))
    .limit(pageSize)
    .offset(Math.max(0, filter.page) * pageSize);
  return { posts: rows, total: total?.n ?? 0 };
}
