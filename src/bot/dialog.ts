import { isDeepStrictEqual } from 'node:util';
import { GrammyError, type InlineKeyboard } from 'grammy';
import type { z } from 'zod';
import { telegramLength } from '../presentation/format';
import { deferKeyboardRemoval, removeKeyboardNow } from './closing-calls';
import type { Context, DialogState } from './context';

/** The running dialog when it has this name. */
export function getDialog(ctx: Context, name: string): DialogState | undefined {
  const dialog = ctx.session.dialog;
  return dialog?.name === name ? dialog : undefined;
}

/**
 * Starts (or replaces) the dialog; the previous dialog's buttons are removed so they cannot confuse.
 * The same dialog again (a step shown anew in place) leaves the session as read, so nothing is written.
 */
async function setDialog(ctx: Context, dialog: DialogState): Promise<void> {
  const previous = ctx.session.dialog;
  if (isDeepStrictEqual({ ...previous }, { ...dialog })) return;
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
async function showDialogStep(
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

/** A step's text with a one-line hint above it (text typed where a button was expected), or as it is. */
export function underHint(hint: string | undefined, text: string): string {
  return hint ? `${hint}\n\n${text}` : text;
}

/** Telegram's limit for a message's text, as Telegram counts it (telegramLength). */
export const MESSAGE_TEXT_MAX = 4096;

/**
 * A long step (the notice composer's preview) with the hint above it when both fit in one message;
 * otherwise the step as it is, and the hint in `before`, to be sent on its own first.
 */
export function underHintIfFits(hint: string | undefined, text: string): { before?: string; text: string } {
  const combined = underHint(hint, text);
  return hint === undefined || telegramLength(combined) <= MESSAGE_TEXT_MAX ? { text: combined } : { before: hint, text };
}

/**
 * Removes the inline keyboard of a message (ignoring messages that are gone or unchanged): once the update
 * is done, as one of its closing calls (src/bot/closing-calls.ts), unless a later edit shows the message
 * anew.
 */
export async function removeKeyboard(ctx: Context, messageId: number): Promise<void> {
  if (!ctx.chat) return;
  if (deferKeyboardRemoval(ctx, messageId)) return;
  await removeKeyboardNow(ctx, ctx.chat.id, messageId);
}

/** A dialog read back from the session: its step and data have the dialog's own types. */
export interface RunningDialog<Step extends string, Data> {
  step: Step;
  data: Data;
  messageId: number | undefined;
}

/** One dialog's typed view of the session; made by defineDialog, one per feature dialog. */
export interface Dialog<Step extends string, Data> {
  readonly name: string;
  /** The running dialog when it is this one and reads back (name, step, data); otherwise undefined. */
  current(ctx: Context): RunningDialog<Step, Data> | undefined;
  /** As `current`, and only when the pressed button is on the dialog's current message: else stale. */
  forButton(ctx: Context): RunningDialog<Step, Data> | undefined;
  /** Shows a step (see showDialogStep) and remembers it with its data. */
  show(ctx: Context, step: Step, data: Data, text: string, keyboard: InlineKeyboard | undefined, asNewMessage: boolean): Promise<void>;
  /** Remembers a step the feature showed itself, on the message whose buttons now drive the dialog. */
  remember(ctx: Context, step: Step, data: Data, messageId: number): Promise<void>;
  /** Ends the running dialog (whichever it is), leaving its message as it is. */
  end(ctx: Context): Promise<void>;
}

/**
 * Declares a dialog: its name in the session, its steps (a zod enum) and its data (a zod schema).
 * What the session holds is parsed, never cast: a saved dialog whose step or data no longer reads is
 * dropped (logged) and treated as no dialog. The session keeps the shape `{ name, step, messageId, data }`,
 * so dialogs saved before still continue.
 */
export function defineDialog<Step extends string, Data extends Record<string, unknown>>(spec: {
  name: string;
  steps: z.ZodType<Step>;
  data: z.ZodType<Data>;
}): Dialog<Step, Data> {
  const { name, steps, data: dataSchema } = spec;

  function current(ctx: Context): RunningDialog<Step, Data> | undefined {
    const saved = getDialog(ctx, name);
    if (!saved) return undefined;
    const step = steps.safeParse(saved.step);
    const data = dataSchema.safeParse(saved.data);
    const messageId = saved.messageId;
    if (step.success && data.success && (messageId === undefined || Number.isSafeInteger(messageId))) {
      return { step: step.data, data: data.data, messageId };
    }
    ctx.log.warn({ dialog: name, stepOk: step.success, dataOk: data.success }, 'unreadable dialog dropped');
    ctx.session.dialog = undefined;
    return undefined;
  }

  return {
    name,
    current,
    forButton(ctx) {
      const running = current(ctx);
      const pressedOn = ctx.callbackQuery?.message?.message_id;
      return running && pressedOn !== undefined && pressedOn === running.messageId ? running : undefined;
    },
    show: (ctx, step, data, text, keyboard, asNewMessage) => showDialogStep(ctx, { name, step, data }, text, keyboard, asNewMessage),
    remember: (ctx, step, data, messageId) => setDialog(ctx, { name, step, messageId, data }),
    end: async (ctx) => {
      await endDialog(ctx);
    },
  };
}
