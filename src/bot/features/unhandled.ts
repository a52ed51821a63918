import { Composer } from 'grammy';
import { KNOWN_COMMANDS } from '../commands';
import type { Context } from '../context';
import { answerStale } from '../dialog';

/**
 * Registered last: whatever no feature took gets a short hint about what to do next, never silence.
 */
export const unhandledFeature = new Composer<Context>();

unhandledFeature.on('callback_query', answerStale);

unhandledFeature.on('edited_message', async (ctx) => {
  await ctx.reply(ctx.t('errors.editIgnored'), { reply_parameters: { message_id: ctx.editedMessage.message_id, allow_sending_without_reply: true } });
});

unhandledFeature.on('message', async (ctx) => {
  const text = ctx.message.text;
  if (text?.startsWith('/')) {
    const command = (text.split(/[\s@]/)[0] ?? '').slice(1).toLowerCase();
    if (!KNOWN_COMMANDS.has(command)) {
      await ctx.reply(ctx.t('errors.unknownCommand', { command: `/${[...command].slice(0, 32).join('')}` }));
      return;
    }
  }
  // A banned person writing into what was a conversation is reminded why nothing happens.
  if (ctx.user?.bannedAt) {
    await ctx.reply(ctx.t('moderation.bannedNotice'));
    return;
  }
  // Dialogs that wait for typed input (onboarding, posts, notices) answer it themselves; what arrives
  // here was not expected by anyone.
  await ctx.reply(ctx.t(text !== undefined ? 'errors.notUnderstood' : 'errors.unsupportedMedia'));
});
