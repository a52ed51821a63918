import { Composer, InlineKeyboard } from 'grammy';
import { z } from 'zod';
import { WHOLE_CITY } from '../../city';
import { type Locale, LOCALES } from '../../config';
import type { PostKind, PostRow, UserRow } from '../../db/schema';
import { DomainError } from '../../domain/errors';
import { refusalText } from '../errors';
import { checkIntakeName, INTAKE_NAME_MAX } from '../../domain/intake';
import { actorOf, can } from '../../domain/permissions';
import {
  checkMayCreateIntake,
  checkMayCreatePost,
  checkPostText,
  closePost,
  containsContactDetails,
  editPost,
  findPost,
  findRequestMessageIds,
  isActive,
  listOwnPosts,
  POST_TEXT_MAX,
  POST_TEXT_MIN,
  type PostsContext,
  type Published,
  publishPost,
  renewPost,
} from '../../domain/posts';
import { waveSettings } from '../../domain/waves';
import { createCallbackData, keyField } from '../../presentation/callback-data/codec';
import { postData } from '../../presentation/callback-data/posts';
import { detectLanguage } from '../../translate/detect';
import { type Context, requireUser } from '../context';
import { answerStale, defineDialog, removeKeyboard, showScreen, underHint } from '../dialog';
import { createCategoryKeyboard, createDistrictKeyboard } from '../../presentation/keyboards';
import { formatDate, formatDuration } from '../../presentation/format';
import { renderIntakePerson, renderPostCard } from '../../presentation/post';
import { menuButton, menuData } from '../../presentation/callback-data/menu';
import { gate } from '../permissions';

/** The draft of a post being written or edited; kept in the session between steps. */
const draftSchema = z.object({
  kind: z.enum(['need', 'offer']),
  category: z.string().optional(),
  district: z.string().optional(),
  text: z.string().optional(),
  photoFileId: z.string().nullable().optional(),
  /** Set when an existing post is being edited. */
  postId: z.number().int().positive().optional(),
  /** Set once the preview was reached: every change returns to it. */
  reviewing: z.boolean().optional(),
  /** A need taken on behalf of a person without Telegram (/intake): their language and name, as far as given. */
  intake: z
    .object({
      language: z.enum(LOCALES).optional(),
      name: z.string().optional(),
      /** The organisation the card names ("posted by a Lotse of …"), for the preview. */
      organisation: z.string().nullable().optional(),
    })
    .optional(),
});
type Draft = z.output<typeof draftSchema>;
const steps = z.enum(['language', 'name', 'category', 'district', 'text', 'photo', 'preview']);
type Step = z.output<typeof steps>;
/** The post dialog (/need, /offer, editing a post), kept in the session between its steps. */
const postDialog = defineDialog({ name: 'post', steps, data: draftSchema });

/** Buttons of the post dialog. */
export const draftData = createCallbackData(
  'd',
  ['action', 'value'],
  z.discriminatedUnion('action', [
    z.object({ action: z.literal('cat'), value: keyField }),
    z.object({ action: z.literal('dist'), value: keyField }),
    z.object({ action: z.literal('lang'), value: z.enum(LOCALES) }),
    z.object({ action: z.enum(['back', 'skip', 'publish', 'cancel', 'nophoto']), value: z.literal('-') }),
    z.object({ action: z.literal('goto'), value: z.enum(['category', 'district', 'text', 'photo']) }),
  ]),
);

/** Context for the posts domain functions, from the bot's dependencies. */
export function postsContext(ctx: Context): PostsContext {
  const { config, clock, city } = ctx.deps;
  return {
    clock,
    config,
    timeZone: city.timezone,
    quietHours: config.QUIET_HOURS,
    waves: waveSettings(config, city),
    translate: config.TRANSLATE_URL !== undefined,
    isProtected: (c) => city.isProtected(c),
  };
}

