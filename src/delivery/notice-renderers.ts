import { InlineKeyboard } from 'grammy';
import { reportData } from '../presentation/callback-data/reports';
import { renderNoticeText } from '../presentation/notice';
import type { NoticeRow } from '../db/schema';
import { findNotice } from '../domain/notices';
import { effectiveQuietHours, quietUntil } from '../domain/time';
import type { Renderer, RenderEnv, RenderResult, RendererGroup } from './render';

/**
 * Keeps recently rendered notices for a few seconds, so a broadcast to 100,000 people loads its notice
 * once per few seconds rather than once per message. One cache per renderer registry (per worker).
 */
function createNoticeCache() {
  const cache = new Map<number, { notice: NoticeRow; at: number }>();
  return async (env: RenderEnv, id: number): Promise<NoticeRow | undefined> => {
    const hit = cache.get(id);
    if (hit && Date.now() - hit.at < 2_000) return hit.notice;
    const notice = await findNotice(env.db, id);
    if (notice) cache.set(id, { notice, at: Date.now() });
    if (cache.size > 100) cache.delete(cache.keys().next().value!);
    return notice;
  };
}

const createNoticeRenderer = (loadNotice: ReturnType<typeof createNoticeCache>): Renderer<'notice'> => async (row, _payload, env) => {
  const notice = row.noticeId ? await loadNotice(env, row.noticeId) : undefined;
  if (!notice || notice.status === 'cancelled') return { skip: 'cancelled', reason: 'notice stopped' };
  const text = renderNoticeText(env, notice, env.locale);
  if (!text) return { skip: 'cancelled', reason: 'no text' };
  const keyboard = new InlineKeyboard().text(env.t('moderation.reportButton'), reportData.encode({ target: 'notice', id: notice.id, reason: '-' }));
  // Official notices are not held back by quiet hours, but arrive without a sound at night.
  const silent = quietUntil(env.clock.now(), env.city.timezone, effectiveQuietHours(env.recipient, env.config.QUIET_HOURS)) !== null;
  const common = { parse_mode: 'HTML', reply_markup: keyboard, ...(silent ? { disable_notification: true } : {}) };
  if (notice.mediaType === 'photo' && notice.mediaFileId) return { send: { method: 'sendPhoto', payload: { photo: notice.mediaFileId, caption: text, ...common } } };
  if (notice.mediaType === 'document' && notice.mediaFileId) return { send: { method: 'sendDocument', payload: { document: notice.mediaFileId, caption: text, ...common } } };
  return { send: { method: 'sendMessage', payload: { text, link_preview_options: { is_disabled: true }, ...common } } };
};

const simple = (key: string) => async (_row: unknown, _payload: unknown, env: RenderEnv): Promise<RenderResult> => ({
  send: { method: 'sendMessage', payload: { text: env.t(key), parse_mode: 'HTML' } },
});

/** Renderers for notices and staff changes. */
export function createNoticeRenderers() {
  return {
    notice: createNoticeRenderer(createNoticeCache()),
    'staff.revoked': simple('staff.revokedNotice'),
    'staff.promoted': simple('staff.promotedNotice'),
  } satisfies RendererGroup;
}
