import { Composer, GrammyError, type InlineKeyboard } from 'grammy';
import { eq } from 'drizzle-orm';
import { relayMessages } from '../../db/schema';
import { loadContact } from '../../domain/contacts';
import { findPost, isActive } from '../../domain/posts';
import { findPostTranslations, findRelayTranslation, setConversationTranslation } from '../../domain/translations';
import { conversationTranslationData, translationData } from '../../presentation/callback-data/translation';
import { relayHeader } from '../../presentation/labels';
import { renderPostCard } from '../../presentation/post';
import { pickPostTranslation, relayBody, replaceTranslationToggle, type TextView } from '../../presentation/translation';
import { type Context, requireUser } from '../context';
import { answerStale } from '../dialog';

/**
 * "Show original" / "Show translation" on notifications, opened posts and relayed messages (edited in
 * place, the other buttons kept), and switching translation of the partner's messages off and on per
 * conversation. Forged or stale buttons get the usual localized hint.
 */
export const translationFeature = new Composer<Context>();

/** Whether the pressed message is a photo with a caption (edited with editMessageCaption). */
function isCaptioned(ctx: Context): boolean {
  const message = ctx.callbackQuery?.message;
  return message !== undefined && 'photo' in message && message.photo !== undefined;
}

async function editInPlace(ctx: Context, text: string, keyboard: InlineKeyboard): Promise<void> {
  try {
    if (isCaptioned(ctx)) await ctx.editMessageCaption({ caption: text, reply_markup: keyboard });
    else await ctx.editMessageText(text, { reply_markup: keyboard, link_preview_options: { is_disabled: true } });
  } catch (err) {
    if (!(err instanceof GrammyError && err.description.includes('message is not modified'))) throw err;
  }
}

function toggleFor(ctx: Context, show: 'o' | 't', view: 'n' | 'd' | 'r', id: number) {
  return show === 't'
    ? { text: ctx.t('translation.showOriginal'), callback_data: translationData.encode({ show: 'o', view, id }) }
    : { text: ctx.t('translation.showTranslation'), callback_data: translationData.encode({ show: 't', view, id }) };
}

translationFeature.callbackQuery(translationData.filter, async (ctx) => {
  const data = translationData.decode(ctx.callbackQuery.data);
  const message = ctx.callbackQuery.message;
  if (!data || !message) return answerStale(ctx);
  const user = requireUser(ctx);
  const { db, city, clock } = ctx.deps;
  let text: string;
  if (data.view === 'r') {
    const [relayed] = await db.select().from(relayMessages).where(eq(relayMessages.id, data.id));
    // Only the recipient of a relayed message has a button for it.
    if (!relayed || relayed.recipientId !== user.id) return answerStale(ctx);
    const loaded = await loadContact(db, relayed.contactId);
    if (!relayed.text || !loaded) return ctx.answerCallbackQuery({ text: ctx.t('translation.notAvailable'), show_alert: true });
    let view: TextView = { show: 'original' };
    if (data.show === 't') {
      const translation = await findRelayTranslation(db, relayed.id, ctx.locale);
      if (!translation) return ctx.answerCallbackQuery({ text: ctx.t('translation.notYet') });
      view = { show: 'translation', text: translation.text, source: translation.source };
    }
    const sender = relayed.senderId === loaded.author.id ? loaded.author : loaded.responder;
    const header = relayHeader({ t: ctx.t, locale: ctx.locale, city }, sender, loaded.post, user.id);
    text = relayBody(ctx, header, relayed.text, view, isCaptioned(ctx));
  } else {
    const post = await findPost(db, data.id);
    if (!post?.text || !isActive(post)) return ctx.answerCallbackQuery({ text: ctx.t('translation.notAvailable'), show_alert: true });
    let view: TextView = { show: 'original' };
    if (data.show === 't') {
      const translation = pickPostTranslation(post, await findPostTranslations(db, [post.id]), ctx.locale);
      if (!translation) return ctx.answerCallbackQuery({ text: ctx.t('translation.notYet') });
      view = { show: 'translation', text: translation.text, source: translation.source };
    }
    text = renderPostCard({ t: ctx.t, locale: ctx.locale, city, now: clock.now() }, post, data.view === 'n' ? 'notification' : 'detail', view);
  }
  await ctx.answerCallbackQuery();
  await editInPlace(ctx, text, replaceTranslationToggle(message.reply_markup, toggleFor(ctx, data.show, data.view, data.id)));
});

translationFeature.callbackQuery(conversationTranslationData.filter, async (ctx) => {
  const data = conversationTranslationData.decode(ctx.callbackQuery.data);
  if (!data) return answerStale(ctx);
  const user = requireUser(ctx);
  const loaded = await loadContact(ctx.deps.db, data.id);
  // Only the two participants can switch their own side.
  if (!loaded || (loaded.contact.authorId !== user.id && loaded.contact.responderId !== user.id)) return answerStale(ctx);
  const on = data.action === 'on';
  await setConversationTranslation(ctx.deps.db, ctx.deps.clock, user.id, data.id, on);
  await ctx.answerCallbackQuery({ text: ctx.t(on ? 'translation.conversationOnDone' : 'translation.conversationOffDone'), show_alert: true });
  const message = ctx.callbackQuery.message;
  if (!message?.reply_markup) return;
  // The pressed button now offers the opposite.
  const opposite = on
    ? { text: ctx.t('translation.conversationOff'), callback_data: conversationTranslationData.encode({ action: 'off', id: data.id }) }
    : { text: ctx.t('translation.conversationOn'), callback_data: conversationTranslationData.encode({ action: 'on', id: data.id }) };
  const rows = message.reply_markup.inline_keyboard.map((row) => row.map((b) => ('callback_data' in b && conversationTranslationData.filter.test(b.callback_data) ? opposite : b)));
  await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: rows } }).catch((err: unknown) => {
    if (!(err instanceof GrammyError && err.error_code === 400)) throw err;
  });
});
