import { and, asc, desc, eq, gte, isNotNull, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { Clock } from '../clock';
import { type Executor, queryRows } from '../db';
import { auditLog, contacts, notifications, type PostStatus, posts } from '../db/schema';
import { DomainError } from './errors';
import { type Actor, authorize } from './permissions';

/**
 * How far a need has escalated: still in its first wave, later waves, widened to the neighbouring
 * districts, on the Lotsen desk. (Needs published before waves existed count as `first`.)
 */
export const ESCALATION_LEVELS = ['first', 'waves', 'widened', 'desk'] as const;
export type EscalationLevel = (typeof ESCALATION_LEVELS)[number];

/** The filters of the needs list; every one optional. */
export interface NeedsFilter {
  district?: string;
  category?: string;
  status?: PostStatus;
  /** Only needs published at least this many hours ago. */
  minAgeHours?: number;
  level?: EscalationLevel;
  /** Where the need came from: written in the bot by the person, or taken by a Lotse on their behalf (/intake). */
  source?: NeedSource;
  /** Page of NEEDS_PAGE_SIZE, from 1. */
  page?: number;
}

/** Where a need came from: the person in the bot, or a Lotse for a person without Telegram (/intake). */
export const NEED_SOURCES = ['bot', 'intake'] as const;
export type NeedSource = (typeof NEED_SOURCES)[number];

export const NEEDS_PAGE_SIZE = 50;
/** The export takes at most this many needs (newest first). */
export const NEEDS_EXPORT_LIMIT = 10_000;

/** One need as the web desk lists it: where, what, how far it got — never who wrote it. */
export interface NeedListItem {
  id: number;
  category: string;
  district: string;
  status: PostStatus;
  publishedAt: Date | null;
  firstResponseAt: Date | null;
  closedAt: Date | null;
  closeReason: string | null;
  level: EscalationLevel;
  /** 'intake': a Lotse took it on behalf of a person without Telegram (never who: the person's name is the Lotse's alone). */
  source: NeedSource;
  wave: number;
  told: number;
  offered: number;
  /** The text as written (null once erased); shown on the page, exported only when asked for. */
  text: string | null;
  language: string;
}

/** The escalation level of a need, as SQL and as a value. */
function levelOf(p: { deskAt: Date | null; widenedAt: Date | null; wave: number }): EscalationLevel {
  if (p.deskAt) return 'desk';
  if (p.widenedAt) return 'widened';
  return p.wave > 1 ? 'waves' : 'first';
}

/** A post is an intake while it carries the person's language (set on every intake post, erased with its text). */
function sourceOf(p: { intakeLanguage: string | null }): NeedSource {
  return p.intakeLanguage === null ? 'bot' : 'intake';
}

function levelWhere(level: EscalationLevel): SQL {
  switch (level) {
    case 'desk':
      return sql`${posts.deskAt} is not null`;
    case 'widened':
      return sql`${posts.deskAt} is null and ${posts.widenedAt} is not null`;
    case 'waves':
      return sql`${posts.deskAt} is null and ${posts.widenedAt} is null and ${posts.wave} > 1`;
    case 'first':
      return sql`${posts.deskAt} is null and ${posts.widenedAt} is null and ${posts.wave} <= 1`;
  }
}

function filterWhere(clock: Clock, filter: NeedsFilter): SQL | undefined {
  const parts: (SQL | undefined)[] = [eq(posts.kind, 'need'), isNotNull(posts.publishedAt)];
  if (filter.district) parts.push(eq(posts.district, filter.district));
  if (filter.category) parts.push(eq(posts.category, filter.category));
  if (filter.status) parts.push(eq(posts.status, filter.status));
  if (filter.minAgeHours) parts.push(lt(posts.publishedAt, new Date(clock.now().getTime() - filter.minAgeHours * 3_600_000)));
  if (filter.level) parts.push(levelWhere(filter.level));
  if (filter.source) parts.push(filter.source === 'intake' ? isNotNull(posts.intakeLanguage) : isNull(posts.intakeLanguage));
  return and(...parts);
}

/** The needs matching the filter, newest first, one page (or up to `limit` for an export). */
export async function listNeeds(db: Executor, clock: Clock, viewer: Actor, filter: NeedsFilter, options: { limit?: number } = {}): Promise<{ items: NeedListItem[]; total: number }> {
  authorize(viewer, 'needs.view');
  const where = filterWhere(clock, filter);
  const limit = options.limit ?? NEEDS_PAGE_SIZE;
  const offset = options.limit ? 0 : (Math.max(1, filter.page ?? 1) - 1) * NEEDS_PAGE_SIZE;
  const told = sql<number>`(select count(*)::int from ${notifications} n where n.post_id = ${posts.id})`;
  const offered = sql<number>`(select count(*)::int from ${contacts} c where c.post_id = ${posts.id})`;
  const [rows, [count]] = await Promise.all([
    db
      .select({
        id: posts.id,
        category: posts.category,
        district: posts.district,
        status: posts.status,
        publishedAt: posts.publishedAt,
        firstResponseAt: posts.firstResponseAt,
        closedAt: posts.closedAt,
        closeReason: posts.closeReason,
        deskAt: posts.deskAt,
        widenedAt: posts.widenedAt,
        wave: posts.wave,
        told,
        offered,
        text: posts.text,
        language: posts.language,
        intakeLanguage: posts.intakeLanguage,
      })
      .from(posts)
      .where(where)
      .orderBy(desc(posts.publishedAt), desc(posts.id))
      .limit(limit)
      .offset(offset),
    db.select({ n: sql<number>`count(*)::int` }).from(posts).where(where),
  ]);
  return {
    items: rows.map(({ deskAt, widenedAt, intakeLanguage, ...r }) => ({
      ...r,
      told: Number(r.told),
      offered: Number(r.offered),
      level: levelOf({ deskAt, widenedAt, wave: r.wave }),
      source: sourceOf({ intakeLanguage }),
    })),
    total: count?.n ?? 0,
  };
}

/** One step in a need's history. */
export interface NeedEvent {
  at: Date;
  /** published, wave, widened, desk, offer, accepted, declined, cancelled, ended, closed, or an audit action (desk.taken, post.removed, …). */
  event: string;
  /** The wave's number, the number told, a close reason … */
  detail?: string | number;
}

/** A need with its history, without anything that identifies its author or the helpers. */
export interface NeedHistory {
  need: NeedListItem;
  expiresAt: Date;
  waves: { wave: number; told: number; declined: number; offered: number; at: Date }[];
  events: NeedEvent[];
}

/** A need's history from its own row, its notifications (per wave), its contacts and the audit log. */
export async function needHistory(db: Executor, clock: Clock, viewer: Actor, postId: number): Promise<NeedHistory> {
  authorize(viewer, 'needs.view');
  const [post] = await db.select().from(posts).where(and(eq(posts.id, postId), eq(posts.kind, 'need'), isNotNull(posts.publishedAt)));
  if (!post) throw new DomainError('web.errors.notFound');
  const waves = await queryRows<{ wave: number | null; told: number; declined: number; offered: number; at: Date | string }>(
    db,
    sql`select wave, count(*)::int as told, count(*) filter (where response = 'declined')::int as declined,
               count(*) filter (where response = 'offered')::int as offered, min(created_at) as at
        from ${notifications} where post_id = ${postId} group by wave order by min(created_at)`,
  );
  const contactRows = await db
    .select({ status: contacts.status, createdAt: contacts.createdAt, respondedAt: contacts.respondedAt, endedAt: contacts.endedAt })
    .from(contacts)
    .where(eq(contacts.postId, postId))
    .orderBy(asc(contacts.createdAt));
  const audits = await db
    .select({ action: auditLog.action, createdAt: auditLog.createdAt, details: auditLog.details })
    .from(auditLog)
    .where(and(sql`${auditLog.details}->>'postId' = ${String(postId)}`, gte(auditLog.createdAt, post.createdAt)))
    .orderBy(asc(auditLog.createdAt));
  const events: NeedEvent[] = [{ at: post.publishedAt!, event: 'published' }];
  for (const w of waves) events.push({ at: new Date(w.at), event: 'wave', detail: `${w.wave ?? 1}: ${w.told}` });
  if (post.widenedAt) events.push({ at: post.widenedAt, event: 'widened' });
  if (post.deskAt) events.push({ at: post.deskAt, event: 'desk' });
  for (const c of contactRows) {
    events.push({ at: c.createdAt, event: 'offer' });
    if (c.respondedAt && (c.status === 'accepted' || c.status === 'declined' || c.status === 'ended')) events.push({ at: c.respondedAt, event: c.status === 'declined' ? 'declined' : 'accepted' });
    if (c.endedAt) events.push({ at: c.endedAt, event: c.status === 'cancelled' ? 'cancelled' : 'ended' });
  }
  for (const a of audits) {
    const details = a.details as Record<string, unknown>;
    const detail = typeof details.reason === 'string' ? details.reason : typeof details.told === 'number' ? details.told : undefined;
    events.push({ at: a.createdAt, event: a.action, ...(detail !== undefined ? { detail } : {}) });
  }
  if (post.closedAt) events.push({ at: post.closedAt, event: 'closed', detail: post.closeReason ?? post.status });
  events.sort((a, b) => a.at.getTime() - b.at.getTime());
  const [told] = await db.select({ n: sql<number>`count(*)::int` }).from(notifications).where(eq(notifications.postId, postId));
  return {
    need: {
      id: post.id,
      category: post.category,
      district: post.district,
      status: post.status,
      publishedAt: post.publishedAt,
      firstResponseAt: post.firstResponseAt,
      closedAt: post.closedAt,
      closeReason: post.closeReason,
      level: levelOf(post),
      source: sourceOf(post),
      wave: post.wave,
      told: told?.n ?? 0,
      offered: contactRows.length,
      text: post.text,
      language: post.language,
    },
    expiresAt: post.expiresAt,
    waves: waves.map((w) => ({ wave: w.wave ?? 1, told: w.told, declined: w.declined, offered: w.offered, at: new Date(w.at) })),
    events,
  };
}
