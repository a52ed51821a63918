import { InlineKeyboard } from 'grammy';
import type { UserRow } from '../../db/schema';
import { actorOf, can } from '../../domain/permissions';
import { menuButton, type MenuAction } from '../../presentation/callback-data/menu';
import type { Context } from '../context';

/** The few actions that matter most for this role, as buttons under the summary. */
export function createMainMenuKeyboard(ctx: Context, user: UserRow): InlineKeyboard {
  const k = new InlineKeyboard();
  const add = (label: string, action: MenuAction) => k.text(ctx.t(label), menuButton(action)).row();
  switch (user.role) {
    case 'helper':
      add('menu.subscribe', 'subscribe');
      add('menu.browseNeeds', 'browse');
      add('menu.offer', 'offer');
      break;
    case 'staff':
      if (user.lotse) add('menu.desk', 'desk');
      if (can(actorOf(user), 'intake.create')) add('menu.intake', 'intake');
      add('menu.broadcast', 'broadcast');
      add('menu.stats', 'stats');
      break;
    case 'coordinator':
      add('menu.moderation', 'moderation');
      add('menu.desk', 'desk');
      add('menu.intake', 'intake');
      add('menu.broadcast', 'broadcast');
      add('menu.stats', 'stats');
      break;
    default:
      add('menu.need', 'need');
      add('menu.browseOffers', 'browse');
      add('menu.my', 'my');
  }
  return k;
}
