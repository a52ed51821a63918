import { Composer, GrammyError, InlineKeyboard } from 'grammy';
import type { UserRow } from '../../db/schema';
import { DomainError } from '../../domain/errors';
import { actorOf } from '../../domain/permissions';
import {
  createOrganisationInvite,
  decideVerification,
  joinOrganisation,
  listVerified,
  requestVerification,
  type VerificationState,
  verificationState,
  withdrawOrganisation,
  withdrawVerification,
} from '../../domain/verification';
import { createDeepLink, parseStartPayload } from '../../presentation/callback-data/deep-link';
import { verifyRequestData, verifyReviewData } from '../../presentation/callback-data/verification';
import { formatDate } from '../../presentation/format';
import { nameWithUsername, protectedCategoriesLabel } from '../../presentation/labels';
import { escapeHtml } from '../../i18n';
import { type Context, requireUser } from '../context';
import { answerStale, showScreen } from '../dialog';
import { refusalText } from '../errors';
import { type Authorized, gate } from '../permissions';
import { beginOnboarding } from './start';

/** At most this many people or organisations per part of /verified (a message holds 4096 characters). */
const LIST_MAX = 20;

/**
 * Verified helpers for the protected categories: a helper asks (from /settings, /browse or the refusal of
 * "I can help"), coordinators decide at once from the request message or in /verified, and organisations'
 * helpers join through an invite link (/orginvite, t.me/<bot>?start=org_<code>).
 */
export const verificationFeature = new Composer<Context>();

/** The protected categories, for the texts. */
function categories(ctx: Context): string {
  return protectedCategoriesLabel({ city: ctx.deps.city, locale: ctx.locale });
}

/** The line /settings shows about verification. */
export function verificationLine(ctx: Context, state: VerificationState): string {
  if (state.byRole) return ctx.t('verification.status.role');
  if (state.individually) return ctx.t('verification.status.individual');
  if (state.organisations.length > 0) return ctx.t('verification.status.organisation', { organisations: state.organisations.join(', ') });
  if (state.request?.status === 'requested') return ctx.t('verification.status.requested');
  if (state.request?.status === 'declined') return ctx.t('verification.status.declined');
  return ctx.t('verification.status.none', { categories: categories(ctx) });
}

/** Whether a "Get verified" button fits: not verified, no request open. */
export function mayAskForVerification(state: VerificationState): boolean {
  return !state.verified && state.request?.status !== 'requested';
}

/** The refusal of "I can help" on a protected need, as a message with the way to get verified. */
export async function explainVerificationRequired(ctx: Context): Promise<void> {
  await ctx.reply(ctx.t('verification.refused', { categories: categories(ctx) }), {
    reply_markup: new InlineKeyboard().text(ctx.t('verification.askButton'), verifyRequestData.encode({ action: 'ask' })),
  });
}

// ------------------------------------------------------------------ the helper's side

const askers = gate(verificationFeature, 'verification.request', { buttons: (data) => verifyRequestData.filter.test(data) });

askers.callbackQuery(verifyRequestData.filter, async (ctx) => {
  const data = verifyRequestData.decode(ctx.callbackQuery.data);
  if (!data) return answerStale(ctx);
  const { db, clock } = ctx.deps;
  const state = await verificationState(db, ctx.user);
  if (state.verified) {
    await ctx.answerCallbackQuery({ text: ctx.t('verification.errors.already'), show_alert: true });
    return;
  }
  if (data.action === 'ask') {
    await ctx.answerCallbackQuery();
    if (state.request?.status === 'requested') {
      await ctx.reply(ctx.t('verification.pending'));
      return;
    }
    // A new message: the button sits under settings, a list, a post or a refusal, which stay readable.
    await ctx.reply(ctx.t('verification.explain', { categories: categories(ctx) }), {
      reply_markup: new InlineKeyboard().text(ctx.t('verification.send'), verifyRequestData.encode({ action: 'send' })),
    });
    return;
  }
  const outcome = await requestVerification(db, clock, actorOf(ctx.user));
  ctx.deps.delivery.wake();
  await ctx.answerCallbackQuery();
  await showScreen(ctx, ctx.t(outcome === 'requested' ? 'verification.requested' : 'verification.pending'));
});

