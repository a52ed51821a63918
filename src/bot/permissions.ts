import type { Composer } from 'grammy';
import type { UserRow } from '../db/schema';
import { type Action, actorOf, can, refusalOf } from '../domain/permissions';
import type { Context } from './context';
import { endDialog, getDialog } from './dialog';

/** The context behind a gate: the sender's profile is loaded, and they may do the gate's action. */
export type Authorized<C extends Context = Context> = C & { user: UserRow };

/** The updates a gated part of a feature answers: for anyone else they are refused, not passed on. */
export interface Claims {
  /** Its commands, without the slash. */
  commands?: readonly string[];
  /** Its buttons, by their callback data. */
  buttons?: (data: string) => boolean;
  /** The dialog it runs: typed input while it is open belongs to it (a refusal ends the dialog). */
  dialog?: string;
}

/** Whether the sender may do the action, asked of the domain (the same answer any front end gets). */
function isAllowed(ctx: Context, action: Action): ctx is Authorized {
  return ctx.user !== undefined && can(actorOf(ctx.user), action);
}

function isClaimed(ctx: Context, claims: Claims): boolean {
  if (claims.commands && ctx.hasCommand(claims.commands as string[])) return true;
  const data = ctx.callbackQuery?.data;
  if (data !== undefined) return claims.buttons?.(data) ?? false;
  const text = ctx.message?.text ?? '';
  return claims.dialog !== undefined && ctx.message !== undefined && !text.startsWith('/') && getDialog(ctx, claims.dialog) !== undefined;
}

/** The refusal, in the sender's language: an alert for a button, a message otherwise. */
async function refuse(ctx: Context, action: Action, claims: Claims): Promise<void> {
  const key = ctx.user ? (refusalOf(actorOf(ctx.user), action) ?? 'errors.forbidden') : 'errors.forbidden';
  ctx.log.info({ action, key }, 'refused');
  if (ctx.callbackQuery) {
    await ctx.answerCallbackQuery({ text: ctx.t(key), show_alert: true });
    return;
  }
  // Whoever lost the right mid-dialog is out of it: their next message goes where it would go otherwise.
  if (claims.dialog !== undefined && getDialog(ctx, claims.dialog)) await endDialog(ctx);
  await ctx.reply(ctx.t(key));
}

/**
 * Gates a part of a feature by one action: returns the composer for the senders who may do it, with
 * `ctx.user` narrowed to be there. Anyone else sending one of the part's commands, pressing one of its
 * buttons or typing into its dialog gets the domain's refusal (the same text it would give); every other
 * update goes on as if the gate were not there. The domain authorizes again when the part acts.
 */
export function gate<C extends Context>(composer: Composer<C>, action: Action, claims: Claims): Composer<Authorized<C>> {
  composer.filter(
    (ctx) => !isAllowed(ctx, action) && isClaimed(ctx, claims),
    (ctx) => refuse(ctx, action, claims),
  );
  return composer.filter((ctx): ctx is Authorized<C> => isAllowed(ctx, action));
}