/** /need, /offer, /my and the buttons on one's own posts. */
export const postsFeature = new Composer<Context>();

postsFeature.command('need', (ctx) => beginDraft(ctx, 'need'));
postsFeature.command('offer', (ctx) => beginDraft(ctx, 'offer'));
postsFeature.callbackQuery(menuData.filter, async (ctx, next) => {
  const data = menuData.decode(ctx.callbackQuery.data);
  if (data?.action === 'need' || data?.action === 'offer') {
    await ctx.answerCallbackQuery();
    return beginDraft(ctx, data.action);
  }
  if (data?.action === 'my') {
    await ctx.answerCallbackQuery();
    return showOwnPosts(ctx);
  }
  return next();
});

// /intake: Lotsen and coordinators write a need for a person without Telegram; anyone else is told who may.
const lotsen = gate(postsFeature, 'intake.create', {
  commands: ['intake'],
  buttons: (data) => menuData.decode(data)?.action === 'intake',
});
lotsen.command('intake', (ctx) => beginIntake(ctx));
lotsen.callbackQuery(menuData.filter, async (ctx, next) => {
  if (menuData.decode(ctx.callbackQuery.data)?.action !== 'intake') return next();
  await ctx.answerCallbackQuery();
  return beginIntake(ctx);
});

/** Runs a domain check; a refusal is answered in the user's language with the way to their posts. */
async function allowed(ctx: Context, check: () => Promise<void>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    await ctx.reply(refusalText(ctx.t, err), { reply_markup: new InlineKeyboard().text(ctx.t('menu.my'), menuButton('my')) });
    return false;
  }
}

/** /intake: the person's language first, then their name, then the steps of /need. */
async function beginIntake(ctx: Context): Promise<void> {
  const user = requireUser(ctx);
  if (!(await allowed(ctx, () => checkMayCreateIntake(ctx.deps.db, postsContext(ctx), user)))) return;
  const draft: Draft = { kind: 'need', intake: { organisation: user.organisation } };
  const sent = await ctx.reply(renderStep(ctx, 'language', draft), { reply_markup: stepKeyboard(ctx, 'language', draft, user) });
  await postDialog.remember(ctx, 'language', draft, sent.message_id);
}

async function beginDraft(ctx: Context, kind: PostKind): Promise<void> {
  const user = requireUser(ctx);
  if (!(await allowed(ctx, () => checkMayCreatePost(ctx.deps.db, postsContext(ctx), user)))) return;
  const draft: Draft = { kind };
  const sent = await ctx.reply(renderStep(ctx, 'category', draft), { reply_markup: stepKeyboard(ctx, 'category', draft, user) });
  await postDialog.remember(ctx, 'category', draft, sent.message_id);
}

/** "(3/6)": where the step is in its dialog; /intake has two steps more than /need. */
function progressOf(step: Step, draft: Draft): string {
  if (step === 'preview') return '';
  const order: Step[] = draft.intake ? ['language', 'name', 'category', 'district', 'text', 'photo'] : ['category', 'district', 'text', 'photo'];
  return ` (${order.indexOf(step) + 1}/${order.length})`;
}

/** The language a text counts as when detection is unsure: the person's for /intake, else the author's. */
function fallbackLanguage(ctx: Context, draft: Draft): Locale {
  return draft.intake?.language ?? ctx.locale;
}

