import { and, eq, isNull, lte, or } from 'drizzle-orm';
import { type Api, GrammyError } from 'grammy';
import { createProgressKeyboard, renderProgress } from '../presentation/notice';
import type { CityDirectory } from '../city';
import type { Clock } from '../clock';
import type { Locale } from '../config';
import type { Database } from '../db';
import { type NoticeRow, notices, users } from '../db/schema';
import { finishNoticeIfDone, noticeProgress, sendingNotices } from '../domain/notices';
import type { Translator } from '../i18n';
import { describeError, type Logger } from '../logger';

/** How often the sender's progress message is edited at most. */
export const PROGRESS_EVERY_MS = 3_000;

export interface ProgressEnv {
  db: Database;
  api: Api;
  clock: Clock;
  i18n: Translator;
  city: CityDirectory;
  logger: Logger;
  /** Messages per second the whole bot sends (for the estimated end). */
  rate: number;
}

/**
 * Edits the progress message of every notice being sent (every few seconds) and, when a notice is
 * complete, writes the final report and tells the sender. Each notice is claimed by one conditional
 * UPDATE, so that of several processes only one edits it per interval; nothing (no transaction, no
 * lock, no checked-out connection) is held while Telegram answers, so a database restart during a slow
 * edit costs one edit, never the process.
 */
export async function updateNoticeProgress(env: ProgressEnv, options: { force?: boolean } = {}): Promise<number> {
  const { db, clock } = env;
  let updated = 0;
  for (const notice of await sendingNotices(db)) {
    const now = clock.now();
    const due = options.force
      ? undefined
      : or(isNull(notices.progressUpdatedAt), lte(notices.progressUpdatedAt, new Date(now.getTime() - PROGRESS_EVERY_MS)));
    const [claimed] = await db
      .update(notices)
      .set({ progressUpdatedAt: now })
      .where(and(eq(notices.id, notice.id), eq(notices.status, 'sending'), due))
      .returning();
    if (!claimed) continue;
    const finished = await finishNoticeIfDone(db, clock, notice.id);
    await showProgress(env, finished ? { ...claimed, status: 'done' } : claimed, finished);
    updated++;
  }
  return updated;
}

/** Edits one notice's progress message; with `final`, also sends a short report as a new message. */
export async function showProgress(env: ProgressEnv, notice: NoticeRow, final: boolean): Promise<void> {
  const { db, api, clock } = env;
  if (!notice.progressChatId || !notice.progressMessageId) return;
  const [author] = await db.select({ locale: users.locale }).from(users).where(eq(users.id, notice.authorId));
  const locale = (author?.locale ?? 'de') as Locale;
  const progress = await noticeProgress(db, notice.id);
  const text = renderProgress(env, locale, notice, progress, final);
  const keyboard = final ? undefined : createProgressKeyboard(env.i18n.fixed(locale), notice.id);
  try {
    await api.editMessageText(notice.progressChatId, notice.progressMessageId, text, { parse_mode: 'HTML', reply_markup: keyboard });
  } catch (err) {
    if (!(err instanceof GrammyError && err.description.includes('not modified'))) {
      env.logger.warn({ noticeId: notice.id, err: describeError(err) }, 'could not edit notice progress');
    }
  }
  await db.update(notices).set({ progressUpdatedAt: clock.now() }).where(eq(notices.id, notice.id));
  if (final) {
    // An edit makes no sound: the sender also gets a short message.
    await api
      .sendMessage(notice.progressChatId, text, { parse_mode: 'HTML', reply_parameters: { message_id: notice.progressMessageId, allow_sending_without_reply: true } })
      .catch((err) => env.logger.warn({ noticeId: notice.id, err: describeError(err) }, 'could not send notice report'));
  }
}
