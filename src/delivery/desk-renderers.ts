import { InlineKeyboard } from 'grammy';
import type { OutboxRow } from '../db/schema';
import { loadContact } from '../domain/contacts';
import { OUTBOX_KINDS } from '../domain/outbox';
import { isActive } from '../domain/posts';
import { followUpData } from '../presentation/callback-data/follow-up';
import { safetyReportData } from '../presentation/callback-data/verification';
import { menuButton } from '../presentation/callback-data/menu';
import { postLabelFor } from '../presentation/labels';
import { renderOffice } from '../presentation/office';
import type { RenderEnv, RenderResult, RendererGroup } from './render';

function message(text: string, keyboard?: InlineKeyboard): RenderResult {
  return { send: { method: 'sendMessage', payload: { text, parse_mode: 'HTML', link_preview_options: { is_disabled: true }, ...(keyboard ? { reply_markup: keyboard } : {}) } } };
}

async function postOf(row: OutboxRow, env: RenderEnv) {
  return row.postId ? env.batch.post(row.postId) : undefined;
}

/** Messages of the Lotsen desk (to seekers and to the desk's people) and of the follow-up. */
export function createDeskRenderers() {
  return {
    [OUTBOX_KINDS.deskLanded]: async (row, _payload, env) => {
      const post = await postOf(row, env);
      if (!post || post.status !== 'open') return { skip: 'cancelled', reason: 'need closed or in contact meanwhile' };
      return message(env.t('desk.status.landed', { label: postLabelFor(env, post, env.recipient.id) }), new InlineKeyboard().text(env.t('menu.my'), menuButton('my')));
    },
    [OUTBOX_KINDS.deskReferred]: async (row, { category, closed }, env) => {
      const post = await postOf(row, env);
      const office = env.city.office(category);
      if (!post || !office) return { skip: 'cancelled', reason: 'need or office gone' };
      const key = closed ? 'desk.status.referredClosed' : 'desk.status.referred';
      return message(`${env.t(key, { label: postLabelFor(env, post, env.recipient.id) })}\n\n${renderOffice(office, env.locale)}`, new InlineKeyboard().text(env.t('menu.my'), menuButton('my')));
    },
    [OUTBOX_KINDS.deskQueue]: async (_row, { fresh, unclaimed }, env) => {
      const { role, lotse } = env.recipient;
      if (role !== 'coordinator' && !(role === 'staff' && lotse)) return { skip: 'cancelled', reason: 'no longer works the desk' };
      const parts = [fresh > 0 ? env.t('desk.notify.fresh', { count: fresh }) : null, unclaimed > 0 ? env.t('desk.notify.unclaimed', { count: unclaimed }) : null];
      return message(env.t('desk.notify.queue', { parts: parts.filter(Boolean).join(', ') }), new InlineKeyboard().text(env.t('menu.desk'), menuButton('desk')));
    },
    [OUTBOX_KINDS.followUpAsk]: async (_row, { contactId }, env) => {
      const loaded = await loadContact(env.db, contactId);
      if (!loaded || loaded.contact.status !== 'accepted' || !isActive(loaded.post)) return { skip: 'cancelled', reason: 'conversation or need closed' };
      const keyboard = new InlineKeyboard()
        .text(env.t('followUp.yes'), followUpData.encode({ answer: 'yes', id: contactId }))
        .row()
        .text(env.t('followUp.later'), followUpData.encode({ answer: 'later', id: contactId }))
        .row()
        .text(env.t('followUp.no'), followUpData.encode({ answer: 'no', id: contactId }));
      const question = env.t('followUp.ask', { label: postLabelFor(env, loaded.post, env.recipient.id) });
      // Protected categories: was everything all right with the helper? One tap reaches the coordinators.
      if (!env.city.isProtected(loaded.post.category)) return message(question, keyboard);
      keyboard.row().text(env.t('followUp.reportButton'), safetyReportData.encode({ id: contactId }));
      return message(`${question}\n\n${env.t('followUp.safety')}`, keyboard);
    },
    [OUTBOX_KINDS.followUpLooking]: async (_row, { contactId }, env) => {
      const loaded = await loadContact(env.db, contactId);
      if (!loaded) return { skip: 'cancelled', reason: 'conversation gone' };
      return message(env.t('followUp.looking', { label: postLabelFor(env, loaded.post, env.recipient.id) }));
    },
  } satisfies RendererGroup;
}