function renderStep(ctx: Context, step: Step, draft: Draft): string {
  const title = draft.intake
    ? ctx.t(draft.postId ? 'intake.dialog.titleEdit' : 'intake.dialog.title')
    : ctx.t(draft.postId ? `posts.dialog.titleEdit.${draft.kind}` : `posts.dialog.title.${draft.kind}`);
  const progress = progressOf(step, draft);
  switch (step) {
    case 'language':
      return `${title}${progress}\n\n${ctx.t('intake.dialog.language')}`;
    case 'name':
      return `${title}${progress}\n\n${ctx.t('intake.dialog.name')}`;
    case 'category':
      return `${title}${progress}\n\n${ctx.t(`posts.dialog.category.${draft.kind}`)}`;
    case 'district':
      return `${title}${progress}\n\n${ctx.t(`posts.dialog.district.${draft.kind}`)}`;
    case 'text': {
      const hint = draft.category ? ctx.deps.city.categoryHint(draft.category, ctx.locale) : undefined;
      return `${title}${progress}\n\n${ctx.t(`posts.dialog.text.${draft.kind}`, { min: POST_TEXT_MIN, max: POST_TEXT_MAX })}${hint ? `\n<i>${ctx.t('posts.dialog.categoryHint', { hint })}</i>` : ''}`;
    }
    case 'photo':
      return `${title}${progress}\n\n${ctx.t('posts.dialog.photo')}`;
    case 'preview': {
      const card = renderPostCard(
        { t: ctx.t, locale: ctx.locale, city: ctx.deps.city, now: ctx.deps.clock.now() },
        {
          id: draft.postId ?? 0,
          kind: draft.kind,
          category: draft.category ?? 'other',
          district: draft.district ?? WHOLE_CITY,
          text: draft.text ?? '',
          language: draft.text ? detectLanguage(draft.text, fallbackLanguage(ctx, draft)).language : fallbackLanguage(ctx, draft),
          photoFileId: draft.photoFileId ?? null,
          publishedAt: null,
          createdAt: ctx.deps.clock.now(),
          status: 'open',
          expiresAt: ctx.deps.clock.now(),
          intakeLanguage: draft.intake?.language ?? null,
          intakeOrganisation: draft.intake?.organisation ?? null,
        },
        'preview',
      );
      // Whom the need is for: only the Lotse sees this line, above what helpers will see.
      const person = draft.intake?.name && draft.intake.language ? `${renderIntakePerson(ctx.t, { intakeName: draft.intake.name, intakeLanguage: draft.intake.language })}\n\n` : '';
      const warning = draft.text && containsContactDetails(draft.text) ? `\n\n${ctx.t('posts.dialog.contactWarning')}` : '';
      // The author sees their text as written; readers of other languages may see a machine translation.
      const translated = ctx.deps.config.TRANSLATE_URL ? `\n\n${ctx.t('translation.previewNote')}` : '';
      return `${ctx.t(`posts.dialog.preview.${draft.postId ? 'edit' : 'new'}`)}\n\n${person}${card}${warning}${translated}`;
    }
  }
}

