import { eq } from 'drizzle-orm';
import type { Locale } from '../config';
import type { OutboxRow, PostRow, RelayMessageRow, TranslationJobRow, TranslationRow } from '../db/schema';
import { PRIORITY, relayMessages } from '../db/schema';
import { enqueue, OUTBOX_KINDS } from '../domain/outbox';
import { isActive } from '../domain/posts';
import { loadContact } from '../domain/contacts';
import { findPostJobs, findPostTranslations, findRelayJob, findRelayTranslation, isConversationTranslationOff, releaseIfJobEnded, WAITING_FOR_TRANSLATION } from '../domain/translations';
import { conversationTranslationData } from '../presentation/callback-data/translation';
import { relayHeader } from '../presentation/labels';
import { detectLanguage } from '../translate/detect';
import { CAPTION_LIMIT, createPostActionsKeyboard, renderPostCard } from '../presentation/post';
import { pickPostTranslation, relayBody, relayKeyboard, type TextView, translationToggle } from '../presentation/translation';
import type { RenderBatch } from './render-batch';
import type { Renderer, RenderEnv, RenderResult, RendererGroup } from './render';

/** How long a message that went out with the original waits before it looks again for its translation. */
const EDIT_RECHECK_MS = 60_000;

interface PostTexts {
  translations: TranslationRow[];
  job?: TranslationJobRow;
}

// Per claimed batch: a post routed to 250 people costs two queries for its translations, not 500.
const batchTexts = new WeakMap<RenderBatch, Map<number, Promise<PostTexts>>>();

function postTexts(env: RenderEnv, postId: number): Promise<PostTexts> {
  let perBatch = batchTexts.get(env.batch);
  if (!perBatch) {
    perBatch = new Map();
    batchTexts.set(env.batch, perBatch);
  }
  let texts = perBatch.get(postId);
  if (!texts) {
    texts = Promise.all([findPostTranslations(env.db, [postId]), findPostJobs(env.db, [postId])]).then(([translations, jobs]) => ({ translations, job: jobs[0] }));
    perBatch.set(postId, texts);
  }
  return texts;
}

/** How a post's text is shown to this recipient, with its toggle; or "wait a little for the translation". */
export type PostTextDecision = { view: TextView; toggle: { text: string; callback_data: string } | null } | { reschedule: Date; reason: string };

/**
 * The one rule for showing a post's text to a reader at delivery: as written when it is in the reader's
 * language or translation is off; the stored translation when there is one; otherwise, while the job is
 * still working and the engine is up, wait (at most TRANSLATE_WAIT after the message was queued), and
 * after that the original with a note that the translation follows.
 */
export async function decidePostText(env: RenderEnv, row: Pick<OutboxRow, 'createdAt'>, post: PostRow, options: { wait: boolean; view: 'n' | 'd' }): Promise<PostTextDecision> {
  const original = { view: { show: 'original' } as TextView, toggle: null };
  if (!env.translation || post.text === null || post.language === env.locale) return original;
  const texts = await postTexts(env, post.id);
  const translation = pickPostTranslation(post, texts.translations, env.locale);
  if (translation) {
    const view: TextView = { show: 'translation', text: translation.text, source: translation.source };
    return { view, toggle: translationToggle(env.t, view, { view: options.view, id: post.id }, true) };
  }
  const job = texts.job;
  if (job?.status !== 'pending' || !job.targets.includes(env.locale)) return original;
  if (options.wait && env.translation.available()) {
    const deadline = new Date(row.createdAt.getTime() + env.translation.waitMs);
    if (env.clock.now() < deadline) {
      env.translation.kick();
      return { reschedule: deadline, reason: WAITING_FOR_TRANSLATION };
    }
  }
  return { view: { show: 'original', pending: true }, toggle: null };
}

/** After a post's notification went out with the original: its edit, due when the translation is stored. */
export function editWhenTranslated(env: RenderEnv, post: PostRow, caption: boolean): (messageId: number) => Promise<void> {
  return async (messageId) => {
    await enqueue(env.db, env.clock, [
      {
        userId: env.recipient.id,
        chatId: env.recipient.telegramId,
        kind: OUTBOX_KINDS.postTranslated,
        priority: PRIORITY.notification,
        payload: { messageId, caption },
        postId: post.id,
        notBefore: new Date(env.clock.now().getTime() + EDIT_RECHECK_MS),
      },
    ]);
    await releaseIfJobEnded(env.db, env.clock, { postId: post.id });
  };
}

/** Edits a notification that went out with the original into its translation, once it is stored. */
const renderPostTranslated: Renderer<'post.translated'> = async (row, { messageId, caption }, env): Promise<RenderResult> => {
  const post = row.postId ? await env.batch.post(row.postId) : undefined;
  if (!post || !isActive(post)) return { skip: 'cancelled', reason: 'post no longer open' };
  if (!env.translation) return { skip: 'cancelled', reason: 'translation switched off' };
  const texts = await postTexts(env, post.id);
  const translation = pickPostTranslation(post, texts.translations, env.locale);
  if (!translation) {
    if (texts.job?.status === 'pending') {
      const later = Math.max(texts.job.notBefore.getTime(), env.clock.now().getTime() + EDIT_RECHECK_MS);
      return { reschedule: new Date(later), reason: WAITING_FOR_TRANSLATION };
    }
    return { skip: 'cancelled', reason: 'no translation could be made' };
  }
  const view: TextView = { show: 'translation', text: translation.text, source: translation.source };
  const card = renderPostCard({ t: env.t, locale: env.locale, city: env.city, now: env.clock.now() }, post, 'notification', view);
  if (caption && [...card].length > CAPTION_LIMIT) return { skip: 'cancelled', reason: 'translation too long for a caption' };
  const keyboard = createPostActionsKeyboard(env.t, post, { photoButton: !caption, answers: true, toggle: translationToggle(env.t, view, { view: 'n', id: post.id }, true) });
  return {
    send: caption
      ? { method: 'editMessageCaption', payload: { message_id: messageId, caption: card, parse_mode: 'HTML', reply_markup: keyboard } }
      : { method: 'editMessageText', payload: { message_id: messageId, text: card, parse_mode: 'HTML', link_preview_options: { is_disabled: true }, reply_markup: keyboard } },
  };
};

