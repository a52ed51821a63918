import { Composer, GrammyError } from 'grammy';
import { answerFollowUp } from '../../domain/follow-up';
import { followUpData } from '../../presentation/callback-data/follow-up';
import { type Context, requireUser } from '../context';
import { answerStale } from '../dialog';

/** The seeker's answer to "Did you get the help you needed?". */
export const followUpFeature = new Composer<Context>();

followUpFeature.callbackQuery(followUpData.filter, async (ctx) => {
  const data = followUpData.decode(ctx.callbackQuery.data);
  if (!data) return answerStale(ctx);
  const { db, clock } = ctx.deps;
  const result = await answerFollowUp(db, clock, requireUser(ctx), data.id, data.answer);
  if (result.outcome === 'stale') await answerStale(ctx);
  else {
    await ctx.answerCallbackQuery();
    ctx.deps.delivery.wake();
  }
  // The question is answered (or out of date): its buttons go, the answer stays readable below.
  try {
    await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [] } });
  } catch (err) {
    if (!(err instanceof GrammyError)) throw err;
  }
  if (result.outcome !== 'stale') await ctx.reply(ctx.t(`followUp.answered.${result.outcome}`));
});
