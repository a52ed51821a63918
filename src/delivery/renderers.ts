import { and, eq, inArray, sql } from 'drizzle-orm';
import { InlineKeyboard } from 'grammy';
import { contactData } from '../presentation/callback-data/contacts';
import { postData } from '../presentation/callback-data/posts';
import { menuButton } from '../presentation/callback-data/menu';
import { formatDate, shorten } from '../presentation/format';
import { createPostActionsKeyboard, postMessage, renderPostCard } from '../presentation/post';
import { loadContact, markRelayDelivered } from '../domain/contacts';
import { isIntake } from '../domain/intake';
import { enqueue, OUTBOX_KINDS } from '../domain/outbox';
import { isActive } from '../domain/posts';
import { effectiveQuietHours, localDay, nextMorning, quietUntil } from '../domain/time';
import { outbox, posts, PRIORITY, relayMessages, users, type OutboxRow } from '../db/schema';
import type { Renderer, RenderEnv, RenderResult, RendererGroup } from './render';
import { displayName, postLabel, postLabelFor, relayHeader } from '../presentation/labels';
import { escapeHtml } from '../i18n';
import { relayBody, relayKeyboard } from '../presentation/translation';
import { decidePostText, decideRelayText, editRelayWhenTranslated, editWhenTranslated } from './translation';

function text(textValue: string, keyboard?: InlineKeyboard): RenderResult {
  return {
    send: {
      method: 'sendMessage',
      payload: { text: textValue, parse_mode: 'HTML', link_preview_options: { is_disabled: true }, ...(keyboard ? { reply_markup: keyboard } : {}) },
    },
  };
}

function cancelled(reason: string): RenderResult {
  return { skip: 'cancelled', reason };
}

/** Quiet hours and the daily cap of one recipient, checked when a notification is about to go out. */
async function notificationGate(env: RenderEnv): Promise<RenderResult | null> {
  const { recipient, clock, config, city, db } = env;
  const now = clock.now();
  if (recipient.notificationsPaused || (recipient.pausedUntil && recipient.pausedUntil > now)) return cancelled('notifications paused');
  const quiet = effectiveQuietHours(recipient, config.QUIET_HOURS);
  const until = quietUntil(now, city.timezone, quiet);
  if (until) return { reschedule: until, reason: 'quiet hours' };
  const today = localDay(now, city.timezone);
  const cap = recipient.dailyCap ?? config.DAILY_NOTIFICATION_CAP;
  // One atomic step counts the notification if the day's cap allows it (correct with several workers
  // and several notifications for the same person in one batch).
  const counted = await db
    .update(users)
    .set({
      notifiedDay: today,
      notifiedCount: sql`case when ${users.notifiedDay} = ${today} then ${users.notifiedCount} + 1 else 1 end`,
    })
    .where(and(eq(users.id, recipient.id), sql`(${users.notifiedDay} is distinct from ${today} or ${users.notifiedCount} < ${cap})`))
    .returning({ count: users.notifiedCount });
  if (counted.length === 0) {
    await enqueue(db, clock, [
      {
        userId: recipient.id,
        chatId: recipient.telegramId,
        kind: OUTBOX_KINDS.digest,
        priority: PRIORITY.notification,
        payload: { day: today },
        notBefore: nextMorning(now, city.timezone, quiet),
        dedupeKey: `digest:${recipient.id}:${today}`,
      },
    ]);
    return { skip: 'deferred', reason: 'daily cap reached' };
  }
  return null;
}

/** The post a row refers to, from the batch (loaded once for all rows of the batch). */
async function postOf(row: OutboxRow, env: RenderEnv) {
  return row.postId ? env.batch.post(row.postId) : undefined;
}

const renderPostNotification: Renderer<'post.notify'> = async (row, _payload, env) => {
  const post = await postOf(row, env);
  if (!post || !isActive(post)) return cancelled('post no longer open');
  if (await env.batch.isBlocked(post.authorId, env.recipient.id)) return cancelled('blocked');
  // Queued while verified (quiet hours, a cap), withdrawn since: a protected need no longer goes out.
  if (post.kind === 'need' && env.city.isProtected(post.category) && !(await env.batch.isVerifiedHelper(env.recipient.id))) return cancelled('no longer verified');
  // Before the daily cap counts it: a notification that waits for its translation is not sent yet.
  const text = await decidePostText(env, row, post, { wait: true, view: 'n' });
  if ('reschedule' in text) return text;
  const gate = await notificationGate(env);
  if (gate) return gate;
  const card = renderPostCard({ t: env.t, locale: env.locale, city: env.city, now: env.clock.now() }, post, 'notification', text.view);
  const message = postMessage(card, post.photoFileId);
  const keyboard = createPostActionsKeyboard(env.t, post, { photoButton: !message.photoInline, answers: true, toggle: text.toggle });
  const pending = text.view.show === 'original' && text.view.pending === true;
  return { send: { method: message.method, payload: { ...message.payload, reply_markup: keyboard } }, ...(pending ? { afterSend: editWhenTranslated(env, post, message.photoInline) } : {}) };
};

