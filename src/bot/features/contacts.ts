import { Composer, InlineKeyboard } from 'grammy';
import type { Message } from 'grammy/types';
import { z } from 'zod';
import {
  acceptContact,
  declineContact,
  endContact,
  findContactByReply,
  findOpenContact,
  listOpenContacts,
  type OpenContact,
  RELAY_TEXT_MAX,
  relayMessage,
  requestContact,
} from '../../domain/contacts';
import { DomainError } from '../../domain/errors';
import { refusalText } from '../errors';
import { displayName, postLabel, postLabelFor } from '../../presentation/labels';
import { contactData } from '../../presentation/callback-data/contacts';
import { type Context, requireUser } from '../context';
import { answerStale, defineDialog, showScreen } from '../dialog';
import { shorten } from '../../presentation/format';
import { explainVerificationRequired } from './verification';

const pendingSchema = z.object({ sourceMessageId: z.number().int(), text: z.string().nullable(), photoFileId: z.string().nullable() });
/** With several open conversations: the message waits here until the user picks where it goes. */
const chooser = defineDialog({ name: 'relay', steps: z.enum(['choose']), data: pendingSchema });

/** Offering help, accepting or declining, the anonymous relay and /end. */
export const contactsFeature = new Composer<Context>();

function labelFor(ctx: Context, open: OpenContact): string {
  const name = displayName(open.partner, ctx.t('contacts.someone'));
  return `${name} · ${postLabelFor({ city: ctx.deps.city, locale: ctx.locale, t: ctx.t }, open.post, requireUser(ctx).id)}`;
}

contactsFeature.callbackQuery(contactData.filter, async (ctx) => {
  const data = contactData.decode(ctx.callbackQuery.data);
  if (!data) return answerStale(ctx);
  const user = requireUser(ctx);
  const { db, clock } = ctx.deps;
  try {
    switch (data.action) {
      case 'req': {
        const { post } = await requestContact(db, clock, user, data.id, { isProtected: (c) => ctx.deps.city.isProtected(c) });
        ctx.deps.delivery.wake();
        await ctx.answerCallbackQuery({ text: ctx.t('contacts.requestedToast') });
        await ctx.reply(ctx.t(`contacts.requested.${post.kind}`, { label: postLabel({ city: ctx.deps.city, locale: ctx.locale }, post) }));
        return;
      }
      case 'acc': {
        const { responder, post, contact } = await acceptContact(db, clock, user, data.id, { followUpAfterMs: ctx.deps.config.FOLLOW_UP_AFTER });
        ctx.deps.delivery.wake();
        await ctx.answerCallbackQuery();
        const keyboard = new InlineKeyboard().text(ctx.t('contacts.endButton'), contactData.encode({ action: 'ask', id: contact.id }));
        await showScreen(
          ctx,
          // A need taken for someone without Telegram: the Lotse is reminded for whom.
          (post.intakeName !== null ? `${ctx.t('intake.forPerson', { name: post.intakeName })}\n` : '') +
            ctx.t('contacts.acceptedByYou', { name: displayName(responder, ctx.t('contacts.someone')), label: postLabel({ city: ctx.deps.city, locale: ctx.locale }, post) }),
          keyboard,
        );
        return;
      }
      case 'dec': {
        await declineContact(db, clock, user, data.id);
        ctx.deps.delivery.wake();
        await ctx.answerCallbackQuery();
        await showScreen(ctx, ctx.t('contacts.declinedByYou'));
        return;
      }
      case 'ask': {
        const open = await findOpenContact(db, user.id, data.id);
        await ctx.answerCallbackQuery();
        await ctx.reply(ctx.t('contacts.endQuestion', { label: labelFor(ctx, open) }), { reply_markup: endKeyboard(ctx, data.id) });
        return;
      }
      case 'end':
      case 'block': {
        const open = await endContact(db, clock, user, data.id, { block: data.action === 'block' });
        ctx.deps.delivery.wake();
        await ctx.answerCallbackQuery();
        await showScreen(ctx, ctx.t(data.action === 'block' ? 'contacts.endedAndBlocked' : 'contacts.endedByYou', { label: labelFor(ctx, open) }));
        return;
      }
      case 'to': {
        const pending = chooser.forButton(ctx);
        if (!pending) return await answerStale(ctx);
        await relayMessage(db, clock, user, data.id, pending.data, { translate: ctx.deps.config.TRANSLATE_URL !== undefined });
        await chooser.end(ctx);
        ctx.deps.delivery.wake();
        await ctx.answerCallbackQuery({ text: ctx.t('contacts.sentToast') });
        const open = await findOpenContact(db, user.id, data.id);
        await showScreen(ctx, ctx.t('contacts.sentTo', { label: labelFor(ctx, open) }));
        return;
      }
    }
  } catch (err) {
    if (err instanceof DomainError) {
      await ctx.answerCallbackQuery({ text: refusalText(ctx.t, err), show_alert: true });
      // Not verified for a protected category: the way to get verified, one tap away.
      if (err.key === 'verification.errors.required') await explainVerificationRequired(ctx);
      return;
    }
    throw err;
  }
});

