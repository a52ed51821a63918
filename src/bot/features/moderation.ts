import { Composer, InlineKeyboard } from 'grammy';
import { z } from 'zod';
import { eq } from 'drizzle-orm';
import { contacts, relayMessages, REPORT_REASONS, type ReportReason, type UserRow } from '../../db/schema';
import { DomainError } from '../../domain/errors';
import { refusalText } from '../errors';
import { actorOf } from '../../domain/permissions';
import {
  approvePendingPost,
  banUser,
  createReport,
  dismissReport,
  findReport,
  listBanned,
  moderationCounts,
  nextReport,
  pendingPosts,
  rejectPendingPost,
  removeReportedPost,
  type ReportContext,
  unbanUser,
  warnReportedUser,
} from '../../domain/moderation';
import { createCallbackData, idField } from '../../presentation/callback-data/codec';
import { contactData } from '../../presentation/callback-data/contacts';
import { reportData } from '../../presentation/callback-data/reports';
import { type Context, requireUser } from '../context';
import { answerStale, showScreen } from '../dialog';
import { formatAge, shorten } from '../../presentation/format';
import { renderPostCard } from '../../presentation/post';
import { postLabel } from '../../presentation/labels';
import { type Authorized, gate } from '../permissions';
import { postsContext } from './posts';
import { menuData } from '../../presentation/callback-data/menu';
import { escapeHtml } from '../../i18n';

/** Coordinator buttons: `action:id:arg`. */
export const moderationData = createCallbackData(
  'mo',
  ['action', 'id', 'arg'],
  z.object({
    action: z.enum(['home', 'rep', 'dis', 'rem', 'warn', 'ban', 'banr', 'unban', 'pend', 'appr', 'rej', 'bl']),
    id: z.union([z.literal('0').transform(() => 0), idField]),
    arg: z.enum([...REPORT_REASONS, '-']),
  }),
);

/** Reporting for everyone; the queue, pre-moderation and bans for coordinators. */
export const moderationFeature = new Composer<Context>();

// ------------------------------------------------------------------ reporting (everyone)

