import { Composer } from 'grammy';
import { actorOf, can } from '../../domain/permissions';
import { type Context, requireUser } from '../context';

/** /help: the commands that matter for the user's role, plus emergency numbers. */
export const helpFeature = new Composer<Context>();

helpFeature.command('help', async (ctx) => {
  const user = requireUser(ctx);
  const sections = [ctx.t('help.title')];
  if (user.role === null) sections.push(ctx.t('help.seeker'), ctx.t('help.helper'));
  else if (user.role === 'seeker' || user.role === 'helper') sections.push(ctx.t(`help.${user.role}`));
  else if (user.role === 'staff') sections.push(ctx.t('help.staff'), ctx.t('help.helper'));
  else sections.push(ctx.t('help.coordinator'), ctx.t('help.helper'));
  // Lotsen and coordinators take needs for people without Telegram (/intake).
  if (can(actorOf(user), 'intake.create')) sections.push(ctx.t('help.intake'));
  sections.push(ctx.t('help.common'));
  await ctx.reply(sections.join('\n\n'), { link_preview_options: { is_disabled: true } });
});
