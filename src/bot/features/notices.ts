import { Composer, InlineKeyboard } from 'grammy';
import { z } from 'zod';
import { WHOLE_CITY } from '../../city';
import { LOCALES, type Locale } from '../../config';
import { NOTICE_AUDIENCES } from '../../db/schema';
import { DomainError } from '../../domain/errors';
import { refusalText } from '../errors';
import { actorOf } from '../../domain/permissions';
import {
  cancelNotice,
  checkDraft,
  countNoticeRecipients,
  findNotice,
  NOTICE_CAPTION_TEXT_MAX,
  NOTICE_TEXT_MAX,
  type NoticeDraft,
  noticesForUser,
  pickNoticeText,
  sendNotice,
} from '../../domain/notices';
import { renderNoticeText } from '../../presentation/notice';
import { createCallbackData, keyField } from '../../presentation/callback-data/codec';
import { noticeData } from '../../presentation/callback-data/notices';
import { reportData } from '../../presentation/callback-data/reports';
import { type Context, requireUser } from '../context';
import { answerStale, defineDialog, showScreen, underHintIfFits } from '../dialog';
import { createDistrictKeyboard } from '../../presentation/keyboards';
import { formatDate, shorten } from '../../presentation/format';
import { type Authorized, gate } from '../permissions';
import { menuData } from '../../presentation/callback-data/menu';
import { escapeHtml } from '../../i18n';
import { describeError } from '../../logger';

/** The composer's state in the session. */
const composerSchema = z.object({
  audience: z.enum(NOTICE_AUDIENCES).optional(),
  districts: z.array(z.string()),
  languages: z.array(z.enum(LOCALES)),
  texts: z.partialRecord(z.enum(LOCALES), z.string()),
  /** The language whose text is asked for now. */
  current: z.enum(LOCALES).optional(),
  media: z.object({ type: z.enum(['photo', 'document']), fileId: z.string() }).nullable().optional(),
  /** Languages whose text is a machine translation not yet edited by the sender (marked in the preview). */
  machine: z.array(z.enum(LOCALES)).default([]),
  /** The text step was opened from the preview to change one language: back to the preview after it. */
  editing: z.boolean().optional(),
});
type Composer_ = z.output<typeof composerSchema>;
const steps = z.enum(['audience', 'districts', 'languages', 'text', 'media', 'preview']);
type Step = z.output<typeof steps>;
/** The /broadcast composer, kept in the session between its steps. */
const composerDialog = defineDialog({ name: 'notice', steps, data: composerSchema });

/** Buttons of the /broadcast composer. */
export const composerData = createCallbackData(
  'bc',
  ['action', 'value'],
  z.discriminatedUnion('action', [
    z.object({ action: z.literal('aud'), value: z.enum(NOTICE_AUDIENCES) }),
    z.object({ action: z.literal('td'), value: keyField }),
    z.object({ action: z.literal('tl'), value: z.enum([...LOCALES, 'all']) }),
    z.object({ action: z.enum(['next', 'skip', 'back', 'cancel', 'send', 'nomedia', 'mt']), value: z.literal('-') }),
    /** Change one language's text from the preview. */
    z.object({ action: z.literal('ed'), value: z.enum(LOCALES) }),
  ]),
);

/** /broadcast for staff and coordinators, the stop button, and /notices for everyone. */
export const noticesFeature = new Composer<Context>();

/** /broadcast: the command, its main-menu button, the composer's buttons and what is typed into it. */
const senders = gate(noticesFeature, 'notice.send', {
  commands: ['broadcast'],
  buttons: (data) => composerData.filter.test(data) || menuData.decode(data)?.action === 'broadcast',
  dialog: composerDialog.name,
});
/** The stop button under a notice's progress; whether the notice is theirs to stop, the domain decides. */
const stoppers = gate(noticesFeature, 'notice.stop.own', { buttons: (data) => noticeData.decode(data)?.action === 'stop' });

/** Languages whose text the composer asks for, in order. */
function wantedLanguages(c: Composer_): Locale[] {
  const order: Locale[] = ['de', 'uk', 'ru'];
  return c.languages.length === 0 ? order : order.filter((l) => c.languages.includes(l));
}

function toDraft(c: Composer_): NoticeDraft {
  return { audience: c.audience ?? 'everyone', districts: c.districts, languages: c.languages, texts: c.texts, media: c.media ?? null };
}

async function begin(ctx: Authorized): Promise<void> {
  const state: Composer_ = { districts: [], languages: [], texts: {}, machine: [] };
  const sent = await ctx.reply(render(ctx, 'audience', state, 0), { reply_markup: keyboardFor(ctx, 'audience', state, 0) });
  await composerDialog.remember(ctx, 'audience', state, sent.message_id);
}

