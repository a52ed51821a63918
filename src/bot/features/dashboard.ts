import { Composer, InlineKeyboard } from 'grammy';
import { actorOf } from '../../domain/permissions';
import { createWebLogin } from '../../domain/web-auth';
import { formatDate } from '../../presentation/format';
import type { Context } from '../context';
import { gate } from '../permissions';

/** /dashboard (coordinators, staff): a one-time login link to the web desk at PUBLIC_URL. */
export const dashboardFeature = new Composer<Context>();

const allowed = gate(dashboardFeature, 'web.login', { commands: ['dashboard'] });

allowed.command('dashboard', async (ctx) => {
  const { config, db, clock, city } = ctx.deps;
  if (!config.PUBLIC_URL) {
    await ctx.reply(ctx.t('dashboard.off'));
    return;
  }
  const { token, expiresAt } = await createWebLogin(db, clock, actorOf(ctx.user), config.WEB_LOGIN_TTL);
  const url = `${config.PUBLIC_URL}/web/login/${token}`;
  ctx.log.info({ expiresAt }, 'web login link issued');
  const text = ctx.t('dashboard.link', { url, until: formatDate(expiresAt, ctx.locale, city.timezone, true) });
  // Telegram accepts only public https addresses in buttons; the link in the text works everywhere.
  const keyboard = url.startsWith('https://') ? new InlineKeyboard().url(ctx.t('dashboard.open'), url) : undefined;
  await ctx.reply(text, { link_preview_options: { is_disabled: true }, ...(keyboard ? { reply_markup: keyboard } : {}) });
});
