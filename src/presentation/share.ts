import { InlineKeyboard } from 'grammy';
import type { PostRow } from '../db/schema';
import { escapeHtml } from '../i18n';
import { createDeepLink, createPostPayload } from './callback-data/deep-link';
import type { CardEnv, CardPost } from './post';
import { renderPostCard } from './post';

type SharedPost = CardPost;

/**
 * A post as it is shown outside the bot — mirrored into a channel or group, or shared through inline mode:
 * the same anonymous card as in /browse (never the author's name, username or id; a protected category
 * marked 🔒 with who may answer), and one button that opens the post in the bot.
 */
export function renderSharedCard(env: CardEnv, post: SharedPost, botUsername: string): { text: string; keyboard: InlineKeyboard } {
  const { t } = env;
  const locked = post.kind === 'need' && env.city.isProtected(post.category);
  const lines = [t(`share.header.${post.kind}`), renderPostCard(env, post, 'none')];
  if (locked) lines.push(t('share.protected'));
  const keyboard = new InlineKeyboard().url(t('share.open'), createDeepLink(botUsername, createPostPayload(post.id)));
  return { text: lines.join('\n'), keyboard };
}

/** The one line that still names a post whose card ended: category, district and number. */
function endedLine(env: CardEnv, post: Pick<PostRow, 'id' | 'category' | 'district'>): string {
  return `${escapeHtml(env.city.categoryLabel(post.category, env.locale))} · 📍 ${escapeHtml(env.city.districtName(post.district, env.locale))} · #${post.id}`;
}

/** The card once its post found help: no text, no button, only that it is done. */
export function renderSharedDone(env: CardEnv, post: Pick<PostRow, 'id' | 'kind' | 'category' | 'district'>): string {
  return `${env.t(`share.done.${post.kind}`)}\n${endedLine(env, post)}`;
}

/** The card of a post that ended otherwise, where it can no longer be deleted (Telegram allows 48 hours). */
export function renderSharedGone(env: CardEnv, post: Pick<PostRow, 'id' | 'category' | 'district'>): string {
  return `${env.t('share.gone')}\n${endedLine(env, post)}`;
}