/** A relayed message's text for its recipient, the buttons that go with it, or "wait a little". */
export type RelayTextDecision = { view: TextView; buttons: { text: string; callback_data: string }[] } | { reschedule: Date; reason: string };

/**
 * The rule for a relayed message: as written when it is in the reader's language, translation is off, or
 * the reader switched it off for this conversation (then with a button to switch it on again); else the
 * stored translation, or a short wait for it (TRANSLATE_WAIT), or the original with a note.
 */
export async function decideRelayText(env: RenderEnv, row: Pick<OutboxRow, 'createdAt'>, message: RelayMessageRow, senderLocale: string, options: { wait: boolean }): Promise<RelayTextDecision> {
  const original: RelayTextDecision = { view: { show: 'original' }, buttons: [] };
  if (!env.translation || message.text === null) return original;
  if (detectLanguage(message.text, senderLocale as Locale).language === env.locale) return original;
  if (await isConversationTranslationOff(env.db, env.recipient.id, message.contactId)) {
    return { view: { show: 'original' }, buttons: [{ text: env.t('translation.conversationOn'), callback_data: conversationTranslationData.encode({ action: 'on', id: message.contactId }) }] };
  }
  const off = { text: env.t('translation.conversationOff'), callback_data: conversationTranslationData.encode({ action: 'off', id: message.contactId }) };
  const translation = await findRelayTranslation(env.db, message.id, env.locale);
  if (translation) {
    const view: TextView = { show: 'translation', text: translation.text, source: translation.source };
    return { view, buttons: [translationToggle(env.t, view, { view: 'r', id: message.id }, true)!, off] };
  }
  const job = await findRelayJob(env.db, message.id);
  if (job?.status !== 'pending' || !job.targets.includes(env.locale)) return original;
  if (options.wait && env.translation.available()) {
    const deadline = new Date(row.createdAt.getTime() + env.translation.waitMs);
    if (env.clock.now() < deadline) {
      env.translation.kick();
      return { reschedule: deadline, reason: WAITING_FOR_TRANSLATION };
    }
  }
  return { view: { show: 'original', pending: true }, buttons: [off] };
}

/** After a relayed message went out with the original: its edit, due when the translation is stored. */
export function editRelayWhenTranslated(env: RenderEnv, message: RelayMessageRow, caption: boolean): (messageId: number) => Promise<void> {
  return async (messageId) => {
    await enqueue(env.db, env.clock, [
      {
        userId: env.recipient.id,
        chatId: env.recipient.telegramId,
        kind: OUTBOX_KINDS.relayTranslated,
        priority: PRIORITY.interactive,
        payload: { relayMessageId: message.id, contactId: message.contactId, messageId, caption },
        notBefore: new Date(env.clock.now().getTime() + EDIT_RECHECK_MS),
      },
    ]);
    await releaseIfJobEnded(env.db, env.clock, { relayMessageId: message.id });
  };
}

const renderRelayTranslated: Renderer<'relay.translated'> = async (_row, { relayMessageId, messageId, caption }, env): Promise<RenderResult> => {
  if (!env.translation) return { skip: 'cancelled', reason: 'translation switched off' };
  const [message] = await env.db.select().from(relayMessages).where(eq(relayMessages.id, relayMessageId));
  if (!message?.text) return { skip: 'cancelled', reason: 'message gone' };
  const loaded = await loadContact(env.db, message.contactId);
  if (!loaded) return { skip: 'cancelled', reason: 'contact gone' };
  const sender = message.senderId === loaded.author.id ? loaded.author : loaded.responder;
  const decision = await decideRelayText(env, _row, message, sender.locale, { wait: false });
  if ('reschedule' in decision) return decision;
  if (decision.view.show !== 'translation') {
    const job = await findRelayJob(env.db, message.id);
    if (job?.status === 'pending' && !(await isConversationTranslationOff(env.db, env.recipient.id, message.contactId))) {
      return { reschedule: new Date(Math.max(job.notBefore.getTime(), env.clock.now().getTime() + EDIT_RECHECK_MS)), reason: WAITING_FOR_TRANSLATION };
    }
    return { skip: 'cancelled', reason: 'no translation could be made' };
  }
  const header = relayHeader(env, sender, loaded.post, message.recipientId);
  const body = relayBody(env, header, message.text, decision.view, caption);
  const keyboard = relayKeyboard(env, message.id, decision.buttons);
  return {
    send: caption
      ? { method: 'editMessageCaption', payload: { message_id: messageId, caption: body, parse_mode: 'HTML', reply_markup: keyboard } }
      : { method: 'editMessageText', payload: { message_id: messageId, text: body, parse_mode: 'HTML', link_preview_options: { is_disabled: true }, reply_markup: keyboard } },
  };
};

/** The renderers of the translation edits. */
export function createTranslationRenderers() {
  return {
    [OUTBOX_KINDS.postTranslated]: renderPostTranslated,
    [OUTBOX_KINDS.relayTranslated]: renderRelayTranslated,
  } satisfies RendererGroup;
}