function stepKeyboard(ctx: Context, step: Step, draft: Draft, user: UserRow): InlineKeyboard {
  const { city } = ctx.deps;
  const cancel = { label: ctx.t('common.buttons.cancel'), data: draftData.encode({ action: 'cancel', value: '-' }) };
  const back = { label: ctx.t('common.buttons.back'), data: draftData.encode({ action: 'back', value: '-' }) };
  switch (step) {
    case 'language': {
      const keyboard = new InlineKeyboard();
      for (const locale of LOCALES) keyboard.text(ctx.t(`common.languageNames.${locale}`), draftData.encode({ action: 'lang', value: locale }));
      return keyboard.row().text(cancel.label, cancel.data);
    }
    case 'name':
      return new InlineKeyboard().text(back.label, back.data).text(cancel.label, cancel.data);
    case 'category': {
      const keyboard = createCategoryKeyboard(city, ctx.locale, (k) => draftData.encode({ action: 'cat', value: k }));
      // /intake came here from the name step: "back" goes there.
      return draft.reviewing || draft.intake ? keyboard.text(back.label, back.data).text(cancel.label, cancel.data) : keyboard.text(cancel.label, cancel.data);
    }
    case 'district': {
      const keyboard = new InlineKeyboard();
      if (user.district) {
        keyboard.text(ctx.t('posts.dialog.homeDistrict', { district: city.districtName(user.district, ctx.locale) }), draftData.encode({ action: 'dist', value: user.district })).row();
      }
      const districts = createDistrictKeyboard(city, ctx.locale, (k) => draftData.encode({ action: 'dist', value: k }), { current: draft.district, omit: user.district });
      for (const row of districts.inline_keyboard) keyboard.row(...row);
      return keyboard.row().text(back.label, back.data).text(cancel.label, cancel.data);
    }
    case 'text':
      return new InlineKeyboard().text(back.label, back.data).text(cancel.label, cancel.data);
    case 'photo': {
      const keyboard = new InlineKeyboard();
      if (draft.photoFileId) keyboard.text(ctx.t('posts.dialog.removePhoto'), draftData.encode({ action: 'nophoto', value: '-' })).row();
      keyboard.text(ctx.t(draft.photoFileId ? 'posts.dialog.keepPhoto' : 'posts.dialog.skipPhoto'), draftData.encode({ action: 'skip', value: '-' })).row();
      return keyboard.text(back.label, back.data).text(cancel.label, cancel.data);
    }
    case 'preview':
      return new InlineKeyboard()
        .text(ctx.t(draft.postId ? 'posts.dialog.save' : 'posts.dialog.publish'), draftData.encode({ action: 'publish', value: '-' }))
        .row()
        .text(ctx.t('posts.dialog.editText'), draftData.encode({ action: 'goto', value: 'text' }))
        .text(ctx.t('posts.dialog.editPhoto'), draftData.encode({ action: 'goto', value: 'photo' }))
        .row()
        .text(ctx.t('posts.dialog.editCategory'), draftData.encode({ action: 'goto', value: 'category' }))
        .text(ctx.t('posts.dialog.editDistrict'), draftData.encode({ action: 'goto', value: 'district' }))
        .row()
        .text(cancel.label, cancel.data);
  }
}

/** Shows a step: in place for button presses, as a new message after the user typed or sent a photo. */
async function goTo(ctx: Context, step: Step, draft: Draft, asNewMessage: boolean, lead?: string): Promise<void> {
  const keyboard = stepKeyboard(ctx, step, draft, requireUser(ctx));
  await postDialog.show(ctx, step, draft, underHint(lead, renderStep(ctx, step, draft)), keyboard, asNewMessage);
}

function previous(step: Step, draft: Draft): Step | 'leave' {
  if (draft.reviewing) return 'preview';
  return ({ language: 'leave', name: 'language', category: draft.intake ? 'name' : 'leave', district: 'category', text: 'district', photo: 'text', preview: 'photo' } as const)[step];
}

postsFeature.callbackQuery(draftData.filter, async (ctx) => {
  const data = draftData.decode(ctx.callbackQuery.data);
  const dialog = postDialog.forButton(ctx);
  if (!data || !dialog) return answerStale(ctx);
  const { step, data: draft } = dialog;
  const { city } = ctx.deps;

  switch (data.action) {
    case 'cancel':
      await postDialog.end(ctx);
      await ctx.answerCallbackQuery();
      await showScreen(ctx, ctx.t('cancel.done'));
      return;
    case 'back': {
      const to = previous(step, draft);
      await ctx.answerCallbackQuery();
      if (to === 'leave') {
        await postDialog.end(ctx);
        await showScreen(ctx, ctx.t('cancel.done'));
        return;
      }
      return goTo(ctx, to, draft, false);
    }
    case 'lang':
      if (step !== 'language' || !draft.intake) return answerStale(ctx);
      await ctx.answerCallbackQuery();
      return goTo(ctx, 'name', { ...draft, intake: { ...draft.intake, language: data.value } }, false);
    case 'cat':
      if (step !== 'category' || !city.isCategory(data.value)) return answerStale(ctx);
      await ctx.answerCallbackQuery();
      return goTo(ctx, draft.reviewing ? 'preview' : 'district', { ...draft, category: data.value }, false);
    case 'dist':
      if (step !== 'district' || !city.isArea(data.value)) return answerStale(ctx);
      await ctx.answerCallbackQuery();
      return goTo(ctx, draft.reviewing ? 'preview' : 'text', { ...draft, district: data.value }, false);
    case 'skip':
      if (step !== 'photo') return answerStale(ctx);
      await ctx.answerCallbackQuery();
      return goTo(ctx, 'preview', { ...draft, photoFileId: draft.photoFileId ?? null, reviewing: true }, false);
    case 'nophoto':
      if (step !== 'photo') return answerStale(ctx);
      await ctx.answerCallbackQuery();
      return goTo(ctx, 'preview', { ...draft, photoFileId: null, reviewing: true }, false);
    case 'goto':
      if (step !== 'preview') return answerStale(ctx);
      await ctx.answerCallbackQuery();
      return goTo(ctx, data.value, draft, false);
    case 'publish':
      if (step !== 'preview') return answerStale(ctx);
      return publish(ctx, draft);
  }
});

