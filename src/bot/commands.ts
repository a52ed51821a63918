import type { Api } from 'grammy';
import type { BotCommand } from 'grammy/types';
import { LOCALES, type Locale } from '../config';
import type { Role, UserRow } from '../db/schema';
import { type Action, needsLotse, PERMISSIONS } from '../domain/permissions';
import type { Translator } from '../i18n';
import { describeError, type Logger } from '../logger';

type Audience = Role | 'new';
const everyone: Audience[] = ['new', 'seeker', 'helper', 'staff', 'coordinator'];

/** A command that needs a permission is in the menu of exactly the roles that have it. */
function allowedTo(action: Action): Audience[] {
  return PERMISSIONS[action].map((role) => (role === 'newcomer' ? 'new' : role));
}

/** The same for an action staff may do only as Lotse: their menu has it only then. */
function allowedToAct(action: Action): { for: Audience[]; lotseOnly: boolean } {
  return { for: allowedTo(action), lotseOnly: needsLotse(action) };
}

/** Which commands each role sees in Telegram's menu, in menu order. */
const COMMANDS: { command: string; for: Audience[]; lotseOnly?: boolean }[] = [
  { command: 'start', for: everyone },
  { command: 'need', for: ['new', 'seeker'] },
  { command: 'offer', for: ['new', 'helper'] },
  { command: 'browse', for: ['seeker', 'helper', 'staff', 'coordinator'] },
  { command: 'my', for: ['seeker', 'helper'] },
  { command: 'subscribe', for: ['seeker', 'helper'] },
  { command: 'end', for: ['seeker', 'helper'] },
  { command: 'broadcast', for: allowedTo('notice.send') },
  { command: 'moderation', for: allowedTo('moderation.review') },
  { command: 'invite', for: allowedTo('staff.invite') },
  { command: 'staff', for: allowedTo('staff.list') },
  { command: 'desk', ...allowedToAct('desk.work') },
  { command: 'intake', ...allowedToAct('intake.create') },
  { command: 'verified', for: allowedTo('verification.review') },
  { command: 'orginvite', for: allowedTo('verification.invite') },
  { command: 'dashboard', for: allowedTo('web.login') },
  { command: 'stats', for: allowedTo('stats.view') },
  { command: 'export', for: allowedTo('stats.export') },
  { command: 'poster', for: allowedTo('poster.create') },
  { command: 'channels', for: allowedTo('channels.manage') },
  { command: 'notices', for: everyone },
  { command: 'settings', for: everyone },
  { command: 'language', for: everyone },
  { command: 'help', for: everyone },
  { command: 'cancel', for: everyone },
  { command: 'privacy', for: everyone },
  { command: 'mydata', for: everyone },
  { command: 'deleteme', for: everyone },
];

/** Every command the bot answers (the unknown-command hint uses this). */
export const KNOWN_COMMANDS = new Set(COMMANDS.map((c) => c.command));

/** The menu for a role in a language (staff marked as Lotse also get the Lotsen's commands). */
export function commandsFor(role: Role | null, locale: Locale, i18n: Translator, lotse = false): BotCommand[] {
  const audience: Audience = role ?? 'new';
  return COMMANDS.filter((c) => c.for.includes(audience) && !(c.lotseOnly && audience === 'staff' && !lotse)).map((c) => ({
    command: c.command,
    description: i18n.t(locale, `commands.${c.command}`),
  }));
}

/**
 * Registers the default menu once per language (Telegram picks it by the user's app language).
 * A failure is logged, never fatal: the bot keeps serving updates.
 */
export async function registerDefaultCommands(api: Api, i18n: Translator, defaultLocale: Locale, logger: Logger): Promise<void> {
  const calls: Promise<unknown>[] = [
    api.setMyCommands(commandsFor(null, defaultLocale, i18n)),
    ...LOCALES.map((locale) => api.setMyCommands(commandsFor(null, locale, i18n), { language_code: locale })),
  ];
  const results = await Promise.allSettled(calls);
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length > 0) {
    logger.warn({ failed: failed.length, err: describeError((failed[0] as PromiseRejectedResult).reason) }, 'could not register command menus');
  } else {
    logger.info({ languages: LOCALES.length }, 'command menus registered');
  }
}

/**
 * Gives one chat the menu of its role in the language the user chose in the bot (which may differ
 * from their Telegram app language). Logged, never fatal.
 */
export async function registerChatCommands(
  api: Api,
  chatId: number,
  user: Pick<UserRow, 'role' | 'lotse'>,
  locale: Locale,
  i18n: Translator,
  logger: Logger,
): Promise<void> {
  try {
    await api.setMyCommands(commandsFor(user.role, locale, i18n, user.lotse), { scope: { type: 'chat', chat_id: chatId } });
  } catch (err) {
    logger.warn({ err: describeError(err) }, 'could not set chat commands');
  }
}

/**
 * Makes the button beside the message field open the command list (Telegram's "Menu"), in every chat
 * that has no menu button of its own. Like the command menus: a failure is logged, never fatal.
 */
export async function registerMenuButton(api: Api, logger: Logger): Promise<void> {
  try {
    await api.setChatMenuButton({ menu_button: { type: 'commands' } });
    logger.info('menu button set to the commands list');
  } catch (err) {
    logger.warn({ err: describeError(err) }, 'could not set the menu button');
  }
}