// t.me/<bot>?start=org_<code>: the person joins the organisation as a verified helper.
verificationFeature.command('start', async (ctx, next) => {
  const link = parseStartPayload(ctx.match);
  if (link.type !== 'organisation') return next();
  const user = requireUser(ctx);
  const { db, clock } = ctx.deps;
  try {
    const joined = await joinOrganisation(db, clock, actorOf(user), link.code);
    await ctx.reply(ctx.t(joined.already ? 'verification.join.already' : 'verification.join.welcome', { organisation: joined.organisation, categories: categories(ctx) }));
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    ctx.log.info({ reason: err.key }, 'organisation link refused');
    await ctx.reply(`${refusalText(ctx.t, err)}\n\n${ctx.t('verification.join.whatNow')}`);
    return;
  }
  // Someone new goes on with setting up their profile.
  if (!user.onboardedAt) await beginOnboarding(ctx);
});

// ------------------------------------------------------------------ the coordinators' side

const inviters = gate(verificationFeature, 'verification.invite', { commands: ['orginvite'] });

inviters.command('orginvite', async (ctx) => {
  const name = ctx.match.trim();
  if (!name) {
    await ctx.reply(ctx.t('verification.invite.usage'));
    return;
  }
  const { db, clock, config, city } = ctx.deps;
  try {
    const { code, expiresAt, organisation } = await createOrganisationInvite(db, clock, actorOf(ctx.user), name, config.ORG_INVITE_TTL);
    await ctx.reply(
      ctx.t('verification.invite.created', {
        organisation: organisation.name,
        link: createDeepLink(ctx.me.username, `org_${code}`),
        expires: formatDate(expiresAt, ctx.locale, city.timezone, true),
        categories: categories(ctx),
      }),
      { link_preview_options: { is_disabled: true } },
    );
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    await ctx.reply(refusalText(ctx.t, err));
  }
});

const reviewers = gate(verificationFeature, 'verification.review', { commands: ['verified'], buttons: (data) => verifyReviewData.filter.test(data) });

reviewers.command('verified', async (ctx) => {
  const { text, keyboard } = await renderList(ctx);
  await ctx.reply(text, { reply_markup: keyboard, link_preview_options: { is_disabled: true } });
});

/** /verified: open requests (verify, decline), helpers verified one by one and organisations (withdraw). */
async function renderList(ctx: Authorized): Promise<{ text: string; keyboard: InlineKeyboard }> {
  const { db, clock, city } = ctx.deps;
  const list = await listVerified(db, clock, actorOf(ctx.user));
  const noUsername = ctx.t('verification.noUsername');
  const since = (date: Date | null) => (date ? formatDate(date, ctx.locale, city.timezone) : '—');
  const lines = [ctx.t('verification.list.title', { categories: categories(ctx) })];
  const keyboard = new InlineKeyboard();
  let n = 0;
  const person = (u: UserRow, at: Date | null) =>
    ctx.t('verification.list.person', { n, name: nameWithUsername(u, noUsername), district: city.districtName(u.district, ctx.locale), since: since(at) });
  const more = (total: number) => {
    if (total > LIST_MAX) lines.push(ctx.t('verification.list.more', { count: total - LIST_MAX }));
    if (total === 0) lines.push(ctx.t('verification.list.none'));
  };

  lines.push('', ctx.t('verification.list.requested', { count: list.requested.length }));
  for (const { user: u, at } of list.requested.slice(0, LIST_MAX)) {
    n++;
    lines.push(person(u, at));
    keyboard
      .text(ctx.t('verification.list.verifyN', { n }), verifyReviewData.encode({ action: 'lok', id: u.id }))
      .text(ctx.t('verification.list.declineN', { n }), verifyReviewData.encode({ action: 'lno', id: u.id }))
      .row();
  }
  more(list.requested.length);

  lines.push('', ctx.t('verification.list.individuals', { count: list.individuals.length }));
  for (const { user: u, at } of list.individuals.slice(0, LIST_MAX)) {
    n++;
    lines.push(person(u, at));
    keyboard.text(ctx.t('verification.list.withdrawN', { n }), verifyReviewData.encode({ action: 'wd', id: u.id })).row();
  }
  more(list.individuals.length);

  lines.push('', ctx.t('verification.list.organisations', { count: list.organisations.length }));
  for (const o of list.organisations.slice(0, LIST_MAX)) {
    n++;
    const link = o.linkUntil ? ctx.t('verification.list.linkUntil', { date: formatDate(o.linkUntil, ctx.locale, city.timezone) }) : ctx.t('verification.list.noLink');
    lines.push(ctx.t('verification.list.organisation', { n, organisation: o.organisation.name, members: o.members, link }));
    keyboard.text(ctx.t('verification.list.withdrawN', { n }), verifyReviewData.encode({ action: 'wo', id: o.organisation.id })).row();
  }
  more(list.organisations.length);
  lines.push('', ctx.t('verification.list.hint'));
  return { text: lines.join('\n'), keyboard };
}

