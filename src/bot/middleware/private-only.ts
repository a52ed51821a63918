import { Composer } from 'grammy';
import { setBlockedBot } from '../../domain/users';
import { pickLocale } from '../../i18n';
import type { Context } from '../context';

/**
 * Hilfenetz works in private chats only: in groups it answers commands with a hint to write privately
 * and ignores everything else; a button pressed anywhere but in a private chat with the bot (in a group,
 * or on an inline message, which has no chat) gets the same hint. It also tracks when a user blocks or
 * unblocks the bot.
 */
export const privateOnly = new Composer<Context>();

privateOnly.on('my_chat_member', async (ctx) => {
  const update = ctx.myChatMember;
  if (update.chat.type !== 'private') return;
  const status = update.new_chat_member.status;
  await setBlockedBot(ctx.deps.db, ctx.deps.clock, update.from.id, status === 'kicked');
});

privateOnly.drop(
  // Updates without a chat (inline queries) go on; a button press needs the private chat it was pressed in.
  (ctx) => ctx.chat?.type === 'private' || (ctx.chat === undefined && !ctx.callbackQuery),
  async (ctx) => {
    const locale = pickLocale(ctx.from?.language_code, ctx.deps.config.DEFAULT_LOCALE);
    const hint = () => ctx.deps.i18n.t(locale, 'errors.privateOnly', { bot: ctx.me.username });
    if (ctx.callbackQuery) {
      await ctx.answerCallbackQuery({ text: hint(), show_alert: true });
      return;
    }
    const text = ctx.message?.text ?? '';
    const username = ctx.me.username.toLowerCase();
    const addressed = /^\/\w+/.test(text) && (!text.includes('@') || text.toLowerCase().includes(`@${username}`));
    if (ctx.message && addressed) await ctx.reply(hint());
    // Everything else from groups and channels is ignored on purpose.
  },
);
