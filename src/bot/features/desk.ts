import { Composer, InlineKeyboard } from 'grammy';
import { type DeskItem, broadcastDeskItem, closeDeskItem, listDesk, referToOffice, takeDeskItem } from '../../domain/desk';
import { DomainError } from '../../domain/errors';
import { actorOf } from '../../domain/permissions';
import { escapeHtml } from '../../i18n';
import { deskData } from '../../presentation/callback-data/desk';
import { menuData } from '../../presentation/callback-data/menu';
import { formatDate, shorten } from '../../presentation/format';
import { displayName, postLabel } from '../../presentation/labels';
import { renderOffice } from '../../presentation/office';
import type { Context } from '../context';
import { answerStale, showScreen } from '../dialog';
import { refusalText } from '../errors';
import { type Authorized, gate } from '../permissions';
import { postsContext } from './posts';

/** The Lotsen desk: needs nobody answered, for coordinators and Lotsen (`/desk`). */
export const deskFeature = new Composer<Context>();

const workers = gate(deskFeature, 'desk.work', {
  commands: ['desk'],
  buttons: (data) => deskData.filter.test(data) || menuData.decode(data)?.action === 'desk',
});

/** One desk item as text: the need (never who wrote it), its history, its owner and the responsible office. */
function renderItem(ctx: Authorized, item: DeskItem, position: number, total: number): string {
  const { post, history, owner } = item;
  const { city } = ctx.deps;
  const lines = [
    ctx.t('desk.list.title', { position, total }),
    '',
    `<b>${escapeHtml(postLabel({ city, locale: ctx.locale }, post))}</b>`,
    `«${escapeHtml(shorten(post.text ?? '—', 600))}»`,
    '',
    ctx.t('desk.list.since', { date: formatDate(post.deskAt ?? post.createdAt, ctx.locale, city.timezone, true) }),
    ctx.t('desk.list.history', { told: history.told, declined: history.declined, offered: history.offered, waves: post.wave }),
  ];
  if (post.widenedAt) lines.push(ctx.t('desk.list.widened'));
  if (post.deskBroadcastAt) lines.push(ctx.t('desk.list.broadcast'));
  if (post.referredAt) lines.push(ctx.t('desk.list.referred'));
  lines.push(owner ? ctx.t('desk.list.owner', { name: displayName(owner, '—') }) : ctx.t('desk.list.unowned'));
  const office = city.office(post.category);
  lines.push('', office ? `${ctx.t('desk.list.office')}\n${renderOffice(office, ctx.locale)}` : ctx.t('desk.list.noOffice'));
  return lines.join('\n');
}

function itemKeyboard(ctx: Authorized, item: DeskItem, total: number): InlineKeyboard {
  const { post, owner } = item;
  const id = post.id;
  const k = new InlineKeyboard();
  const button = (label: string, action: Parameters<typeof deskData.encode>[0]['action']) => k.text(ctx.t(label), deskData.encode({ action, id, reason: '-' })).row();
  if (!owner || owner.id === ctx.user.id) button('desk.buttons.take', 'take');
  if (ctx.deps.city.office(post.category)) {
    button('desk.buttons.refer', 'refer');
    button('desk.buttons.referClose', 'referclose');
  }
  if (!post.deskBroadcastAt) button('desk.buttons.all', 'all');
  button('desk.buttons.close', 'close');
  if (total > 1) button('desk.buttons.next', 'next');
  return k;
}

/**
 * Shows the desk item `postId` (or, with `after`, the one after it in the desk's order; the first one
 * when it left the desk), or "the desk is empty".
 */
async function showDesk(ctx: Authorized, options: { postId?: number; after?: boolean; asNew?: boolean } = {}): Promise<void> {
  const items = await listDesk(ctx.deps.db, actorOf(ctx.user));
  if (items.length === 0) {
    if (options.asNew) await ctx.reply(ctx.t('desk.list.empty'));
    else await showScreen(ctx, ctx.t('desk.list.empty'));
    return;
  }
  let index = Math.max(0, items.findIndex((i) => i.post.id === options.postId));
  if (options.after && items[index]?.post.id === options.postId) index = (index + 1) % items.length;
  const item = items[index]!;
  const text = renderItem(ctx, item, index + 1, items.length);
  const keyboard = itemKeyboard(ctx, item, items.length);
  if (options.asNew) await ctx.reply(text, { reply_markup: keyboard, link_preview_options: { is_disabled: true } });
  else await showScreen(ctx, text, keyboard);
}

workers.command('desk', async (ctx) => {
  await showDesk(ctx, { asNew: true });
});

workers.callbackQuery(menuData.filter, async (ctx, next) => {
  if (menuData.decode(ctx.callbackQuery.data)?.action !== 'desk') return next();
  await ctx.answerCallbackQuery();
  await showDesk(ctx, { asNew: true });
});

workers.callbackQuery(deskData.filter, async (ctx) => {
  const data = deskData.decode(ctx.callbackQuery.data);
  if (!data) return answerStale(ctx);
  const { db, clock, city } = ctx.deps;
  const actor = actorOf(ctx.user);
  const postId = data.id;
  try {
    switch (data.action) {
      case 'show':
        await ctx.answerCallbackQuery();
        return await showDesk(ctx, { postId });
      case 'next':
        await ctx.answerCallbackQuery();
        return await showDesk(ctx, { postId, after: true });
      case 'close': {
        await ctx.answerCallbackQuery();
        const keyboard = new InlineKeyboard();
        for (const reason of ['resolved', 'unreachable', 'out_of_scope', 'duplicate'] as const) {
          keyboard.text(ctx.t(`desk.reasons.${reason}`), deskData.encode({ action: 'reason', id: postId, reason })).row();
        }
        keyboard.text(ctx.t('desk.buttons.back'), deskData.encode({ action: 'show', id: postId, reason: '-' }));
        await showScreen(ctx, ctx.t('desk.closeAsk'), keyboard);
        return;
      }
      case 'reason': {
        if (data.reason === '-') return await answerStale(ctx);
        await closeDeskItem(db, clock, actor, postId, data.reason);
        await ctx.answerCallbackQuery({ text: ctx.t('desk.toasts.closed') });
        break;
      }
      case 'take': {
        const { requested } = await takeDeskItem(db, clock, ctx.user, postId);
        await ctx.answerCallbackQuery({ text: ctx.t(requested ? 'desk.toasts.taken' : 'desk.toasts.takenAgain'), show_alert: true });
        break;
      }
      case 'refer':
      case 'referclose':
        await referToOffice(db, clock, actor, postId, { close: data.action === 'referclose', hasOffice: (c) => city.office(c) !== undefined });
        await ctx.answerCallbackQuery({ text: ctx.t('desk.toasts.referred') });
        break;
      case 'all': {
        const told = await broadcastDeskItem(db, postsContext(ctx), actor, postId);
        await ctx.answerCallbackQuery({ text: ctx.t('desk.toasts.broadcast', { count: told }) });
        break;
      }
    }
    ctx.deps.delivery.wake();
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    await ctx.answerCallbackQuery({ text: refusalText(ctx.t, err), show_alert: true });
  }
  await showDesk(ctx, { postId });
});
