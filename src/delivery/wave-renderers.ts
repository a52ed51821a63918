import { InlineKeyboard } from 'grammy';
import type { OutboxRow } from '../db/schema';
import { OUTBOX_KINDS } from '../domain/outbox';
import { isActive } from '../domain/posts';
import { menuButton } from '../presentation/callback-data/menu';
import { postLabelFor } from '../presentation/labels';
import type { RenderEnv, RenderResult, RendererGroup } from './render';

function message(text: string, env: RenderEnv): RenderResult {
  const keyboard = new InlineKeyboard().text(env.t('menu.my'), menuButton('my'));
  return { send: { method: 'sendMessage', payload: { text, parse_mode: 'HTML', reply_markup: keyboard } } };
}

/** The need a status is about, while it is still open and no offer of help came after the status was queued. */
async function stillSearching(row: OutboxRow, env: RenderEnv) {
  const post = row.postId ? await env.batch.post(row.postId) : undefined;
  if (!post || !isActive(post)) return undefined;
  if (post.firstResponseAt && post.firstResponseAt >= row.createdAt) return undefined;
  return post;
}

/** The seeker's status messages while their need travels in waves: one short message per step. */
export function createWaveRenderers() {
  return {
    [OUTBOX_KINDS.waveProgress]: async (row, { told, widened }, env) => {
      const post = await stillSearching(row, env);
      if (!post) return { skip: 'cancelled', reason: 'need closed or answered meanwhile' };
      return message(env.t(widened ? 'waves.status.widened' : 'waves.status.progress', { count: told, label: postLabelFor(env, post, env.recipient.id) }), env);
    },
    [OUTBOX_KINDS.waveExhausted]: async (row, _payload, env) => {
      const post = await stillSearching(row, env);
      if (!post) return { skip: 'cancelled', reason: 'need closed or answered meanwhile' };
      return message(env.t('waves.status.exhausted', { label: postLabelFor(env, post, env.recipient.id) }), env);
    },
  } satisfies RendererGroup;
}
