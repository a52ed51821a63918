import { Composer, GrammyError, InlineKeyboard } from 'grammy';
import { declineNeed, pauseForAWeek } from '../../domain/waves';
import { waveData } from '../../presentation/callback-data/waves';
import { formatDate } from '../../presentation/format';
import { type Context, requireUser } from '../context';
import { answerStale } from '../dialog';
import { postsContext } from './posts';
import { subscribeData } from './subscribe';

/** A helper's answers under a need's notification: "Not this time" and "Pause for a week". */
export const wavesFeature = new Composer<Context>();

/**
 * Takes "Not this time" and "Pause for a week" about this need off the pressed notification; "I can help",
 * the photo and the report button stay (a helper may still change their mind).
 */
async function removeAnswerButtons(ctx: Context, postId: number): Promise<void> {
  const rows = ctx.callbackQuery?.message?.reply_markup?.inline_keyboard;
  if (!rows) return;
  const isAnswer = (button: (typeof rows)[number][number]) => 'callback_data' in button && waveData.decode(button.callback_data)?.id === postId;
  const kept = rows.map((row) => row.filter((button) => !isAnswer(button))).filter((row) => row.length > 0);
  if (kept.flat().length === rows.flat().length) return;
  try {
    await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: kept } });
  } catch (err) {
    if (!(err instanceof GrammyError)) throw err;
  }
}

wavesFeature.callbackQuery(waveData.filter, async (ctx) => {
  const data = waveData.decode(ctx.callbackQuery.data);
  if (!data) return answerStale(ctx);
  const user = requireUser(ctx);
  const { db, city } = ctx.deps;
  if (data.action === 'no') {
    const answer = await declineNeed(db, postsContext(ctx), user, data.id);
    if (answer.outcome === 'stale') {
      await answerStale(ctx);
      return removeAnswerButtons(ctx, data.id);
    }
    if (answer.outcome === 'recorded' && answer.refilled > 0) ctx.deps.delivery.wake();
    await ctx.answerCallbackQuery({ text: ctx.t(answer.outcome === 'again' ? 'waves.again' : 'waves.declined') });
    return removeAnswerButtons(ctx, data.id);
  }
  const { answer, until } = await pauseForAWeek(db, postsContext(ctx), user, data.id);
  if (answer.outcome === 'stale') {
    await answerStale(ctx);
    return removeAnswerButtons(ctx, data.id);
  }
  if (answer.outcome === 'recorded' && answer.refilled > 0) ctx.deps.delivery.wake();
  const date = formatDate(until, ctx.locale, city.timezone);
  await ctx.answerCallbackQuery({ text: ctx.t('waves.pausedToast', { date }) });
  await removeAnswerButtons(ctx, data.id);
  const resume = new InlineKeyboard().text(ctx.t('subscribe.resume'), subscribeData.encode({ action: 'resume', value: '-' }));
  await ctx.reply(ctx.t('waves.paused', { date }), { reply_markup: resume });
});
