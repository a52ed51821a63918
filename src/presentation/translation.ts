import { InlineKeyboard } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { PostRow, TranslationRow } from '../db/schema';
import { escapeHtml, type TFunction } from '../i18n';
import { reportData } from './callback-data/reports';
import { translationData } from './callback-data/translation';
import { shorten } from './format';

/** How a text is shown to one reader: as translated, or as written (with a note when a translation is coming). */
export type TextView = { show: 'translation'; text: string; source: string } | { show: 'original'; pending?: boolean };

/** The stored translation of a post for a reader, if the post is in another language and it is current. */
export function pickPostTranslation(post: Pick<PostRow, 'language' | 'textHash'>, rows: readonly TranslationRow[], locale: string): TranslationRow | undefined {
  if (post.language === locale || !post.textHash) return undefined;
  return rows.find((r) => r.target === locale && r.sourceHash === post.textHash);
}

/** "🌐 machine translation from Ukrainian", the language named in the reader's language. */
export function translationMark(t: TFunction, source: string): string {
  return t('translation.mark', { from: t(`translation.from.${source}`) });
}

/** The button that switches a message between translation and original, or null when there is nothing to switch. */
export function translationToggle(t: TFunction, view: TextView, where: { view: 'n' | 'd' | 'r'; id: number }, translatable: boolean): { text: string; callback_data: string } | null {
  if (view.show === 'translation') return { text: t('translation.showOriginal'), callback_data: translationData.encode({ show: 'o', view: where.view, id: where.id }) };
  if (translatable && !view.pending) return { text: t('translation.showTranslation'), callback_data: translationData.encode({ show: 't', view: where.view, id: where.id }) };
  return null;
}

/** A message's keyboard with its toggle replaced (the other buttons stay as they are). */
export function replaceTranslationToggle(markup: InlineKeyboardMarkup | undefined, toggle: { text: string; callback_data: string }): InlineKeyboard {
  const rows = (markup?.inline_keyboard ?? []).map((row) => row.map((b) => ('callback_data' in b && translationData.filter.test(b.callback_data) ? toggle : b)));
  const found = rows.some((row) => row.some((b) => 'callback_data' in b && b.callback_data === toggle.callback_data));
  const keyboard = new InlineKeyboard(rows);
  return found ? keyboard : keyboard.row().text(toggle.text, toggle.callback_data);
}

/** A relayed photo's header and text together; Telegram's captions hold 1024 characters. */
const RELAY_CAPTION_MAX = 1000;

/**
 * A relayed message as its recipient sees it: the bot's header naming the post, the text (escaped,
 * shortened to fit a caption), and the translation mark or note. Shared by the relay and its edit.
 */
export function relayBody(env: { t: TFunction }, header: string, body: string | null, view: TextView, caption: boolean): string {
  const shown = view.show === 'translation' ? view.text : body;
  const note = view.show === 'translation' ? `<i>${translationMark(env.t, view.source)}</i>` : view.pending ? `<i>${env.t('translation.follows')}</i>` : '';
  if (!shown) return note ? `${header}\n\n${note}` : header;
  const room = caption ? RELAY_CAPTION_MAX - [...header].length - [...note].length - 4 : Infinity;
  const text = [...shown].length > room ? shorten(shown, room) : shown;
  return [header, escapeHtml(text), note].filter(Boolean).join('\n\n');
}

/** The keyboard under a relayed message: report, and the translation buttons that apply. */
export function relayKeyboard(env: { t: TFunction }, relayMessageId: number, buttons: { text: string; callback_data: string }[]): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  for (const b of buttons) keyboard.text(b.text, b.callback_data).row();
  return keyboard.text(env.t('moderation.reportButton'), reportData.encode({ target: 'relay', id: relayMessageId, reason: '-' }));
}