senders.command('broadcast', begin);
senders.callbackQuery(menuData.filter, async (ctx, next) => {
  if (menuData.decode(ctx.callbackQuery.data)?.action !== 'broadcast') return next();
  await ctx.answerCallbackQuery();
  return begin(ctx);
});

/** The text of a step; `recipients` is the preview's count, the same number its send button shows. */
function render(ctx: Authorized, step: Step, c: Composer_, recipients: number): string {
  const { city } = ctx.deps;
  const title = ctx.t('notices.composer.title');
  switch (step) {
    case 'audience':
      return `${title}\n\n${ctx.t('notices.composer.audience')}`;
    case 'districts':
      return `${title}\n\n${ctx.t('notices.composer.districts')}`;
    case 'languages':
      return `${title}\n\n${ctx.t('notices.composer.languages')}`;
    case 'text': {
      const wanted = wantedLanguages(c);
      const index = wanted.indexOf(c.current ?? 'de') + 1;
      const prompt = `${title}\n\n${ctx.t('notices.composer.text', { language: ctx.t(`common.languageNames.${c.current ?? 'de'}`), index, total: wanted.length, max: NOTICE_TEXT_MAX })}`;
      const existing = c.editing ? c.texts[c.current ?? 'de'] : undefined;
      return existing ? `${prompt}\n\n${ctx.t('translation.notice.current')}\n<blockquote>${escapeHtml(existing)}</blockquote>` : prompt;
    }
    case 'media':
      return `${title}\n\n${ctx.t('notices.composer.media', { max: NOTICE_CAPTION_TEXT_MAX })}`;
    case 'preview': {
      const user = ctx.user;
      const sample = renderNoticeText({ t: ctx.t }, { organisation: user.organisation ?? 'Hilfenetz', texts: c.texts }, ctx.locale) ?? '';
      const districts = c.districts.length === 0 ? city.districtName(WHOLE_CITY, ctx.locale) : c.districts.map((d) => city.districtName(d, ctx.locale)).join(', ');
      const languages = c.languages.length === 0 ? ctx.t('notices.composer.allLanguages') : c.languages.map((l) => ctx.t(`common.languageNames.${l}`)).join(', ');
      const texts = LOCALES.map((l) => `${ctx.t(`common.languages.${l}`)} ${c.texts[l] ? (c.machine.includes(l) ? '🌐' : '✅') : `→ ${ctx.t(`common.languageNames.${pickNoticeText(c.texts, l)?.locale ?? 'de'}`)}`}`).join(' · ');
      const lines = [
        ctx.t('notices.composer.previewTitle'),
        '',
        sample,
        c.media ? `\n${ctx.t(`notices.composer.attached.${c.media.type}`)}` : '',
        '',
        ctx.t('notices.composer.summary', {
          audience: ctx.t(`notices.audience.${c.audience ?? 'everyone'}`),
          districts,
          languages,
          texts,
        }),
        recipients > 0 ? ctx.t('notices.composer.recipients', { count: recipients }) : ctx.t('notices.composer.nobody'),
      ];
      if (c.machine.length > 0) lines.push('', ctx.t('translation.notice.review', { languages: c.machine.map((l) => ctx.t(`common.languageNames.${l}`)).join(', ') }));
      return lines.filter((l, i) => l !== '' || lines[i - 1] !== '').join('\n');
    }
  }
}

