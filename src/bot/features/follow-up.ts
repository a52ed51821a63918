import { Composer, GrammyError, InlineKeyboard } from 'grammy';
import { DomainError } from '../../domain/errors';
import { answerFollowUp } from '../../domain/follow-up';
import { createSafetyReport } from '../../domain/moderation';
import { followUpData } from '../../presentation/callback-data/follow-up';
import { safetyReportData } from '../../presentation/callback-data/verification';
import { type Context, requireUser } from '../context';
import { answerStale } from '../dialog';
import { refusalText } from '../errors';

/** The seeker's answer to "Did you get the help you needed?", and "report a problem" with the helper. */
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
  // The question is answered (or out of date): its buttons go, the answer stays readable below. A
  // "report a problem" button stays: the seeker may need it after answering.
  const safety = (ctx.callbackQuery.message?.reply_markup?.inline_keyboard ?? [])
    .flat()
    .find((b) => 'callback_data' in b && safetyReportData.decode(b.callback_data) !== null);
  const keep = safety && 'callback_data' in safety ? new InlineKeyboard().text(safety.text, safety.callback_data) : new InlineKeyboard();
  try {
    await ctx.editMessageReplyMarkup({ reply_markup: keep });
  } catch (err) {
    if (!(err instanceof GrammyError)) throw err;
  }
  if (result.outcome !== 'stale') await ctx.reply(ctx.t(`followUp.answered.${result.outcome}`));
});

// "Report a problem" (protected categories): the coordinators are told at once, the report waits in /moderation.
followUpFeature.callbackQuery(safetyReportData.filter, async (ctx) => {
  const data = safetyReportData.decode(ctx.callbackQuery.data);
  if (!data) return answerStale(ctx);
  const { db, clock } = ctx.deps;
  try {
    await createSafetyReport(db, clock, requireUser(ctx), data.id);
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    await ctx.answerCallbackQuery({ text: refusalText(ctx.t, err), show_alert: true });
    return;
  }
  ctx.deps.delivery.wake();
  await ctx.answerCallbackQuery();
  await ctx.reply(ctx.t('followUp.reported'));
});
