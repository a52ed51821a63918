import { Composer, InlineKeyboard } from 'grammy';
import { z } from 'zod';
import type { UserRow } from '../../db/schema';
import { DomainError } from '../../domain/errors';
import { refusalText } from '../errors';
import { actorOf } from '../../domain/permissions';
import { setLotse } from '../../domain/desk';
import { createInvite, listStaff, promoteToCoordinator, redeemInvite, revokeStaff } from '../../domain/staff';
import { createCallbackData, idField } from '../../presentation/callback-data/codec';
import { createDeepLink, parseStartPayload } from '../../presentation/callback-data/deep-link';
import { registerChatCommands } from '../commands';
import { type Context, requireUser } from '../context';
import { answerStale, showScreen } from '../dialog';
import { formatDate } from '../../presentation/format';
import { type Authorized, gate } from '../permissions';
import { createMainMenuKeyboard } from './menu';
import { renderSummary } from './start';
import { escapeHtml, pickLocale } from '../../i18n';

/** Buttons of /staff: revoke staff rights, make a staff member coordinator. */
export const staffData = createCallbackData('sf', ['action', 'id'], z.object({ action: z.enum(['revoke', 'promote', 'lotse', 'unlotse']), id: idField }));

/** Staff invites and management, for coordinators. */
export const staffFeature = new Composer<Context>();

/** /invite <organisation>: a single-use link that makes whoever opens it staff of the organisation. */
const inviters = gate(staffFeature, 'staff.invite', { commands: ['invite'] });
/** /staff and its buttons; revoking and promoting are authorized again by the domain. */
const managers = gate(staffFeature, 'staff.list', { commands: ['staff'], buttons: (data) => staffData.filter.test(data) });

inviters.command('invite', async (ctx) => {
  const organisation = ctx.match.trim();
  if (!organisation) {
    await ctx.reply(ctx.t('staff.invite.usage'));
    return;
  }
  const { db, clock, config, city } = ctx.deps;
  try {
    const { code, expiresAt } = await createInvite(db, clock, actorOf(ctx.user), organisation, config.INVITE_TTL_HOURS);
    const link = createDeepLink(ctx.me.username, `staff_${code}`);
    await ctx.reply(
      ctx.t('staff.invite.created', {
        organisation: organisation.replace(/\s+/g, ' ').trim(),
        link,
        expires: formatDate(expiresAt, ctx.locale, city.timezone, true),
      }),
      { link_preview_options: { is_disabled: true } },
    );
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    await ctx.reply(refusalText(ctx.t, err));
  }
});

// t.me/<bot>?start=staff_<code>: the invited person becomes staff of the organisation.
staffFeature.command('start', async (ctx, next) => {
  const link = parseStartPayload(ctx.match);
  if (link.type !== 'staff') return next();
  const { db, clock, i18n, logger } = ctx.deps;
  try {
    const user = await redeemInvite(db, clock, actorOf(requireUser(ctx)), link.code);
    ctx.user = user;
    await ctx.reply(`${ctx.t('staff.invite.welcome')}\n\n${renderSummary(ctx, user)}`, {
      reply_markup: createMainMenuKeyboard(ctx, user),
    });
    await registerChatCommands(ctx.api, ctx.chat.id, user, ctx.locale, i18n, logger);
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    ctx.log.info({ reason: err.key }, 'staff invite refused');
    await ctx.reply(`${refusalText(ctx.t, err)}\n\n${ctx.t('staff.invite.whatNow')}`);
  }
});

managers.command('staff', async (ctx) => {
  const { text, keyboard } = await renderStaffList(ctx);
  await ctx.reply(text, { reply_markup: keyboard });
});

async function renderStaffList(ctx: Authorized): Promise<{ text: string; keyboard: InlineKeyboard }> {
  const people = await listStaff(ctx.deps.db, actorOf(ctx.user));
  const staff = people.filter((p) => p.role === 'staff');
  const coordinators = people.filter((p) => p.role === 'coordinator');
  const name = (p: UserRow) => escapeHtml(p.firstName ?? '—');
  const lines = [ctx.t('staff.list.title')];
  lines.push('', ctx.t('staff.list.coordinators', { count: coordinators.length }));
  for (const p of coordinators) lines.push(`• ${name(p)}`);
  lines.push('', ctx.t('staff.list.staff', { count: staff.length }));
  const keyboard = new InlineKeyboard();
  staff.forEach((p, i) => {
    lines.push(`${i + 1}. ${name(p)} · ${escapeHtml(p.organisation ?? '—')}${p.lotse ? ` · ${ctx.t('staff.lotseMark')}` : ''}`);
    keyboard
      .text(ctx.t('staff.list.revoke', { n: i + 1 }), staffData.encode({ action: 'revoke', id: p.id }))
      .text(ctx.t('staff.list.promote', { n: i + 1 }), staffData.encode({ action: 'promote', id: p.id }))
      .row()
      // Lotsen work the desk (/desk); the button says what a press makes of them.
      .text(ctx.t(p.lotse ? 'staff.lotseOff' : 'staff.lotseOn', { n: i + 1 }), staffData.encode({ action: p.lotse ? 'unlotse' : 'lotse', id: p.id }))
      .row();
  });
  if (staff.length === 0) lines.push(ctx.t('staff.list.none'));
  return { text: lines.join('\n'), keyboard };
}

managers.callbackQuery(staffData.filter, async (ctx) => {
  const data = staffData.decode(ctx.callbackQuery.data);
  if (!data) return answerStale(ctx);
  const { db, clock } = ctx.deps;
  try {
    const coordinator = actorOf(ctx.user);
    if (data.action === 'lotse' || data.action === 'unlotse') {
      const target = await setLotse(db, clock, coordinator, data.id, data.action === 'lotse');
      // The Lotse's own command menu gains (or loses) /desk and /intake, in their language.
      await registerChatCommands(ctx.api, target.telegramId, target, pickLocale(target.locale, ctx.deps.config.DEFAULT_LOCALE), ctx.deps.i18n, ctx.deps.logger);
      await ctx.answerCallbackQuery({ text: ctx.t(target.lotse ? 'staff.lotseOnToast' : 'staff.lotseOffToast', { name: target.firstName ?? '' }) });
    } else {
      const target = data.action === 'revoke' ? await revokeStaff(db, clock, coordinator, data.id) : await promoteToCoordinator(db, clock, coordinator, data.id);
      ctx.deps.delivery.wake();
      await ctx.answerCallbackQuery({ text: ctx.t(data.action === 'revoke' ? 'staff.revokedToast' : 'staff.promotedToast', { name: target.firstName ?? '' }) });
    }
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    await ctx.answerCallbackQuery({ text: refusalText(ctx.t, err), show_alert: true });
  }
  const { text, keyboard } = await renderStaffList(ctx);
  await showScreen(ctx, text, keyboard);
});
