import { InlineKeyboard } from 'grammy';
import type { CityDirectory } from '../city';
import type { Locale } from '../config';
import type { PostRow } from '../db/schema';
import { escapeHtml, type TFunction } from '../i18n';
import { contactData } from './callback-data/contacts';
import { postData } from './callback-data/posts';
import { reportData } from './callback-data/reports';
import { verifyRequestData } from './callback-data/verification';
import { waveData } from './callback-data/waves';
import { formatAge, formatDate } from './format';
import { type TextView, translationMark } from './translation';

/** Telegram's caption limit; longer cards go out as text with a "view photo" button. */
export const CAPTION_LIMIT = 1024;

export interface CardEnv {
  t: TFunction;
  locale: Locale;
  city: CityDirectory;
  now: Date;
}

export type CardHeader = 'notification' | 'preview' | 'own' | 'detail' | 'none';

/** What a card shows of a post. */
export type CardPost = Pick<
  PostRow,
  'id' | 'kind' | 'category' | 'district' | 'text' | 'language' | 'photoFileId' | 'publishedAt' | 'createdAt' | 'status' | 'expiresAt' | 'intakeLanguage' | 'intakeOrganisation'
>;

/**
 * "🧭 Posted by a Lotse (Caritas)": the line that marks a need a Lotse took for someone without Telegram,
 * on every card helpers see. It names the Lotse's organisation (or the city), never the person.
 */
export function renderIntakeMark(t: TFunction, post: Pick<PostRow, 'intakeLanguage' | 'intakeOrganisation'>): string | null {
  if (post.intakeLanguage === null) return null;
  return post.intakeOrganisation ? t('intake.card.byOrganisation', { organisation: post.intakeOrganisation }) : t('intake.card.byCity');
}

/**
 * "👤 For: Olena · Ukrainian (only you see the name)": whom a need taken on behalf of someone is for. Only
 * for the Lotse who wrote it (/my, the dialog); helpers, channels, shared cards and the web desk never get it.
 */
export function renderIntakePerson(t: TFunction, post: { intakeName: string | null; intakeLanguage: string | null }): string {
  return t('intake.dialog.person', { name: post.intakeName ?? '—', language: t(`common.languageNames.${post.intakeLanguage ?? 'de'}`) });
}

/**
 * A post as people see it: category, district, the author's text (as written and marked with its language,
 * or a stored machine translation marked as such), age and number. Never the author's name, username or id,
 * and never the name of the person a Lotse wrote it for (only that a Lotse did, and of which organisation).
 */
export function renderPostCard(
  env: CardEnv,
  post: CardPost,
  header: CardHeader,
  view: TextView = { show: 'original' },
): string {
  const { t, locale, city } = env;
  const lines: string[] = [];
  if (header !== 'none') lines.push(t(`posts.card.header.${header}.${post.kind}`));
  const mark = renderIntakeMark(t, post);
  if (mark) lines.push(mark);
  lines.push(`${escapeHtml(city.categoryLabel(post.category, locale))} · 📍 ${escapeHtml(city.districtName(post.district, locale))}`);
  lines.push('');
  const shown = view.show === 'translation' && post.text !== null ? view.text : post.text;
  lines.push(`<blockquote>${escapeHtml(shown ?? t('posts.card.erased'))}</blockquote>`);
  const meta = [
    view.show === 'translation' ? translationMark(t, view.source) : t('posts.card.language', { language: t(`common.languageNames.${post.language}`) }),
    header === 'preview' ? null : `🕒 ${formatAge(post.publishedAt ?? post.createdAt, env.now, locale)}`,
    header === 'preview' ? null : `#${post.id}`,
  ].filter(Boolean);
  lines.push(meta.join(' · '));
  if (view.show === 'original' && view.pending) lines.push(t('translation.follows'));
  if (post.photoFileId) lines.push(t('posts.card.hasPhoto'));
  if (header === 'own') {
    lines.push(t(`posts.status.${post.status}`, { date: formatDate(post.expiresAt, locale, city.timezone) }));
  }
  return lines.join('\n');
}

/**
 * The buttons under a post someone else wrote: contact, photo, report. `answers` adds a need
 * notification's "Not this time" and "Pause for a week" (src/domain/waves.ts), `toggle` the switch
 * between machine translation and original; `verifyFirst` replaces "I can help" by "Get verified" (a
 * protected category, a viewer who is not verified); `share` adds "📤 Share" (inline mode).
 */
export function createPostActionsKeyboard(
  t: TFunction,
  post: Pick<PostRow, 'id' | 'kind' | 'photoFileId'>,
  options: { photoButton: boolean; answers?: boolean; toggle?: { text: string; callback_data: string } | null; verifyFirst?: boolean; share?: boolean },
): InlineKeyboard {
  // A need of a protected category seen by someone not verified: the way to get verified instead of "I can help".
  const keyboard = options.verifyFirst
    ? new InlineKeyboard().text(t('verification.askButton'), verifyRequestData.encode({ action: 'ask' }))
    : new InlineKeyboard().text(t(post.kind === 'need' ? 'contacts.canHelp' : 'contacts.interested'), contactData.encode({ action: 'req', id: post.id }));
  if (options.answers && post.kind === 'need') {
    keyboard.row().text(t('waves.notThisTime'), waveData.encode({ action: 'no', id: post.id })).text(t('waves.pauseWeek'), waveData.encode({ action: 'pause', id: post.id }));
  }
  if (options.photoButton && post.photoFileId) keyboard.row().text(t('posts.viewPhoto'), postData.encode({ action: 'photo', postId: post.id }));
  // "Show original" / "Show translation" (src/presentation/translation.ts) above the report button.
  if (options.toggle) keyboard.row().text(options.toggle.text, options.toggle.callback_data);
  // "📤 Share": inline mode puts the post's anonymous card into a chat the reader picks (src/bot/features/inline.ts).
  if (options.share) keyboard.row().switchInline(t('share.button'), `#${post.id}`);
  keyboard.row().text(t('moderation.reportButton'), reportData.encode({ target: 'post', id: post.id, reason: '-' }));
  return keyboard;
}

/**
 * A post with its photo in one message when the card fits into a caption, else as text (the photo is
 * then one tap away).
 */
export function postMessage(card: string, photoFileId: string | null): { method: 'sendPhoto' | 'sendMessage'; payload: Record<string, unknown>; photoInline: boolean } {
  if (photoFileId && [...card].length <= CAPTION_LIMIT) {
    return { method: 'sendPhoto', payload: { photo: photoFileId, caption: card, parse_mode: 'HTML' }, photoInline: true };
  }
  return { method: 'sendMessage', payload: { text: card, parse_mode: 'HTML', link_preview_options: { is_disabled: true } }, photoInline: false };
}