function keyboardFor(ctx: Context, step: Step, c: Composer_, recipients: number): InlineKeyboard {
  const k = new InlineKeyboard();
  const e = (action: 'next' | 'skip' | 'back' | 'cancel' | 'send' | 'nomedia' | 'mt') => composerData.encode({ action, value: '-' });
  const footer = (withBack: boolean) => {
    if (withBack) k.text(ctx.t('common.buttons.back'), e('back'));
    return k.text(ctx.t('common.buttons.cancel'), e('cancel'));
  };
  switch (step) {
    case 'audience':
      for (const a of NOTICE_AUDIENCES) k.text(ctx.t(`notices.audience.${a}`), composerData.encode({ action: 'aud', value: a })).row();
      return footer(false);
    case 'districts': {
      const districts = createDistrictKeyboard(ctx.deps.city, ctx.locale, (key) => composerData.encode({ action: 'td', value: key }), {
        selected: new Set(c.districts.length === 0 ? [WHOLE_CITY] : c.districts),
      });
      for (const row of districts.inline_keyboard) k.row(...row);
      k.row().text(ctx.t('notices.composer.next'), e('next')).row();
      return footer(true);
    }
    case 'languages':
      k.text(`${c.languages.length === 0 ? '✅' : '▫️'} ${ctx.t('notices.composer.allLanguages')}`, composerData.encode({ action: 'tl', value: 'all' })).row();
      for (const l of LOCALES) k.text(`${c.languages.includes(l) ? '✅' : '▫️'} ${ctx.t(`common.languages.${l}`)}`, composerData.encode({ action: 'tl', value: l }));
      k.row().text(ctx.t('notices.composer.next'), e('next')).row();
      return footer(true);
    case 'text':
      k.text(ctx.t('notices.composer.skipLanguage'), e('skip')).row();
      return footer(true);
    case 'media':
      k.text(ctx.t('notices.composer.noMedia'), e('nomedia')).row();
      return footer(true);
    case 'preview': {
      if (recipients > 0) k.text(ctx.t('notices.composer.send', { count: recipients }), e('send')).row();
      // With an engine: fill the languages nobody wrote by machine translation, marked, each editable before sending.
      if (ctx.deps.translator && missingLanguages(c).length > 0) k.text(ctx.t('translation.notice.fill'), e('mt')).row();
      for (const l of wantedLanguages(c).filter((l) => c.texts[l] !== undefined)) k.text(ctx.t('translation.notice.edit', { language: ctx.t(`common.languages.${l}`) }), composerData.encode({ action: 'ed', value: l }));
      k.row();
      return footer(true);
    }
  }
}

/**
 * Shows a step of the composer. A `lead` (a hint) goes above the step in the same message; a preview too
 * long to take it as well gets it as a message of its own, before.
 */
async function goTo(ctx: Authorized, step: Step, c: Composer_, asNewMessage = false, lead?: string): Promise<void> {
  // Counted once per preview: the text and the send button show the same number.
  const recipients = step === 'preview' ? await countNoticeRecipients(ctx.deps.db, toDraft(c), ctx.user.id) : 0;
  const text = render(ctx, step, c, recipients);
  const shown = underHintIfFits(lead, text);
  if (shown.before !== undefined) await ctx.reply(shown.before);
  await composerDialog.show(ctx, step, c, shown.text, keyboardFor(ctx, step, c, recipients), asNewMessage);
}

/** Wanted languages without a text yet (the machine can fill them). */
function missingLanguages(c: Composer_): Locale[] {
  return wantedLanguages(c).filter((l) => c.texts[l] === undefined);
}

/**
 * Fills the missing languages by machine translation from the sender's text (German first), each marked in
 * its own language. Returns the new state and the languages filled; languages the engine could not do stay empty.
 */
async function fillByMachine(ctx: Authorized, c: Composer_): Promise<{ state: Composer_; filled: Locale[] }> {
  const translator = ctx.deps.translator;
  const source = (['de', 'uk', 'ru'] as const).find((l) => c.texts[l] !== undefined && !c.machine.includes(l)) ?? (['de', 'uk', 'ru'] as const).find((l) => c.texts[l] !== undefined);
  if (!translator || !source || !translator.available()) return { state: c, filled: [] };
  const texts = { ...c.texts };
  const filled: Locale[] = [];
  for (const target of missingLanguages(c)) {
    const t = ctx.deps.i18n.fixed(target);
    try {
      const translated = await translator.translate(c.texts[source]!, source, target);
      const marked = `${translated}\n\n${t('translation.mark', { from: t(`translation.from.${source}`) })}`;
      if ([...marked].length > NOTICE_TEXT_MAX) continue;
      texts[target] = marked;
      filled.push(target);
    } catch (err) {
      ctx.log.warn({ err: describeError(err), source, target }, 'notice text could not be machine-translated');
    }
  }
  return { state: { ...c, texts, machine: [...c.machine, ...filled] }, filled };
}

/** After the texts: the next language to ask for, or the media step. */
function afterText(c: Composer_): { step: Step; state: Composer_ } {
  if (c.editing) return { step: 'preview', state: { ...c, editing: false, current: undefined } };
  const wanted = wantedLanguages(c);
  const next = wanted[wanted.indexOf(c.current ?? 'de') + 1];
  return next ? { step: 'text', state: { ...c, current: next } } : { step: 'media', state: { ...c, current: undefined } };
}