const renderDigest: Renderer<'digest'> = async (_row, _payload, env) => {
  const { db, recipient, t } = env;
  const deferred = await db
    .select({ outboxId: outbox.id, post: posts })
    .from(outbox)
    .innerJoin(posts, eq(posts.id, outbox.postId))
    .where(and(eq(outbox.userId, recipient.id), eq(outbox.status, 'deferred'), eq(outbox.kind, OUTBOX_KINDS.postNotify)))
    .orderBy(outbox.id);
  if (deferred.length > 0) {
    await db
      .update(outbox)
      .set({ status: 'digested' })
      .where(inArray(outbox.id, deferred.map((d) => d.outboxId)));
  }
  const open = deferred.filter((d) => isActive(d.post));
  if (open.length === 0) return cancelled('nothing left to summarise');
  const shown = open.slice(0, 10);
  const lines = [t('digest.title', { count: open.length }), ''];
  const keyboard = new InlineKeyboard();
  shown.forEach((d, i) => {
    // A need a Lotse took for a person without Telegram is marked as on its card (never with the person's name).
    const lotse = isIntake(d.post) ? ` · ${t('digest.intake')}` : '';
    lines.push(`${i + 1}. ${escapeHtml(env.city.categoryLabel(d.post.category, env.locale))} · ${escapeHtml(env.city.districtName(d.post.district, env.locale))}${lotse}`);
    lines.push(`   ${escapeHtml(shorten(d.post.text ?? '', 90))}`);
    keyboard.text(String(i + 1), postData.encode({ action: 'view', postId: d.post.id }));
    if (i % 5 === 4) keyboard.row();
  });
  if (open.length > shown.length) lines.push('', t('digest.more', { count: open.length - shown.length }));
  lines.push('', t('digest.footer'));
  return text(lines.join('\n'), keyboard);
};

const renderExpiring: Renderer<'post.expiring'> = async (row, _payload, env) => {
  const post = await postOf(row, env);
  if (!post || !isActive(post) || !post.remindedAt) return cancelled('post renewed or closed');
  const keyboard = new InlineKeyboard()
    .text(env.t('posts.my.renew'), postData.encode({ action: 'renew', postId: post.id }))
    .row()
    .text(env.t(`posts.my.done.${post.kind}`), postData.encode({ action: 'done', postId: post.id }))
    .text(env.t('posts.my.close'), postData.encode({ action: 'close', postId: post.id }));
  return text(
    env.t(`posts.expiring.${post.kind}`, { label: postLabelFor(env, post, env.recipient.id), date: formatDate(post.expiresAt, env.locale, env.city.timezone), text: shorten(post.text ?? '', 120) }),
    keyboard,
  );
};

const renderExpired: Renderer<'post.expired'> = async (row, _payload, env) => {
  const post = await postOf(row, env);
  if (!post || post.status !== 'expired') return cancelled('post no longer expired');
  const keyboard = new InlineKeyboard().text(env.t('posts.my.republish'), postData.encode({ action: 'renew', postId: post.id }));
  return text(env.t(`posts.expired.${post.kind}`, { label: postLabelFor(env, post, env.recipient.id) }), keyboard);
};

const renderContactRequest: Renderer<'contact.request'> = async (_row, { contactId }, env) => {
  const loaded = await loadContact(env.db, contactId);
  if (!loaded || loaded.contact.status !== 'offered') return cancelled('request no longer open');
  if (!isActive(loaded.post)) return cancelled('post closed');
  const { contact, post, responder } = loaded;
  const keyboard = new InlineKeyboard()
    .text(env.t('contacts.accept'), contactData.encode({ action: 'acc', id: contact.id }))
    .text(env.t('contacts.decline'), contactData.encode({ action: 'dec', id: contact.id }));
  const key = post.kind === 'need' ? 'contacts.request.need' : 'contacts.request.offer';
  const request = env.t(key, { name: displayName(responder, env.t('contacts.someone')), label: postLabel(env, post), text: shorten(post.text ?? '', 160) });
  // A need taken for someone without Telegram: the Lotse (the author, the only recipient here) sees for whom.
  const person = post.intakeName !== null ? `${env.t('intake.forPerson', { name: post.intakeName })}\n` : '';
  return text(`${person}${request}`, keyboard);
};

