import { InlineKeyboard } from 'grammy';
import { menuButton } from '../presentation/callback-data/menu';
import type { OutboxRow } from '../db/schema';
import { MODERATION_KINDS } from '../domain/moderation';
import { findPost } from '../domain/posts';
import type { RenderEnv, RenderResult, RendererRegistry } from './render';
import { postLabel } from '../presentation/labels';

function message(text: string, keyboard?: InlineKeyboard): RenderResult {
  return { send: { method: 'sendMessage', payload: { text, parse_mode: 'HTML', ...(keyboard ? { reply_markup: keyboard } : {}) } } };
}

function reasonOf(row: OutboxRow, env: RenderEnv): string {
  const reason = (row.payload as { reason?: unknown }).reason;
  return env.t(`moderation.reasons.${typeof reason === 'string' ? reason : 'other'}`);
}

async function labelOf(row: OutboxRow, env: RenderEnv): Promise<string> {
  const post = row.postId ? await findPost(env.db, row.postId) : undefined;
  return post ? postLabel(env, post) : `#${row.postId ?? '?'}`;
}

/** Messages about moderation decisions, in the affected person's language. */
export function createModerationRenderers(): RendererRegistry {
  return {
    [MODERATION_KINDS.removed]: async (row, env) => message(env.t('moderation.notify.removed', { label: await labelOf(row, env), reason: reasonOf(row, env) })),
    [MODERATION_KINDS.warned]: async (row, env) => message(env.t('moderation.notify.warned', { reason: reasonOf(row, env) })),
    [MODERATION_KINDS.banned]: async (row, env) => message(env.t('moderation.notify.banned', { reason: reasonOf(row, env) })),
    [MODERATION_KINDS.unbanned]: async (_row, env) => message(env.t('moderation.notify.unbanned')),
    [MODERATION_KINDS.approved]: async (row, env) => message(env.t('moderation.notify.approved', { label: await labelOf(row, env) })),
    [MODERATION_KINDS.rejected]: async (row, env) => message(env.t('moderation.notify.rejected', { label: await labelOf(row, env) })),
    [MODERATION_KINDS.queue]: async (row, env) => {
      const { reports = 0, pending = 0 } = row.payload as { reports?: number; pending?: number };
      if (env.recipient.role !== 'coordinator') return { skip: 'cancelled', reason: 'no longer a coordinator' };
      const keyboard = new InlineKeyboard().text(env.t('menu.moderation'), menuButton('moderation'));
      const parts = [reports > 0 ? env.t('moderation.notify.reports', { count: reports }) : null, pending > 0 ? env.t('moderation.notify.pending', { count: pending }) : null];
      return message(env.t('moderation.notify.queue', { parts: parts.filter(Boolean).join(', ') }), keyboard);
    },
  };
}