async function publish(ctx: Context, draft: Draft): Promise<void> {
  const user = requireUser(ctx);
  const { db } = ctx.deps;
  if (!draft.category || !draft.district || !draft.text) return answerStale(ctx);
  const intake = draft.intake;
  if (intake && (!intake.name || !intake.language)) return answerStale(ctx);
  // Detected offline (the author may write in another language than the bot speaks with them); for
  // /intake the person's language stands in when the text says too little.
  const language = detectLanguage(draft.text, fallbackLanguage(ctx, draft)).language;
  let result: Published;
  try {
    result = draft.postId
      ? await editPost(db, postsContext(ctx), user, draft.postId, {
          category: draft.category,
          district: draft.district,
          text: draft.text,
          photoFileId: draft.photoFileId ?? null,
          language,
        })
      : await publishPost(db, postsContext(ctx), user, {
          kind: draft.kind,
          category: draft.category,
          district: draft.district,
          text: draft.text,
          photoFileId: draft.photoFileId ?? null,
          language,
          ...(intake?.name && intake.language ? { intake: { name: intake.name, language: intake.language } } : {}),
        });
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    // Refused (limit, duplicate, ban): explain, and keep the draft so nothing typed is lost.
    await ctx.answerCallbackQuery();
    const keyboard = new InlineKeyboard().text(ctx.t('menu.my'), menuButton('my'));
    await ctx.reply(refusalText(ctx.t, err), { reply_markup: keyboard });
    return;
  }
  await postDialog.end(ctx);
  ctx.deps.delivery.wake();
  await ctx.answerCallbackQuery({ text: ctx.t(draft.postId ? 'posts.saved' : 'posts.published.short') });
  const card = renderPostCard({ t: ctx.t, locale: ctx.locale, city: ctx.deps.city, now: ctx.deps.clock.now() }, result.post, 'none');
  const outcome = result.awaitingReview
    ? ctx.t('posts.published.review')
    : draft.postId
      ? ctx.t('posts.published.edited', { count: result.recipients })
      : result.recipients > 0
        ? ctx.t(`posts.published.notified.${draft.kind}`, { count: result.recipients })
        : ctx.t(`posts.published.nobody.${draft.kind}`);
  const search = draft.postId || result.awaitingReview ? [] : searchLines(ctx, result.post);
  const person = result.post.intakeName !== null ? [renderIntakePerson(ctx.t, result.post)] : [];
  await showScreen(ctx, [outcome, ...search, '', ...person, card].join('\n'), new InlineKeyboard().text(ctx.t('menu.my'), menuButton('my')));
}

/** Where a freshly published need's search stands: widened at once, more waves to come, or on the desk. */
function searchLines(ctx: Context, post: PostRow): string[] {
  if (post.kind !== 'need') return [];
  const lines: string[] = [];
  if (post.widenedAt) lines.push(ctx.t('waves.published.widened'));
  if (post.deskAt) lines.push(ctx.t('waves.published.desk'));
  else if (post.nextWaveAt) lines.push(ctx.t('waves.published.next', { interval: formatDuration(ctx.deps.config.WAVE_INTERVAL, ctx.locale) }));
  return lines;
}