const renderContactAccepted: Renderer<'contact.accepted'> = async (_row, { contactId }, env) => {
  const loaded = await loadContact(env.db, contactId);
  if (!loaded || loaded.contact.status !== 'accepted') return cancelled('conversation no longer open');
  const { post, author } = loaded;
  const keyboard = new InlineKeyboard().text(env.t('contacts.endButton'), contactData.encode({ action: 'ask', id: loaded.contact.id }));
  // The post's text in the responder's language when a translation is stored (no waiting: it is interactive).
  const shown = await decidePostText(env, _row, post, { wait: false, view: 'd' });
  const postText = 'view' in shown && shown.view.show === 'translation' ? `${shown.view.text}` : (post.text ?? '');
  return text(
    env.t(`contacts.accepted.${post.kind}`, { name: displayName(author, env.t('contacts.someone')), label: postLabel(env, post), text: shorten(postText, 300) }),
    keyboard,
  );
};

const renderContactOutcome = (key: 'declined' | 'ended' | 'cancelled'): Renderer<`contact.${typeof key}`> => async (_row, { contactId }, env) => {
  const loaded = await loadContact(env.db, contactId);
  if (!loaded) return cancelled('contact gone');
  const browse = new InlineKeyboard().text(env.t('contacts.browseMore'), menuButton('browse'));
  return text(env.t(`contacts.${key}`, { label: postLabelFor(env, loaded.post, env.recipient.id) }), key === 'ended' ? undefined : browse);
};

/** Two after-send steps, one after the other. */
function thenEdit(first: (messageId: number) => Promise<void>, second: (messageId: number) => Promise<void>): (messageId: number) => Promise<void> {
  return async (messageId) => {
    await first(messageId);
    await second(messageId);
  };
}

const renderRelay: Renderer<'relay'> = async (row, { relayMessageId, fromChatId, quote }, env) => {
  const [message] = await env.db.select().from(relayMessages).where(eq(relayMessages.id, relayMessageId));
  if (!message) return cancelled('message gone');
  const loaded = await loadContact(env.db, message.contactId);
  if (!loaded) return cancelled('contact gone');
  if (await env.batch.isBlocked(message.senderId, message.recipientId)) return cancelled('blocked');
  const sender = message.senderId === loaded.author.id ? loaded.author : loaded.responder;
  const decision = await decideRelayText(env, row, message, sender.locale, { wait: true });
  if ('reschedule' in decision) return decision;
  const header = relayHeader(env, sender, loaded.post, message.recipientId);
  const keyboard = relayKeyboard(env, message.id, decision.buttons);
  const pending = decision.view.show === 'original' && decision.view.pending === true;
  const markDelivered = (messageId: number) => markRelayDelivered(env.db, message.id, messageId);
  // The message it answers, quoted; if the recipient deleted it meanwhile, the message goes without the quote.
  const replyTo = quote !== undefined ? { reply_parameters: { message_id: quote, allow_sending_without_reply: true } } : {};
  if (message.photoFileId && fromChatId) {
    // The text is shortened before it is escaped (a cut through "&amp;" or a tag is HTML Telegram refuses),
    // so that the caption stays within Telegram's 1024 characters.
    const caption = relayBody(env, header, message.text, decision.view, true);
    const afterSend = pending ? thenEdit(markDelivered, editRelayWhenTranslated(env, message, true)) : markDelivered;
    // copyMessage, never forwardMessage: a forward could reveal the sender's account.
    return {
      send: {
        method: 'copyMessage',
        payload: { from_chat_id: fromChatId, message_id: message.sourceMessageId, caption, parse_mode: 'HTML', reply_markup: keyboard, ...replyTo },
      },
      afterSend,
    };
  }
  if (message.text === null) return cancelled('erased');
  const afterSend = pending ? thenEdit(markDelivered, editRelayWhenTranslated(env, message, false)) : markDelivered;
  const payload = { text: relayBody(env, header, message.text, decision.view, false), parse_mode: 'HTML', link_preview_options: { is_disabled: true }, reply_markup: keyboard, ...replyTo };
  return { send: { method: 'sendMessage', payload }, afterSend };
};

/** Renderers for everything the Suche & Biete features queue. */
export function createSucheBieteRenderers() {
  return {
    [OUTBOX_KINDS.postNotify]: renderPostNotification,
    [OUTBOX_KINDS.digest]: renderDigest,
    [OUTBOX_KINDS.postExpiring]: renderExpiring,
    [OUTBOX_KINDS.postExpired]: renderExpired,
    [OUTBOX_KINDS.contactRequest]: renderContactRequest,
    [OUTBOX_KINDS.contactAccepted]: renderContactAccepted,
    [OUTBOX_KINDS.contactDeclined]: renderContactOutcome('declined'),
    [OUTBOX_KINDS.contactEnded]: renderContactOutcome('ended'),
    [OUTBOX_KINDS.contactCancelled]: renderContactOutcome('cancelled'),
    [OUTBOX_KINDS.relay]: renderRelay,
  } satisfies RendererGroup;
}