// Behind the gate: a revoked staff member's old composer buttons do nothing.
senders.callbackQuery(composerData.filter, async (ctx) => {
  const data = composerData.decode(ctx.callbackQuery.data);
  const dialog = composerDialog.forButton(ctx);
  if (!data || !dialog) return answerStale(ctx);
  const { step, data: c } = dialog;
  const { city } = ctx.deps;
  const toggle = <T>(list: T[], v: T) => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);

  switch (data.action) {
    case 'cancel':
      await composerDialog.end(ctx);
      await ctx.answerCallbackQuery();
      await showScreen(ctx, ctx.t('cancel.done'));
      return;
    case 'aud':
      if (step !== 'audience') return answerStale(ctx);
      await ctx.answerCallbackQuery();
      return goTo(ctx, 'districts', { ...c, audience: data.value });
    case 'td':
      if (step !== 'districts' || !city.isArea(data.value)) return answerStale(ctx);
      await ctx.answerCallbackQuery();
      return goTo(ctx, 'districts', { ...c, districts: data.value === WHOLE_CITY ? [] : toggle(c.districts, data.value) });
    case 'tl':
      if (step !== 'languages') return answerStale(ctx);
      await ctx.answerCallbackQuery();
      return goTo(ctx, 'languages', { ...c, languages: data.value === 'all' ? [] : toggle(c.languages, data.value) });
    case 'next':
      if (step !== 'districts' && step !== 'languages') return answerStale(ctx);
      await ctx.answerCallbackQuery();
      return step === 'districts' ? goTo(ctx, 'languages', c) : goTo(ctx, 'text', { ...c, current: wantedLanguages(c)[0] });
    case 'skip': {
      if (step !== 'text') return answerStale(ctx);
      const { [c.current ?? 'de']: _dropped, ...rest } = c.texts;
      const next = afterText({ ...c, texts: rest, machine: c.machine.filter((l) => l !== (c.current ?? 'de')) });
      if (next.step === 'media' && Object.keys(rest).length === 0) {
        await ctx.answerCallbackQuery({ text: ctx.t('notices.errors.noText'), show_alert: true });
        return;
      }
      await ctx.answerCallbackQuery();
      return goTo(ctx, next.step, next.state);
    }
    case 'mt': {
      if (step !== 'preview' || !ctx.deps.translator) return answerStale(ctx);
      const { state, filled } = await fillByMachine(ctx, c);
      if (filled.length === 0) {
        await ctx.answerCallbackQuery({ text: ctx.t('translation.notice.failed'), show_alert: true });
        return;
      }
      await ctx.answerCallbackQuery({ text: ctx.t('translation.notice.filled') });
      return goTo(ctx, 'preview', state);
    }
    case 'ed':
      if (step !== 'preview' || c.texts[data.value] === undefined) return answerStale(ctx);
      await ctx.answerCallbackQuery();
      return goTo(ctx, 'text', { ...c, current: data.value, editing: true });
    case 'nomedia':
      if (step !== 'media') return answerStale(ctx);
      await ctx.answerCallbackQuery();
      return goTo(ctx, 'preview', { ...c, media: null });
    case 'back': {
      if (step === 'audience') return answerStale(ctx);
      await ctx.answerCallbackQuery();
      const wanted = wantedLanguages(c);
      if (step === 'districts') return goTo(ctx, 'audience', c);
      if (step === 'languages') return goTo(ctx, 'districts', c);
      if (step === 'text' && c.editing) return goTo(ctx, 'preview', { ...c, editing: false, current: undefined });
      if (step === 'text') {
        const previous = wanted[wanted.indexOf(c.current ?? 'de') - 1];
        return previous ? goTo(ctx, 'text', { ...c, current: previous }) : goTo(ctx, 'languages', c);
      }
      if (step === 'media') return goTo(ctx, 'text', { ...c, current: wanted[wanted.length - 1] });
      return goTo(ctx, 'media', c);
    }
    case 'send': {
      if (step !== 'preview') return answerStale(ctx);
      const messageId = ctx.callbackQuery.message!.message_id;
      try {
        const notice = await sendNotice(ctx.deps.db, ctx.deps.clock, actorOf(ctx.user), toDraft(c), { chatId: ctx.chat!.id, messageId });
        await composerDialog.end(ctx);
        ctx.deps.delivery.wake();
        await ctx.answerCallbackQuery({ text: ctx.t('notices.sentToast') });
        await ctx.deps.delivery.showNoticeProgress(notice, notice.status === 'done');
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        await ctx.answerCallbackQuery({ text: refusalText(ctx.t, err), show_alert: true });
      }
      return;
    }
  }
});

