import type { Locale } from '../config';
import type { MirrorState, OutboxRow } from '../db/schema';
import { channelShows, channelSyncPayload, findMirror, recordMirror } from '../domain/channels';
import { isActive } from '../domain/posts';
import { renderSharedCard, renderSharedDone, renderSharedGone } from '../presentation/share';
import type { RenderEnv, RenderResult } from './render';

/** What a channel row's renderer may use: a renderer's environment without a recipient (a channel is no person). */
export type ChannelRenderEnv = Omit<RenderEnv, 'recipient' | 'locale' | 't' | 'batch'>;

/** Telegram lets a bot delete its messages for 48 hours; older cards are edited instead. */
const DELETABLE_MS = 47 * 3_600_000;

/**
 * Renders a `channel.sync` row: brings one card in a channel in line with its post, in the channel's
 * language, as the post is when the row is sent. A post still open gets its card (once), and a card whose
 * post was edited since is edited to the new content (a refusal because nothing changed counts as done; a
 * card someone deleted in the channel is not posted again); a fulfilled one's card becomes "✅ help found";
 * any other end (closed, expired, removed, erased) deletes the card, or edits it when it is too old to delete.
 */
export async function renderChannelRow(row: OutboxRow, env: ChannelRenderEnv): Promise<RenderResult> {
  const payload = channelSyncPayload.safeParse(row.payload);
  if (!payload.success || row.postId === null) return { skip: 'cancelled', reason: 'not a channel row' };
  const found = await findMirror(env.db, payload.data.channelId, row.postId);
  if (!found || found.channel.status !== 'active') return { skip: 'cancelled', reason: 'channel disconnected or lost' };
  const { channel, mirror, post, content } = found;
  const locale = channel.locale as Locale;
  const cardEnv = { t: env.i18n.fixed(locale), locale, city: env.city, now: env.clock.now() };
  const record = (state: MirrorState, shown: { messageId?: number; content?: string } = {}) => recordMirror(env.db, env.clock, channel.id, post.id, state, shown);
  if (isActive(post) && channelShows(channel, post)) {
    const card = renderSharedCard(cardEnv, post, env.botUsername);
    if (mirror.messageId === null) {
      if (mirror.state !== 'queued' && mirror.state !== 'closing') return { skip: 'cancelled', reason: 'card already handled' };
      return {
        send: { method: 'sendMessage', payload: { text: card.text, parse_mode: 'HTML', reply_markup: card.keyboard, link_preview_options: { is_disabled: true } } },
        afterSend: (messageId) => record('card', { messageId, content }),
      };
    }
    if (mirror.state === 'closing') {
      // Renewed before its card was taken back: the card stands; the sweep edits it if its content changed.
      await record('card');
      return { skip: 'cancelled', reason: 'post reopened before its card was taken back' };
    }
    if (mirror.state !== 'editing') return { skip: 'cancelled', reason: 'card already up to date' };
    return {
      send: { method: 'editMessageText', payload: { message_id: mirror.messageId, text: card.text, parse_mode: 'HTML', reply_markup: card.keyboard, link_preview_options: { is_disabled: true } } },
      afterSend: () => record('card', { content }),
      afterFailure: async (description) => {
        // Nothing to change (the same text again): as good as edited. Deleted in the channel: not posted again.
        if (/message is not modified/i.test(description)) return record('card', { content });
        if (/message to edit not found|MESSAGE_ID_INVALID/i.test(description)) return record('deleted');
        // Any other refusal: the card keeps its old content, and this version is not tried again.
        return record('card', { content });
      },
    };
  }
  if (mirror.messageId === null) {
    // The post ended (or moved to another district) before its card went out: nothing to take back.
    await record('gone');
    return { skip: 'cancelled', reason: 'post ended before its card was posted' };
  }
  if (mirror.state !== 'closing') return { skip: 'cancelled', reason: 'card already updated' };
  const edit = (text: string) => ({ method: 'editMessageText' as const, payload: { message_id: mirror.messageId, text, parse_mode: 'HTML', reply_markup: { inline_keyboard: [] } } });
  if (post.status === 'fulfilled') return { send: edit(renderSharedDone(cardEnv, post)), afterSend: () => record('done') };
  const age = env.clock.now().getTime() - (mirror.postedAt ?? row.createdAt).getTime();
  if (age >= DELETABLE_MS) return { send: edit(renderSharedGone(cardEnv, post)), afterSend: () => record('gone') };
  return { send: { method: 'deleteMessage', payload: { message_id: mirror.messageId } }, afterSend: () => record('gone') };
}