/** Takes the buttons off a request message that was decided elsewhere. */
async function closeRequestMessage(ctx: Context): Promise<void> {
  try {
    await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [] } });
  } catch (err) {
    if (!(err instanceof GrammyError)) throw err;
  }
}

// Every press passes the gate again: an old button of a former coordinator, or forged data, does nothing.
reviewers.callbackQuery(verifyReviewData.filter, async (ctx) => {
  const data = verifyReviewData.decode(ctx.callbackQuery.data);
  if (!data) return answerStale(ctx);
  const { db, clock } = ctx.deps;
  const actor = actorOf(ctx.user);
  try {
    switch (data.action) {
      case 'list': {
        await ctx.answerCallbackQuery();
        const { text, keyboard } = await renderList(ctx);
        await showScreen(ctx, text, keyboard);
        return;
      }
      case 'ok':
      case 'no':
      case 'lok':
      case 'lno': {
        const verify = data.action === 'ok' || data.action === 'lok';
        const helper = await decideVerification(db, clock, actor, data.id, verify ? 'verify' : 'decline');
        ctx.deps.delivery.wake();
        await ctx.answerCallbackQuery({ text: ctx.t(verify ? 'verification.toast.verified' : 'verification.toast.declined', { name: helper.firstName ?? '—' }) });
        if (data.action === 'ok' || data.action === 'no') {
          await appendToRequest(ctx, ctx.t(verify ? 'verification.decidedByYou.verified' : 'verification.decidedByYou.declined'));
          return;
        }
        break;
      }
      case 'wd':
      case 'wo': {
        await ctx.answerCallbackQuery();
        const list = await listVerified(db, clock, actor);
        const person = data.action === 'wd' ? list.individuals.find((i) => i.user.id === data.id)?.user : undefined;
        const organisation = data.action === 'wo' ? list.organisations.find((o) => o.organisation.id === data.id) : undefined;
        if (!person && !organisation) throw new DomainError(data.action === 'wd' ? 'verification.errors.notVerified' : 'verification.errors.orgWithdrawn');
        const text = person
          ? ctx.t('verification.confirm.person', { name: nameWithUsername(person, ctx.t('verification.noUsername')), categories: categories(ctx) })
          : ctx.t('verification.confirm.organisation', { organisation: organisation!.organisation.name, members: organisation!.members });
        const keyboard = new InlineKeyboard()
          .text(ctx.t('verification.confirm.yes'), verifyReviewData.encode({ action: data.action === 'wd' ? 'wdy' : 'woy', id: data.id }))
          .row()
          .text(ctx.t('common.buttons.back'), verifyReviewData.encode({ action: 'list', id: '-' }));
        await showScreen(ctx, text, keyboard);
        return;
      }
      case 'wdy': {
        const helper = await withdrawVerification(db, clock, actor, data.id);
        ctx.deps.delivery.wake();
        await ctx.answerCallbackQuery({ text: ctx.t('verification.toast.withdrawn', { name: helper.firstName ?? '—' }) });
        break;
      }
      case 'woy': {
        const { organisation, lost } = await withdrawOrganisation(db, clock, actor, data.id);
        ctx.deps.delivery.wake();
        await ctx.answerCallbackQuery({ text: ctx.t('verification.toast.orgWithdrawn', { organisation: organisation.name, count: lost }) });
        break;
      }
    }
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    await ctx.answerCallbackQuery({ text: refusalText(ctx.t, err), show_alert: true });
    // A request decided elsewhere loses its buttons; a list shows what is true now.
    if (data.action === 'ok' || data.action === 'no') await closeRequestMessage(ctx);
    else {
      const { text, keyboard } = await renderList(ctx);
      await showScreen(ctx, text, keyboard);
    }
    return;
  }
  const { text, keyboard } = await renderList(ctx);
  await showScreen(ctx, text, keyboard);
});

/** The request message keeps its text, gains who decided, and loses its buttons. */
async function appendToRequest(ctx: Context, footer: string): Promise<void> {
  const message = ctx.callbackQuery?.message;
  const original = message && 'text' in message ? message.text : undefined;
  try {
    if (original) await ctx.editMessageText(`${escapeHtml(original)}\n\n${footer}`, { reply_markup: { inline_keyboard: [] } });
    else await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [] } });
  } catch (err) {
    if (!(err instanceof GrammyError)) throw err;
  }
}