// Texts and attachments while the composer waits for them.
senders.on('message', async (ctx, next) => {
  const dialog = composerDialog.current(ctx);
  if (!dialog || ctx.message.text?.startsWith('/')) return next();
  const { step, data: c } = dialog;
  const message = ctx.message;
  if (step === 'text') {
    const text = message.text?.trim();
    if (!text) {
      await ctx.reply(ctx.t('notices.errors.textExpected'));
      return;
    }
    if ([...text].length > NOTICE_TEXT_MAX) {
      await ctx.reply(ctx.t('notices.errors.tooLong', { max: NOTICE_TEXT_MAX, length: [...text].length }));
      return;
    }
    const next = afterText({ ...c, texts: { ...c.texts, [c.current ?? 'de']: text }, machine: c.machine.filter((l) => l !== (c.current ?? 'de')) });
    return goTo(ctx, next.step, next.state, true);
  }
  if (step === 'media') {
    const photo = message.photo?.at(-1)?.file_id;
    const pdf = message.document?.mime_type === 'application/pdf' ? message.document.file_id : undefined;
    if (!photo && !pdf) {
      await ctx.reply(ctx.t('notices.errors.mediaExpected'));
      return;
    }
    const withMedia: Composer_ = { ...c, media: photo ? { type: 'photo', fileId: photo } : { type: 'document', fileId: pdf! } };
    const problem = checkDraft(toDraft(withMedia));
    if (problem) {
      await ctx.reply(ctx.t(problem, { max: NOTICE_CAPTION_TEXT_MAX }));
      return;
    }
    return goTo(ctx, 'preview', withMedia, true);
  }
  // A button step: the keyboard may have scrolled away, so it comes again, under the hint.
  return goTo(ctx, step, c, true, ctx.t('errors.buttonsExpected'));
});

stoppers.callbackQuery(noticeData.filter, async (ctx, next) => {
  const data = noticeData.decode(ctx.callbackQuery.data);
  if (data?.action !== 'stop') return next();
  try {
    const notice = await cancelNotice(ctx.deps.db, ctx.deps.clock, actorOf(ctx.user), data.id);
    await ctx.answerCallbackQuery({ text: ctx.t('notices.stoppedToast') });
    await ctx.deps.delivery.showNoticeProgress(notice, true);
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    await ctx.answerCallbackQuery({ text: refusalText(ctx.t, err), show_alert: true });
  }
});

noticesFeature.callbackQuery(noticeData.filter, async (ctx) => {
  const data = noticeData.decode(ctx.callbackQuery.data);
  // A stop button is the gate's (above): here only when it is forged.
  if (data?.action !== 'view') return answerStale(ctx);
  const user = requireUser(ctx);
  const { db } = ctx.deps;
  const notice = await findNotice(db, data.id);
  const visible = notice && (await noticesForUser(db, user, 50)).some((n) => n.id === notice.id);
  if (!notice || !visible) return answerStale(ctx);
  await ctx.answerCallbackQuery();
  const text = renderNoticeText({ t: ctx.t }, notice, ctx.locale)!;
  const keyboard = new InlineKeyboard().text(ctx.t('moderation.reportButton'), reportData.encode({ target: 'notice', id: notice.id, reason: '-' }));
  if (notice.mediaType === 'photo' && notice.mediaFileId) await ctx.replyWithPhoto(notice.mediaFileId, { caption: text, reply_markup: keyboard });
  else if (notice.mediaType === 'document' && notice.mediaFileId) await ctx.replyWithDocument(notice.mediaFileId, { caption: text, reply_markup: keyboard });
  else await ctx.reply(text, { reply_markup: keyboard, link_preview_options: { is_disabled: true } });
});

noticesFeature.command('notices', async (ctx) => {
  const user = requireUser(ctx);
  const list = await noticesForUser(ctx.deps.db, user, 10);
  if (list.length === 0) {
    await ctx.reply(ctx.t('notices.list.empty'));
    return;
  }
  const lines = [ctx.t('notices.list.title', { count: list.length }), ''];
  const keyboard = new InlineKeyboard();
  list.forEach((n, i) => {
    const picked = pickNoticeText(n.texts, ctx.locale);
    lines.push(`<b>${i + 1}.</b> ${formatDate(n.createdAt, ctx.locale, ctx.deps.city.timezone)} · ☑️ ${escapeHtml(n.organisation)}`);
    lines.push(escapeHtml(shorten(picked?.text ?? '', 160)), '');
    keyboard.text(String(i + 1), noticeData.encode({ action: 'view', id: n.id }));
    if (i % 5 === 4) keyboard.row();
  });
  lines.push(ctx.t('notices.list.open'));
  await ctx.reply(lines.join('\n'), { reply_markup: keyboard, link_preview_options: { is_disabled: true } });
});