// Typed input and photos while the dialog waits for them.
postsFeature.on('message', async (ctx, next) => {
  const dialog = postDialog.current(ctx); // one that no longer reads is dropped
  if (!dialog || ctx.message.text?.startsWith('/')) return next();
  const { step, data: draft } = dialog;
  const message = ctx.message;

  if (step === 'name') {
    // First name or initials only: anything else (digits, @, a link) is refused with what is allowed.
    const name = message.text === undefined ? null : checkIntakeName(message.text);
    if (name === null || !draft.intake) {
      await ctx.reply(ctx.t('intake.errors.name', { max: INTAKE_NAME_MAX }));
      return;
    }
    return goTo(ctx, draft.reviewing ? 'preview' : 'category', { ...draft, intake: { ...draft.intake, name } }, true);
  }
  if (step === 'text') {
    const raw = message.text ?? message.caption;
    if (raw === undefined) {
      await ctx.reply(ctx.t(message.photo ? 'posts.dialog.textFirst' : 'posts.dialog.needText'));
      return;
    }
    const checked = checkPostText(raw);
    if (!checked.ok) {
      await ctx.reply(ctx.t(`posts.errors.${checked.reason}`, { min: POST_TEXT_MIN, max: POST_TEXT_MAX, length: checked.length }));
      return;
    }
    const photo = message.photo?.at(-1)?.file_id;
    const next: Draft = { ...draft, text: checked.text, ...(photo ? { photoFileId: photo } : {}) };
    return goTo(ctx, draft.reviewing || photo ? 'preview' : 'photo', photo ? { ...next, reviewing: true } : next, true);
  }
  if (step === 'photo') {
    const photo = message.photo?.at(-1)?.file_id;
    if (!photo) {
      await ctx.reply(ctx.t(message.document ? 'posts.dialog.photoAsFile' : 'posts.dialog.photoExpected'));
      return;
    }
    return goTo(ctx, 'preview', { ...draft, photoFileId: photo, reviewing: true }, true);
  }
  // A button step: the keyboard may have scrolled away, so it comes again, in one message under the hint.
  return goTo(ctx, step, draft, true, ctx.t('errors.buttonsExpected'));
});

// ------------------------------------------------------------------ /my

postsFeature.command('my', (ctx) => showOwnPosts(ctx));

async function showOwnPosts(ctx: Context): Promise<void> {
  const user = requireUser(ctx);
  // A Lotse also keeps up to INTAKE_MAX_OPEN needs taken for others: all of them are listed.
  const lotse = can(actorOf(user), 'intake.create');
  const own = await listOwnPosts(ctx.deps.db, ctx.deps.clock, user.id, lotse ? OWN_POSTS_SHOWN + ctx.deps.config.INTAKE_MAX_OPEN : OWN_POSTS_SHOWN);
  if (own.length === 0) {
    const keyboard = new InlineKeyboard().text(ctx.t('menu.need'), menuButton('need')).row().text(ctx.t('menu.offer'), menuButton('offer'));
    if (lotse) keyboard.row().text(ctx.t('menu.intake'), menuButton('intake'));
    await ctx.reply(ctx.t('posts.my.empty'), { reply_markup: keyboard });
    return;
  }
  await ctx.reply(ctx.t('posts.my.title', { count: own.length }));
  for (const post of own) {
    await ctx.reply(renderOwnCard(ctx, post), { reply_markup: ownPostKeyboard(ctx, post), link_preview_options: { is_disabled: true } });
  }
}

/** Posts /my lists for anyone (newest first). */
const OWN_POSTS_SHOWN = 20;

