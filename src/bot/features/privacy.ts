import { Composer, InlineKeyboard, InputFile } from 'grammy';
import { z } from 'zod';
import { actorOf, can } from '../../domain/permissions';
import { collectUserData, deleteUserData } from '../../domain/privacy';
import { localDay } from '../../domain/time';
import { createCallbackData, idField } from '../../presentation/callback-data/codec';
import { type Context, requireUser } from '../context';
import { answerStale, showScreen } from '../dialog';

/**
 * The answer to the /deleteme question. It carries the internal id of the profile it was asked for,
 * so a button left in the chat from before a deletion can never delete the fresh profile after /start.
 */
export const privacyData = createCallbackData('pv', ['action', 'id'], z.object({ action: z.enum(['delete', 'keep']), id: idField }));

/** /privacy, /mydata and /deleteme: what is stored and why, a copy of it, and erasure. */
export const privacyFeature = new Composer<Context>();

privacyFeature.command('privacy', async (ctx) => {
  const { config } = ctx.deps;
  const days = (count: number) => ctx.t('common.count.days', { count });
  const text = [
    ctx.t('privacy.title'),
    ctx.t('privacy.profile'),
    ctx.t('privacy.posts', { ttl: days(config.POST_TTL_DAYS), retention: days(config.RETENTION_DAYS) }),
    ctx.t('privacy.conversations', { retention: days(config.RETENTION_DAYS) }),
    ctx.t('privacy.visibility'),
    // Lotsen (and coordinators) who take needs for people without Telegram: what is kept of those people.
    ...(ctx.user && can(actorOf(ctx.user), 'intake.create') ? [ctx.t('privacy.intake', { retention: days(config.RETENTION_DAYS) })] : []),
    // Only when an engine is configured: where texts go for machine translation.
    ...(config.TRANSLATE_URL ? [ctx.t('translation.privacy')] : []),
    ctx.t('privacy.bannedKeepsId'),
    ctx.t('privacy.rights'),
  ].join('\n\n');
  await ctx.reply(text, { link_preview_options: { is_disabled: true } });
});

privacyFeature.command('mydata', async (ctx) => {
  const user = requireUser(ctx);
  const { db, clock, city } = ctx.deps;
  const now = clock.now();
  const data = await collectUserData(db, user.id);
  const json = JSON.stringify({ exportedAt: now, ...data }, null, 2);
  const file = new InputFile(Buffer.from(json, 'utf8'), `hilfenetz-data-${localDay(now, city.timezone)}.json`);
  await ctx.replyWithDocument(file, { caption: ctx.t('privacy.export.caption') });
  ctx.log.info({ bytes: json.length, posts: data.posts.length }, 'user data exported');
});

privacyFeature.command('deleteme', async (ctx) => {
  const user = requireUser(ctx);
  const keyboard = new InlineKeyboard()
    .text(ctx.t('privacy.delete.confirm'), privacyData.encode({ action: 'delete', id: user.id }))
    .row()
    .text(ctx.t('privacy.delete.keep'), privacyData.encode({ action: 'keep', id: user.id }));
  await ctx.reply(ctx.t('privacy.delete.question'), { reply_markup: keyboard });
});

privacyFeature.callbackQuery(privacyData.filter, async (ctx) => {
  const data = privacyData.decode(ctx.callbackQuery.data);
  const user = requireUser(ctx);
  if (!data || data.id !== user.id) return answerStale(ctx);
  if (data.action === 'keep') {
    await ctx.answerCallbackQuery();
    await showScreen(ctx, ctx.t('privacy.delete.kept'));
    return;
  }
  const summary = await deleteUserData(ctx.deps.db, ctx.deps.clock, user.id);
  ctx.deps.delivery.wake();
  // The session middleware would write the session back after this handler; null deletes it instead
  // (grammY's setter takes null, but the intersection type of our Context only shows the getter).
  (ctx as { session: unknown }).session = null;
  ctx.log.info({ ...summary }, 'user data deleted');
  await ctx.answerCallbackQuery();
  await showScreen(ctx, ctx.t('privacy.delete.done'));
  // The role's command menu for this chat goes too; Telegram shows the default menu again.
  await ctx.api.deleteMyCommands({ scope: { type: 'chat', chat_id: ctx.chat!.id } }).catch(() => undefined);
});
