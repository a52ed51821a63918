import type { Role, UserRow } from '../db/schema';
import type { Context } from './context';

/** Staff and coordinators: verified people who may broadcast and see statistics. */
export const TRUSTED_ROLES: readonly Role[] = ['staff', 'coordinator'];

/** Whether the user holds one of the roles (checked on the server for every privileged action). */
export function hasRole(user: Pick<UserRow, 'role'> | undefined, roles: readonly Role[]): boolean {
  return user?.role != null && roles.includes(user.role);
}

/**
 * Refuses the action with a short localized answer unless the user holds one of the roles.
 * Returns true when the caller may go on.
 */
export async function allowOnly(ctx: Context, roles: readonly Role[]): Promise<boolean> {
  if (hasRole(ctx.user, roles)) return true;
  ctx.log.info({ needed: roles }, 'refused: missing role');
  if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text: ctx.t('errors.forbidden'), show_alert: true });
  else await ctx.reply(ctx.t('errors.forbidden'));
  return false;
}