/** One's own post; a need taken for someone else names that person (the author is the only one who sees it). */
function renderOwnCard(ctx: Context, post: PostRow): string {
  const card = renderPostCard({ t: ctx.t, locale: ctx.locale, city: ctx.deps.city, now: ctx.deps.clock.now() }, post, 'own');
  return post.intakeName !== null ? `${renderIntakePerson(ctx.t, post)}\n${card}` : card;
}

/** The author's buttons: depend on the post's status. */
export function ownPostKeyboard(ctx: Context, post: PostRow): InlineKeyboard {
  const k = new InlineKeyboard();
  const encode = (action: 'edit' | 'renew' | 'done' | 'close') => postData.encode({ action, postId: post.id });
  if (isActive(post)) {
    k.text(ctx.t('posts.my.edit'), encode('edit')).text(ctx.t('posts.my.renew'), encode('renew')).row();
    k.text(ctx.t(`posts.my.done.${post.kind}`), encode('done')).text(ctx.t('posts.my.close'), encode('close'));
  } else if (post.status === 'pending_review') {
    k.text(ctx.t('posts.my.edit'), encode('edit')).text(ctx.t('posts.my.withdraw'), encode('close'));
  } else if (post.status === 'expired') {
    k.text(ctx.t('posts.my.republish'), encode('renew'));
  }
  return k;
}

postsFeature.callbackQuery(postData.filter, async (ctx, next) => {
  const data = postData.decode(ctx.callbackQuery.data);
  if (!data) return answerStale(ctx);
  if (data.action === 'view' || data.action === 'photo') return next();
  const user = requireUser(ctx);
  const { db } = ctx.deps;
  const post = await findPost(db, data.postId);
  if (!post || post.authorId !== user.id) {
    await ctx.answerCallbackQuery({ text: ctx.t(post ? 'posts.errors.notYours' : 'posts.errors.notFound'), show_alert: true });
    return;
  }
  switch (data.action) {
    case 'edit': {
      if (!isActive(post) && post.status !== 'pending_review') throw new DomainError('posts.errors.notActive');
      await ctx.answerCallbackQuery();
      const draft: Draft = {
        kind: post.kind,
        category: post.category,
        district: post.district,
        text: post.text ?? '',
        photoFileId: post.photoFileId,
        postId: post.id,
        reviewing: true,
        ...(post.intakeLanguage !== null
          ? { intake: { language: LOCALES.find((l) => l === post.intakeLanguage), name: post.intakeName ?? undefined, organisation: post.intakeOrganisation } }
          : {}),
      };
      return goTo(ctx, 'preview', draft, true);
    }
    case 'renew': {
      const renewed = await renewPost(db, postsContext(ctx), user, post.id);
      ctx.deps.delivery.wake();
      const until = formatDate(renewed.post.expiresAt, ctx.locale, ctx.deps.city.timezone);
      await ctx.answerCallbackQuery({ text: ctx.t('posts.renewed', { date: until }) });
      await showScreen(ctx, `${ctx.t('posts.renewed', { date: until })}\n\n${renderOwnCard(ctx, renewed.post)}`, ownPostKeyboard(ctx, renewed.post));
      return;
    }
    case 'done':
    case 'close': {
      const closed = await closePost(db, postsContext(ctx), user, post.id, data.action === 'done' ? 'fulfilled' : 'closed');
      ctx.deps.delivery.wake();
      // Requests to help with this post can no longer be answered: take their buttons away.
      for (const messageId of await findRequestMessageIds(db, post.id, user.id)) await removeKeyboard(ctx, messageId);
      const key = data.action === 'done' ? `posts.closed.fulfilled.${post.kind}` : 'posts.closed.closed';
      await ctx.answerCallbackQuery({ text: ctx.t(key) });
      await showScreen(ctx, `${ctx.t(key)}\n\n${renderOwnCard(ctx, closed)}`);
      return;
    }
  }
});
