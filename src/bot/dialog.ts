import { GrammyError, type InlineKeyboard } from 'grammy';
import type { Context, DialogState } from './context';

/** The running dialog when it has this name. */
export function getDialog(ctx: Context, name: string): DialogState | undefined {
  const dialog = ctx.session.dialog;
  return dialog?.name === name ? dialog : undefined;
}

/** Starts (or replaces) the dialog; the previous dialog's buttons are removed so they cannot confuse. */
export async function setDialog(ctx: Context, dialog: DialogState): Promise<void> {
  const previous = ctx.session.dialog;
  if (previous?.messageId && previous.messageId !== dialog.messageId) await removeKeyboard(ctx, previous.messageId);
  ctx.session.dialog = dialog;
}

/** Ends the running dialog; optionally removes the buttons of its message. */
export async function endDialog(ctx: Context, options: { removeKeyboard?: boolean } = {}): Promise<DialogState | undefined> {
  const previous = ctx.session.dialog;
  ctx.session.dialog = undefined;
  if (options.removeKeyboard && previous?.messageId) await removeKeyboard(ctx, previous.messageId);
  return previous;
}

/** True when a pressed button belongs to the dialog's current message (not an older one). */
export function isCurrentDialogMessage(ctx: Context, dialog: DialogState | undefined): dialog is DialogState {
  const messageId = ctx.callbackQuery?.message?.message_id;
  return dialog !== undefined && messageId !== undefined && messageId === dialog.messageId;
}

/** Answers a stale or forged button with a short hint that says what to do instead. */
export async function answerStale(ctx: Context): Promise<void> {
  await ctx.answerCallbackQuery({ text: ctx.t('errors.staleButton'), show_alert: true });
}

/**
 * Shows a screen: edits the message whose button was pressed (keyboards are edited in place), or
 * sends a new message. Returns the id of the message that now shows the screen.
 */
export async function showScreen(ctx: Context, text: string, keyboard?: InlineKeyboard): Promise<number> {
  const message = ctx.callbackQuery?.message;
  if (message && ctx.chat) {
    try {
      await ctx.api.editMessageText(ctx.chat.id, message.message_id, text, {
        reply_markup: keyboard,
        link_preview_options: { is_disabled: true },
      });
      return message.message_id;
    } catch (err) {
      if (err instanceof GrammyError && err.description.includes('message is not modified')) return message.message_id;
      if (!(err instanceof GrammyError) || err.error_code !== 400) throw err;
      // Too old or deleted: fall through and send the screen as a new message.
    }
  }
  const sent = await ctx.reply(text, { reply_markup: keyboard, link_preview_options: { is_disabled: true } });
  return sent.message_id;
}

/**
 * Shows a dialog step and remembers its message: in place for button presses, or as a new message after
 * the user typed or sent something.
 */
export async function showDialogStep(
  ctx: Context,
  state: Omit<DialogState, 'messageId'>,
  text: string,
  keyboard: InlineKeyboard | undefined,
  asNewMessage: boolean,
): Promise<void> {
  const messageId = asNewMessage
    ? (await ctx.reply(text, { reply_markup: keyboard, link_preview_options: { is_disabled: true } })).message_id
    : await showScreen(ctx, text, keyboard);
  await setDialog(ctx, { ...state, messageId }); // also removes the previous step's buttons
}

/** Removes the inline keyboard of a message; ignores messages that are gone or unchanged. */
export async function removeKeyboard(ctx: Context, messageId: number): Promise<void> {
  if (!ctx.chat) return;
  try {
    await ctx.api.editMessageReplyMarkup(ctx.chat.id, messageId, { reply_markup: undefined });
  } catch (err) {
    if (!(err instanceof GrammyError)) throw err;
  }
}
