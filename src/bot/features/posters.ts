import { Composer, InlineKeyboard, InputFile } from 'grammy';
import { z } from 'zod';
import { WHOLE_CITY } from '../../city';
import { LOCALES, type Locale } from '../../config';
import { actorOf } from '../../domain/permissions';
import { checkPosterRequest } from '../../domain/posters';
import { describeError } from '../../logger';
import { createCallbackData, keyField } from '../../presentation/callback-data/codec';
import { createDeepLink, createPosterPayload } from '../../presentation/callback-data/deep-link';
import { createDistrictKeyboard, createLanguageRow } from '../../presentation/keyboards';
import { renderPoster } from '../../presentation/poster';
import type { Context } from '../context';
import { answerStale, defineDialog } from '../dialog';
import { type Authorized, gate } from '../permissions';

/** Buttons of /poster: the district (or the whole city), the language, back, another poster. */
export const posterData = createCallbackData(
  'pst',
  ['action', 'value'],
  z.discriminatedUnion('action', [
    z.object({ action: z.literal('dist'), value: keyField }),
    z.object({ action: z.literal('lang'), value: z.enum(LOCALES) }),
    z.object({ action: z.literal('back'), value: z.literal('-') }),
    z.object({ action: z.literal('again'), value: z.literal('-') }),
  ]),
);

const steps = z.enum(['district', 'language', 'done']);
/** The /poster dialog: district → language → the poster is sent (then "another poster"). */
const posterDialog = defineDialog({ name: 'poster', steps, data: z.object({ district: keyField.nullable() }) });

/** /poster: a printable A4 poster with a QR code that opens the bot with district and language chosen. */
export const postersFeature = new Composer<Context>();

const makers = gate(postersFeature, 'poster.create', {
  commands: ['poster'],
  buttons: (data) => posterData.filter.test(data),
  dialog: posterDialog.name,
});

makers.command('poster', (ctx) => showDistricts(ctx, true));

makers.callbackQuery(posterData.filter, async (ctx) => {
  const data = posterData.decode(ctx.callbackQuery.data);
  const dialog = posterDialog.forButton(ctx);
  if (!data || !dialog) return answerStale(ctx);
  switch (data.action) {
    case 'dist':
      if (dialog.step !== 'district') return answerStale(ctx);
      checkPosterRequest(actorOf(ctx.user), ctx.deps.city, data.value);
      await ctx.answerCallbackQuery();
      return showLanguages(ctx, data.value);
    case 'back':
      await ctx.answerCallbackQuery();
      return showDistricts(ctx, false);
    case 'again':
      await ctx.answerCallbackQuery();
      return showDistricts(ctx, true);
    case 'lang':
      if (dialog.step !== 'language' || dialog.data.district === null) return answerStale(ctx);
      await ctx.answerCallbackQuery();
      return sendPoster(ctx, dialog.data.district, data.value);
  }
});

function areaName(ctx: Context, district: string): string {
  return ctx.deps.city.districtName(district, ctx.locale);
}

async function showDistricts(ctx: Authorized, asNewMessage: boolean): Promise<void> {
  const keyboard = createDistrictKeyboard(ctx.deps.city, ctx.locale, (key) => posterData.encode({ action: 'dist', value: key }));
  await posterDialog.show(ctx, 'district', { district: null }, ctx.t('poster.chooseDistrict'), keyboard, asNewMessage);
}

async function showLanguages(ctx: Authorized, district: string): Promise<void> {
  const keyboard = createLanguageRow(new InlineKeyboard(), ctx.t, (locale) => posterData.encode({ action: 'lang', value: locale }));
  keyboard.text(ctx.t('common.buttons.back'), posterData.encode({ action: 'back', value: '-' }));
  await posterDialog.show(ctx, 'language', { district }, ctx.t('poster.chooseLanguage', { district: areaName(ctx, district) }), keyboard, false);
}

/** Draws the poster and sends it as two documents: the A4 PDF and the QR code alone as PNG. */
async function sendPoster(ctx: Authorized, district: string, locale: Locale): Promise<void> {
  const { city, i18n } = ctx.deps;
  checkPosterRequest(actorOf(ctx.user), city, district);
  const link = createDeepLink(ctx.me.username, createPosterPayload(locale, district === WHOLE_CITY ? null : district));
  const names = { district: areaName(ctx, district), language: ctx.t(`common.languageNames.${locale}`) };
  const slug = `${district === WHOLE_CITY ? city.city.key : district}-${locale}`;
  const started = Date.now();
  let poster;
  try {
    poster = await renderPoster({ district, locale, link }, { city, i18n });
  } catch (err) {
    ctx.log.error({ err: describeError(err), district, locale }, 'poster could not be drawn');
    await ctx.reply(ctx.t('poster.failed'));
    return;
  }
  ctx.log.info({ district, locale, pdfBytes: poster.pdf.length, ms: Date.now() - started }, 'poster drawn');
  await ctx.replyWithDocument(new InputFile(poster.pdf, `hilfenetz-poster-${slug}.pdf`), { caption: ctx.t('poster.pdfCaption', { ...names, link }) });
  await ctx.replyWithDocument(new InputFile(poster.png, `hilfenetz-qr-${slug}.png`), { caption: ctx.t('poster.pngCaption') });
  const again = new InlineKeyboard().text(ctx.t('poster.again'), posterData.encode({ action: 'again', value: '-' }));
  await posterDialog.show(ctx, 'done', { district }, ctx.t('poster.done', names), again, true);
}
