import { InlineKeyboard } from 'grammy';
import type { CityDirectory } from '../city';
import type { Clock } from '../clock';
import type { Locale } from '../config';
import type { NoticeRow } from '../db/schema';
import { type NoticeProgress, pickNoticeText } from '../domain/notices';
import { escapeHtml, type TFunction, type Translator } from '../i18n';
import { noticeData } from './callback-data/notices';
import { formatDate } from './format';

/** A notice as its recipients see it: organisation with the verified mark, then the text as written. */
export function renderNoticeText(env: { t: TFunction }, notice: Pick<NoticeRow, 'organisation' | 'texts'>, locale: string): string | null {
  const picked = pickNoticeText(notice.texts, locale);
  if (!picked) return null;
  const header = env.t('notices.header', { organisation: notice.organisation });
  const language = picked.locale === locale ? '' : `\n<i>${env.t('notices.otherLanguage', { language: env.t(`common.languageNames.${picked.locale}`) })}</i>`;
  return `${header}${language}\n\n${escapeHtml(picked.text)}`;
}

/** What the progress text needs to know besides the notice. */
export interface ProgressTextEnv {
  i18n: Translator;
  city: CityDirectory;
  clock: Clock;
  /** Messages per second the whole bot sends (for the estimated end). */
  rate: number;
}

/** The progress text in the sender's language. */
export function renderProgress(env: ProgressTextEnv, locale: Locale, notice: NoticeRow, p: NoticeProgress, final: boolean): string {
  const t = env.i18n.fixed(locale);
  const lines = [
    t(final ? (notice.status === 'cancelled' ? 'notices.progress.stopped' : 'notices.progress.done') : 'notices.progress.sending', { id: notice.id }),
    t('notices.progress.counts', { delivered: p.delivered, total: p.total, unreachable: p.unreachable, failed: p.failed }),
  ];
  if (!final) {
    const eta = new Date(env.clock.now().getTime() + Math.ceil(p.remaining / Math.max(1, env.rate)) * 1000);
    lines.push(t('notices.progress.remaining', { remaining: p.remaining, eta: formatDate(eta, locale, env.city.timezone, true) }));
  } else if (p.cancelled > 0) {
    lines.push(t('notices.progress.notSent', { count: p.cancelled }));
  }
  if (p.possibleDuplicates > 0) lines.push(t('notices.progress.duplicates', { count: p.possibleDuplicates }));
  return lines.join('\n');
}

/** The stop button under a progress message that is still counting. */
export function createProgressKeyboard(t: TFunction, noticeId: number): InlineKeyboard {
  return new InlineKeyboard().text(t('notices.stop'), noticeData.encode({ action: 'stop', id: noticeId }));
}
