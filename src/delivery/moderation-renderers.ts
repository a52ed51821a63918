import { InlineKeyboard } from 'grammy';
import { menuButton } from '../presentation/callback-data/menu';
import type { OutboxRow, ReportReason } from '../db/schema';
import { MODERATION_KINDS } from '../domain/moderation';
import type { RenderEnv, RenderResult, RendererGroup } from './render';
import { postLabel } from '../presentation/labels';

function message(text: string, keyboard?: InlineKeyboard): RenderResult {
  return { send: { method: 'sendMessage', payload: { text, parse_mode: 'HTML', ...(keyboard ? { reply_markup: keyboard } : {}) } } };
}

function reasonText(reason: ReportReason, env: RenderEnv): string {
  return env.t(`moderation.reasons.${reason}`);
}

async function labelOf(row: OutboxRow, env: RenderEnv): Promise<string> {
  const post = row.postId ? await env.batch.post(row.postId) : undefined;
  return post ? postLabel(env, post) : `#${row.postId ?? '?'}`;
}

/** Messages about moderation decisions, in the affected person's language. */
export function createModerationRenderers() {
  return {
    [MODERATION_KINDS.removed]: async (row, { reason }, env) => message(env.t('moderation.notify.removed', { label: await labelOf(row, env), reason: reasonText(reason, env) })),
    [MODERATION_KINDS.warned]: async (_row, { reason }, env) => message(env.t('moderation.notify.warned', { reason: reasonText(reason, env) })),
    [MODERATION_KINDS.banned]: async (_row, { reason }, env) => message(env.t('moderation.notify.banned', { reason: reasonText(reason, env) })),
    [MODERATION_KINDS.unbanned]: async (_row, _payload, env) => message(env.t('moderation.notify.unbanned')),
    [MODERATION_KINDS.approved]: async (row, _payload, env) => message(env.t('moderation.notify.approved', { label: await labelOf(row, env) })),
    [MODERATION_KINDS.rejected]: async (row, _payload, env) => message(env.t('moderation.notify.rejected', { label: await labelOf(row, env) })),
    [MODERATION_KINDS.queue]: async (_row, { reports, pending }, env) => {
      if (env.recipient.role !== 'coordinator') return { skip: 'cancelled', reason: 'no longer a coordinator' };
      const keyboard = new InlineKeyboard().text(env.t('menu.moderation'), menuButton('moderation'));
      const parts = [reports > 0 ? env.t('moderation.notify.reports', { count: reports }) : null, pending > 0 ? env.t('moderation.notify.pending', { count: pending }) : null];
      return message(env.t('moderation.notify.queue', { parts: parts.filter(Boolean).join(', ') }), keyboard);
    },
  } satisfies RendererGroup;
}