function endKeyboard(ctx: Context, contactId: number): InlineKeyboard {
  return new InlineKeyboard()
    .text(ctx.t('contacts.endConfirm'), contactData.encode({ action: 'end', id: contactId }))
    .row()
    .text(ctx.t('contacts.endAndBlock'), contactData.encode({ action: 'block', id: contactId }));
}

contactsFeature.command('end', async (ctx) => {
  const user = requireUser(ctx);
  const open = await listOpenContacts(ctx.deps.db, user.id);
  if (open.length === 0) {
    await ctx.reply(ctx.t('contacts.noneOpen'));
    return;
  }
  if (open.length === 1) {
    await ctx.reply(ctx.t('contacts.endQuestion', { label: labelFor(ctx, open[0]!) }), { reply_markup: endKeyboard(ctx, open[0]!.contact.id) });
    return;
  }
  const keyboard = new InlineKeyboard();
  for (const o of open) keyboard.text(shorten(labelFor(ctx, o), 60), contactData.encode({ action: 'ask', id: o.contact.id })).row();
  await ctx.reply(ctx.t('contacts.whichToEnd'), { reply_markup: keyboard });
});

/**
 * Everything a user sends outside a dialog goes to their open conversation: the one they reply to,
 * their only one, or — with several — the one they pick. Only text and photos are passed on.
 */
contactsFeature.on('message', async (ctx, next) => {
  const message = ctx.message;
  if (message.text?.startsWith('/')) return next();
  const user = requireUser(ctx);
  const { db, clock } = ctx.deps;
  const open = await listOpenContacts(db, user.id);
  if (open.length === 0) return next();

  const text = message.text ?? message.caption ?? null;
  const photoFileId = message.photo?.at(-1)?.file_id ?? null;
  if (text === null && photoFileId === null) {
    await ctx.reply(ctx.t('contacts.onlyTextAndPhotos'));
    return;
  }
  if (text !== null && [...text].length > RELAY_TEXT_MAX) {
    await ctx.reply(ctx.t('contacts.errors.tooLong', { max: RELAY_TEXT_MAX }));
    return;
  }
  const repliedTo = (message as Message).reply_to_message?.message_id;
  const input = { sourceMessageId: message.message_id, text, photoFileId };

  let contactId: number | undefined;
  if (repliedTo !== undefined) {
    const target = await findContactByReply(db, user.id, repliedTo);
    if (target !== undefined && open.some((o) => o.contact.id === target)) contactId = target;
  }
  if (contactId === undefined && open.length === 1) contactId = open[0]!.contact.id;
  if (contactId === undefined) {
    const keyboard = new InlineKeyboard();
    for (const o of open) keyboard.text(shorten(labelFor(ctx, o), 60), contactData.encode({ action: 'to', id: o.contact.id })).row();
    const sent = await ctx.reply(ctx.t('contacts.chooseRecipient'), { reply_markup: keyboard, reply_parameters: { message_id: message.message_id } });
    await chooser.remember(ctx, 'choose', input, sent.message_id);
    return;
  }
  try {
    await relayMessage(db, clock, user, contactId, { ...input, repliedToMessageId: repliedTo ?? null }, { translate: ctx.deps.config.TRANSLATE_URL !== undefined });
  } catch (err) {
    if (err instanceof DomainError) {
      await ctx.reply(refusalText(ctx.t, err));
      return;
    }
    throw err;
  }
  ctx.deps.delivery.wake();
  // A quiet confirmation on the user's own message instead of another message in the chat.
  await ctx.api.setMessageReaction(ctx.chat.id, message.message_id, [{ type: 'emoji', emoji: '👌' }]).catch(() => undefined);
});
