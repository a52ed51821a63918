import { InlineKeyboard } from 'grammy';
import { z } from 'zod';
import type { UserRow } from '../../db/schema';
import { createCallbackData } from '../callback-data/codec';
import type { Context } from '../context';

const MENU_ACTIONS = ['need', 'offer', 'browse', 'subscribe', 'my', 'broadcast', 'moderation', 'stats'] as const;
type MenuAction = (typeof MENU_ACTIONS)[number];

/** Main-menu buttons; each feature answers its own action exactly like its command. */
export const menuData = createCallbackData('m', ['action'], z.object({ action: z.enum(MENU_ACTIONS) }));

/** Callback data of one main-menu button. */
export function menuButton(action: MenuAction): string {
  return menuData.encode({ action });
}

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
      add('menu.broadcast', 'broadcast');
      add('menu.stats', 'stats');
      break;
    case 'coordinator':
      add('menu.moderation', 'moderation');
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
