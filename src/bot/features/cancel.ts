import { Composer } from 'grammy';
import type { Context } from '../context';
import { endDialog } from '../dialog';

/** /cancel leaves any dialog from anywhere; nothing half-finished is stored. */
export const cancelFeature = new Composer<Context>();

cancelFeature.command('cancel', async (ctx) => {
  const dialog = await endDialog(ctx, { removeKeyboard: true });
  await ctx.reply(ctx.t(dialog ? 'cancel.done' : 'cancel.nothing'));
});
