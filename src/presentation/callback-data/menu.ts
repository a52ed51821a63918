import { z } from 'zod';
import { createCallbackData } from './codec';

/** The main menu's actions; buttons carry them, the features that own them answer. */
export const MENU_ACTIONS = ['need', 'offer', 'browse', 'subscribe', 'my', 'broadcast', 'moderation', 'stats', 'desk', 'intake'] as const;
export type MenuAction = (typeof MENU_ACTIONS)[number];

/** Main-menu buttons; each feature answers its own action exactly like its command. */
export const menuData = createCallbackData('m', ['action'], z.object({ action: z.enum(MENU_ACTIONS) }));

/** Callback data of one main-menu button. */
export function menuButton(action: MenuAction): string {
  return menuData.encode({ action });
}
