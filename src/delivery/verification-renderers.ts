import { InlineKeyboard } from 'grammy';
import { findOpenRequest, findOrganisation } from '../domain/verification';
import { OUTBOX_KINDS } from '../domain/outbox';
import { findReportedContact } from '../domain/moderation';
import { menuButton } from '../presentation/callback-data/menu';
import { verifyReviewData } from '../presentation/callback-data/verification';
import { formatDate } from '../presentation/format';
import { nameWithUsername, postLabel, protectedCategoriesLabel } from '../presentation/labels';
import type { RenderEnv, RenderResult, RendererGroup } from './render';

function message(text: string, keyboard?: InlineKeyboard): RenderResult {
  return { send: { method: 'sendMessage', payload: { text, parse_mode: 'HTML', link_preview_options: { is_disabled: true }, ...(keyboard ? { reply_markup: keyboard } : {}) } } };
}

function categories(env: RenderEnv): string {
  return protectedCategoriesLabel(env);
}

/** Messages about verification (to coordinators and to the helper) and the urgent safety report. */
export function createVerificationRenderers() {
  return {
    [OUTBOX_KINDS.verificationRequest]: async (_row, { userId }, env) => {
      if (env.recipient.role !== 'coordinator') return { skip: 'cancelled', reason: 'no longer a coordinator' };
      const open = await findOpenRequest(env.db, userId);
      if (!open) return { skip: 'cancelled', reason: 'request decided or person gone' };
      const { user, offers } = open;
      const keyboard = new InlineKeyboard()
        .text(env.t('verification.verifyButton'), verifyReviewData.encode({ action: 'ok', id: user.id }))
        .text(env.t('verification.declineButton'), verifyReviewData.encode({ action: 'no', id: user.id }));
      return message(
        env.t('verification.request', {
          name: nameWithUsername(user, env.t('verification.noUsername')),
          role: user.role ? env.t(`common.roles.${user.role}`) : env.t('common.notSet'),
          district: env.city.districtName(user.district, env.locale),
          since: formatDate(user.createdAt, env.locale, env.city.timezone),
          offers,
        }),
        keyboard,
      );
    },
    [OUTBOX_KINDS.verificationGranted]: async (_row, _payload, env) => message(env.t('verification.granted', { categories: categories(env) })),
    [OUTBOX_KINDS.verificationDeclined]: async (_row, _payload, env) => message(env.t('verification.declined')),
    [OUTBOX_KINDS.verificationWithdrawn]: async (_row, { stillVerified }, env) =>
      message(stillVerified ? env.t('verification.withdrawnStill') : env.t('verification.withdrawn', { categories: categories(env) })),
    [OUTBOX_KINDS.verificationOrganisationWithdrawn]: async (_row, { organisationId }, env) => {
      const organisation = await findOrganisation(env.db, organisationId);
      return message(env.t('verification.orgWithdrawn', { organisation: organisation?.name ?? '—', categories: categories(env) }));
    },
    [OUTBOX_KINDS.reportUrgent]: async (_row, { reportId }, env) => {
      if (env.recipient.role !== 'coordinator') return { skip: 'cancelled', reason: 'no longer a coordinator' };
      const reported = await findReportedContact(env.db, reportId);
      if (!reported) return { skip: 'cancelled', reason: 'report handled or gone' };
      return message(env.t('moderation.notify.urgent', { label: postLabel(env, reported.post) }), new InlineKeyboard().text(env.t('menu.moderation'), menuButton('moderation')));
    },
  } satisfies RendererGroup;
}
