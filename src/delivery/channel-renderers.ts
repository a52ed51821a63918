import type { Locale } from '../config';
import type { OutboxRow } from '../db/schema';
import { channelSyncPayload, findMirror, recordMirror } from '../domain/channels';
import { isActive } from '../domain/posts';
import { renderSharedCard, renderSharedDone, renderSharedGone } from '../presentation/share';
import type { RenderEnv, RenderResult } from './render';

/** What a channel row's renderer may use: a renderer's environment without a recipient (a channel is no person). */
export type ChannelRenderEnv = Omit<RenderEnv, 'recipient' | 'locale' | 't' | 'batch'>;

/** Telegram lets a bot delete its messages for 48 hours; older cards are edited instead. */
const DELETABLE_MS = 47 * 3_600_000;

/**
 * Renders a `channel.sync` row: brings one card in a channel in line with its post, in the channel's
 * language. A post still open gets its card (once); a fulfilled one's card becomes "✅ help found"; any
 * other end (closed, expired, removed, erased) deletes the card, or edits it when it is too old to delete.
 */
export async function renderChannelRow(row: OutboxRow, env: ChannelRenderEnv): Promise<RenderResult> {
  const payload = channelSyncPayload.safeParse(row.payload);
  if (!payload.success || row.postId === null) return { skip: 'cancelled', reason: 'not a channel row' };
  const found = await findMirror(env.db, payload.data.channelId, row.postId);
  if (!found || found.channel.status !== 'active') return { skip: 'cancelled', reason: 'channel disconnected or lost' };
  const { channel, mirror, post } = found;
  const locale = channel.locale as Locale;
  const cardEnv = { t: env.i18n.fixed(locale), locale, city: env.city, now: env.clock.now() };
  const record = (state: 'card' | 'done' | 'gone') => async (messageId: number) => recordMirror(env.db, env.clock, channel.id, post.id, state, messageId);
  if (isActive(post)) {
    if (mirror.state !== 'queued' || mirror.messageId !== null) return { skip: 'cancelled', reason: 'card already posted' };
    const card = renderSharedCard(cardEnv, post, env.botUsername);
    return {
      send: { method: 'sendMessage', payload: { text: card.text, parse_mode: 'HTML', reply_markup: card.keyboard, link_preview_options: { is_disabled: true } } },
      afterSend: record('card'),
    };
  }
  if (mirror.messageId === null) {
    // The post ended before its card went out: nothing to show, nothing to take back.
    await recordMirror(env.db, env.clock, channel.id, post.id, 'gone');
    return { skip: 'cancelled', reason: 'post ended before its card was posted' };
  }
  if (mirror.state !== 'closing') return { skip: 'cancelled', reason: 'card already updated' };
  const edit = (text: string) => ({ method: 'editMessageText' as const, payload: { message_id: mirror.messageId, text, parse_mode: 'HTML', reply_markup: { inline_keyboard: [] } } });
  if (post.status === 'fulfilled') return { send: edit(renderSharedDone(cardEnv, post)), afterSend: record('done') };
  const age = env.clock.now().getTime() - (mirror.postedAt ?? row.createdAt).getTime();
  if (age >= DELETABLE_MS) return { send: edit(renderSharedGone(cardEnv, post)), afterSend: record('gone') };
  return { send: { method: 'deleteMessage', payload: { message_id: mirror.messageId } }, afterSend: record('gone') };
}