moderationFeature.callbackQuery(reportData.filter, async (ctx) => {
  const data = reportData.decode(ctx.callbackQuery.data);
  if (!data) return answerStale(ctx);
  const user = requireUser(ctx);
  if (data.reason === '-') {
    // Ask for the reason in a new message: the reported message itself stays as it is.
    await ctx.answerCallbackQuery();
    const keyboard = new InlineKeyboard();
    for (const reason of REPORT_REASONS) keyboard.text(ctx.t(`moderation.reasons.${reason}`), reportData.encode({ ...data, reason })).row();
    keyboard.text(ctx.t('common.buttons.cancel'), reportData.encode({ ...data, reason: 'x' }));
    await ctx.reply(ctx.t('moderation.report.why'), {
      reply_markup: keyboard,
      ...(ctx.callbackQuery.message ? { reply_parameters: { message_id: ctx.callbackQuery.message.message_id, allow_sending_without_reply: true } } : {}),
    });
    return;
  }
  if (data.reason === 'x') {
    await ctx.answerCallbackQuery();
    await showScreen(ctx, ctx.t('cancel.closed'));
    return;
  }
  try {
    await createReport(ctx.deps.db, ctx.deps.clock, user, data.target, data.id, data.reason);
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    await ctx.answerCallbackQuery({ text: refusalText(ctx.t, err), show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery({ text: ctx.t('moderation.report.thanksToast') });
  ctx.log.info({ target: data.target, reason: data.reason }, 'report received');
  // A relayed message: offer to end the conversation and block the sender right away.
  let keyboard: InlineKeyboard | undefined;
  if (data.target === 'relay') {
    const [row] = await ctx.deps.db.select({ contactId: relayMessages.contactId, status: contacts.status }).from(relayMessages).innerJoin(contacts, eq(contacts.id, relayMessages.contactId)).where(eq(relayMessages.id, data.id));
    if (row?.status === 'accepted') keyboard = new InlineKeyboard().text(ctx.t('contacts.endAndBlock'), contactData.encode({ action: 'block', id: row.contactId }));
  }
  await showScreen(ctx, ctx.t('moderation.report.thanks'), keyboard);
});

// ------------------------------------------------------------------ the queue (coordinators)

/** The queue: /moderation, its main-menu button and every button of the queue. */
const coordinators = gate(moderationFeature, 'moderation.review', {
  commands: ['moderation'],
  buttons: (data) => moderationData.filter.test(data) || menuData.decode(data)?.action === 'moderation',
});

async function showHome(ctx: Authorized, asNew: boolean): Promise<void> {
  const counts = await moderationCounts(ctx.deps.db, actorOf(ctx.user));
  const keyboard = new InlineKeyboard();
  if (counts.reports > 0) keyboard.text(ctx.t('moderation.queue.reviewReports', { count: counts.reports }), moderationData.encode({ action: 'rep', id: 0, arg: '-' })).row();
  if (counts.pending > 0) keyboard.text(ctx.t('moderation.queue.reviewPending', { count: counts.pending }), moderationData.encode({ action: 'pend', id: 0, arg: '-' })).row();
  if (counts.banned > 0) keyboard.text(ctx.t('moderation.queue.banned', { count: counts.banned }), moderationData.encode({ action: 'bl', id: 0, arg: '-' })).row();
  const text = counts.reports + counts.pending === 0 ? ctx.t('moderation.queue.empty') : ctx.t('moderation.queue.title', { reports: counts.reports, pending: counts.pending });
  if (asNew) await ctx.reply(text, { reply_markup: keyboard });
  else await showScreen(ctx, text, keyboard);
}

coordinators.command('moderation', async (ctx) => {
  await showHome(ctx, true);
});
coordinators.callbackQuery(menuData.filter, async (ctx, next) => {
  if (menuData.decode(ctx.callbackQuery.data)?.action !== 'moderation') return next();
  await ctx.answerCallbackQuery();
  await showHome(ctx, true);
});

function personLine(ctx: Context, person: UserRow | null, history: ReportContext['history']): string {
  if (!person) return ctx.t('moderation.queue.unknownPerson');
  return ctx.t('moderation.queue.person', {
    name: person.firstName ?? '—',
    id: person.id,
    role: person.role ? ctx.t(`common.roles.${person.role}`) : '—',
    reports: history.reports,
    warnings: history.warnings,
  }) + (person.bannedAt ? ` · ${ctx.t('moderation.queue.isBanned')}` : '');
}

async function showReport(ctx: Authorized, afterId: number): Promise<void> {
  const context = await nextReport(ctx.deps.db, actorOf(ctx.user), afterId);
  if (!context) return showHome(ctx, false);
  const { report } = context;
  const { city, clock } = ctx.deps;
  const lines = [
    ctx.t('moderation.queue.reportTitle', { position: context.position, open: context.open, id: report.id }),
    ctx.t('moderation.queue.reason', { reason: ctx.t(`moderation.reasons.${report.reason}`), age: formatAge(report.createdAt, clock.now(), ctx.locale) }),
    ctx.t(`moderation.queue.target.${report.targetType}`, { id: report.targetId }),
    personLine(ctx, context.target, context.history),
    '',
  ];
  if (context.post) {
    lines.push(renderPostCard({ t: ctx.t, locale: ctx.locale, city, now: clock.now() }, context.post, 'own'));
  } else if (context.relay) {
    lines.push(ctx.t('moderation.queue.relayContext', { postId: context.relay.postId }), `<blockquote>${escapeHtml(context.relay.text ?? ctx.t('posts.card.erased'))}</blockquote>`);
    if (context.relay.photoFileId) lines.push(ctx.t('posts.card.hasPhoto'));
  } else if (context.safety) {
    const { contact, post } = context.safety;
    lines.push(
      ctx.t('moderation.queue.safetyContext', { label: postLabel({ city, locale: ctx.locale }, post), since: formatAge(contact.respondedAt ?? contact.createdAt, clock.now(), ctx.locale) }),
      renderPostCard({ t: ctx.t, locale: ctx.locale, city, now: clock.now() }, post, 'none'),
    );
  } else if (context.notice) {
    const text = Object.values(context.notice.texts)[0] ?? '';
    lines.push(`☑️ ${escapeHtml(context.notice.organisation)}`, `<blockquote>${escapeHtml(shorten(text, 800))}</blockquote>`);
  } else {
    lines.push(ctx.t('moderation.queue.targetGone'));
  }
  const e = (action: 'dis' | 'rem' | 'warn' | 'ban' | 'unban' | 'rep' | 'home', id: number) => moderationData.encode({ action, id, arg: '-' });
  const keyboard = new InlineKeyboard().text(ctx.t('moderation.actions.dismiss'), e('dis', report.id));
  if (context.post && context.post.status !== 'removed') keyboard.text(ctx.t('moderation.actions.remove'), e('rem', report.id));
  keyboard.row();
  if (context.target) {
    keyboard.text(ctx.t('moderation.actions.warn'), e('warn', report.id));
    if (context.target.bannedAt) keyboard.text(ctx.t('moderation.actions.unban'), e('unban', context.target.id));
    else if (context.target.role !== 'coordinator') keyboard.text(ctx.t('moderation.actions.ban'), e('ban', report.id));
    keyboard.row();
  }
  if (context.open > 1) keyboard.text(ctx.t('moderation.actions.next'), e('rep', report.id));
  keyboard.text(ctx.t('moderation.actions.overview'), e('home', 0));
  await showScreen(ctx, lines.join('\n'), keyboard);
}

async function showPending(ctx: Authorized, afterId: number): Promise<void> {
  const waiting = await pendingPosts(ctx.deps.db, actorOf(ctx.user));
  const post = waiting.find((p) => p.id > afterId) ?? waiting[0];
  if (!post) return showHome(ctx, false);
  const { city, clock } = ctx.deps;
  const text = [
    ctx.t('moderation.queue.pendingTitle', { position: waiting.indexOf(post) + 1, open: waiting.length }),
    '',
    renderPostCard({ t: ctx.t, locale: ctx.locale, city, now: clock.now() }, post, 'detail'),
  ].join('\n');
  const keyboard = new InlineKeyboard()
    .text(ctx.t('moderation.actions.approve'), moderationData.encode({ action: 'appr', id: post.id, arg: '-' }))
    .text(ctx.t('moderation.actions.reject'), moderationData.encode({ action: 'rej', id: post.id, arg: '-' }))
    .row();
  if (waiting.length > 1) keyboard.text(ctx.t('moderation.actions.next'), moderationData.encode({ action: 'pend', id: post.id, arg: '-' }));
  keyboard.text(ctx.t('moderation.actions.overview'), moderationData.encode({ action: 'home', id: 0, arg: '-' }));
  await showScreen(ctx, text, keyboard);
}

async function showBanned(ctx: Authorized): Promise<void> {
  const banned = await listBanned(ctx.deps.db, actorOf(ctx.user));
  const lines = [ctx.t('moderation.queue.bannedTitle'), ''];
  const keyboard = new InlineKeyboard();
  banned.forEach((u, i) => {
    lines.push(`${i + 1}. ${escapeHtml(u.firstName ?? '—')} (#${u.id}) · ${ctx.t(`moderation.reasons.${(u.banReason ?? 'other') as ReportReason}`)}`);
    keyboard.text(ctx.t('moderation.actions.unbanN', { n: i + 1 }), moderationData.encode({ action: 'unban', id: u.id, arg: '-' }));
    if (i % 3 === 2) keyboard.row();
  });
  keyboard.row().text(ctx.t('moderation.actions.overview'), moderationData.encode({ action: 'home', id: 0, arg: '-' }));
  await showScreen(ctx, lines.join('\n'), keyboard);
}

// Every press passes the gate again: an old button of a former coordinator does nothing.
coordinators.callbackQuery(moderationData.filter, async (ctx) => {
  const data = moderationData.decode(ctx.callbackQuery.data);
  if (!data) return answerStale(ctx);
  const coordinator = actorOf(ctx.user);
  const { db, clock } = ctx.deps;
  try {
    switch (data.action) {
      case 'home':
        await ctx.answerCallbackQuery();
        return await showHome(ctx, false);
      case 'rep':
        await ctx.answerCallbackQuery();
        return await showReport(ctx, data.id);
      case 'pend':
        await ctx.answerCallbackQuery();
        return await showPending(ctx, data.id);
      case 'bl':
        await ctx.answerCallbackQuery();
        return await showBanned(ctx);
      case 'dis':
        await dismissReport(db, clock, coordinator, data.id);
        break;
      case 'rem':
        await removeReportedPost(db, clock, coordinator, data.id);
        break;
      case 'warn':
        await warnReportedUser(db, clock, coordinator, data.id);
        break;
      case 'ban': {
        // Ask for the reason the person will be told.
        const report = await findReport(db, coordinator, data.id);
        if (!report || report.status !== 'open') throw new DomainError('moderation.errors.alreadyHandled');
        await ctx.answerCallbackQuery();
        const keyboard = new InlineKeyboard();
        for (const reason of REPORT_REASONS) keyboard.text(ctx.t(`moderation.reasons.${reason}`), moderationData.encode({ action: 'banr', id: report.id, arg: reason })).row();
        keyboard.text(ctx.t('common.buttons.back'), moderationData.encode({ action: 'rep', id: Math.max(0, report.id - 1), arg: '-' }));
        await showScreen(ctx, ctx.t('moderation.queue.banWhy'), keyboard);
        return;
      }
      case 'banr': {
        const report = await findReport(db, coordinator, data.id);
        if (!report?.targetUserId || report.status !== 'open' || data.arg === '-') throw new DomainError('moderation.errors.alreadyHandled');
        await banUser(db, clock, coordinator, report.targetUserId, data.arg, report.id);
        break;
      }
      case 'unban':
        await unbanUser(db, clock, coordinator, data.id);
        break;
      case 'appr':
      case 'rej': {
        if (data.action === 'appr') await approvePendingPost(db, postsContext(ctx), coordinator, data.id);
        else await rejectPendingPost(db, clock, coordinator, data.id);
        ctx.deps.delivery.wake();
        await ctx.answerCallbackQuery({ text: ctx.t(data.action === 'appr' ? 'moderation.done.approved' : 'moderation.done.rejected') });
        return await showPending(ctx, 0);
      }
    }
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    await ctx.answerCallbackQuery({ text: refusalText(ctx.t, err), show_alert: true });
    return showHome(ctx, false);
  }
  ctx.deps.delivery.wake();
  await ctx.answerCallbackQuery({ text: ctx.t(`moderation.done.${data.action}`) });
  return data.action === 'unban' ? showBanned(ctx) : showReport(ctx, 0);
});
