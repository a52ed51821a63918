import { Composer, InlineKeyboard } from 'grammy';
import { z } from 'zod';
import { WHOLE_CITY } from '../../city';
import type { PostKind, PostRow, TranslationRow, UserRow } from '../../db/schema';
import { findPostTranslations } from '../../domain/translations';
import { pickPostTranslation, type TextView, translationMark, translationToggle } from '../../presentation/translation';
import { browsePosts, findPost, isActive } from '../../domain/posts';
import { isVerifiedHelper } from '../../domain/verification';
import { verifyRequestData } from '../../presentation/callback-data/verification';
import { createCallbackData, keyField } from '../../presentation/callback-data/codec';
import { parseStartPayload } from '../../presentation/callback-data/deep-link';
import { postData } from '../../presentation/callback-data/posts';
import { type Context, requireUser } from '../context';
import { answerStale, showScreen } from '../dialog';
import { createCategoryKeyboard, createDistrictKeyboard } from '../../presentation/keyboards';
import { formatAge, shorten } from '../../presentation/format';
import { createPostActionsKeyboard, postMessage, renderIntakeMark, renderIntakePerson, renderPostCard } from '../../presentation/post';
import { menuData } from '../../presentation/callback-data/menu';
import { ownPostKeyboard } from './posts';
import { escapeHtml } from '../../i18n';

const PAGE_SIZE = 5;
const MAX_PAGE = 200;

/**
 * Browsing state lives entirely in the button: view (l = list, c = choose category, d = choose
 * district), kind, category ('*' = all), district ('*' = all) and page. An old browse message therefore
 * keeps working and simply shows what is open now.
 */
export const browseData = createCallbackData(
  'b',
  ['view', 'kind', 'category', 'district', 'page'],
  z.object({
    view: z.enum(['l', 'c', 'd']),
    kind: z.enum(['need', 'offer']),
    category: keyField,
    district: keyField,
    page: z
      .string()
      .regex(/^\d{1,3}$/)
      .transform(Number)
      .pipe(z.number().int().min(0).max(MAX_PAGE)),
  }),
);
interface BrowseState {
  kind: PostKind;
  category: string;
  district: string;
  page: number;
}

/** /browse: open needs (helpers) or offers (seekers), by category and district, five per page. */
export const browseFeature = new Composer<Context>();

function defaultKind(user: UserRow): PostKind {
  return user.role === 'seeker' || user.role === null ? 'offer' : 'need';
}

browseFeature.command('browse', async (ctx) => {
  const user = requireUser(ctx);
  const state: BrowseState = { kind: defaultKind(user), category: WHOLE_CITY, district: user.district ?? WHOLE_CITY, page: 0 };
  const { text, keyboard } = await renderList(ctx, state);
  await ctx.reply(text, { reply_markup: keyboard, link_preview_options: { is_disabled: true } });
});

browseFeature.callbackQuery(menuData.filter, async (ctx, next) => {
  if (menuData.decode(ctx.callbackQuery.data)?.action !== 'browse') return next();
  const user = requireUser(ctx);
  await ctx.answerCallbackQuery();
  const { text, keyboard } = await renderList(ctx, { kind: defaultKind(user), category: WHOLE_CITY, district: user.district ?? WHOLE_CITY, page: 0 });
  await ctx.reply(text, { reply_markup: keyboard, link_preview_options: { is_disabled: true } });
});

browseFeature.callbackQuery(browseData.filter, async (ctx) => {
  const data = browseData.decode(ctx.callbackQuery.data);
  const { city } = ctx.deps;
  if (!data || (data.category !== WHOLE_CITY && !city.isCategory(data.category)) || !city.isArea(data.district)) return answerStale(ctx);
  await ctx.answerCallbackQuery();
  const state: BrowseState = { kind: data.kind, category: data.category, district: data.district, page: data.page };
  if (data.view === 'c') {
    const keyboard = createCategoryKeyboard(city, ctx.locale, (k) => browseData.encode({ ...state, view: 'l', category: k, page: 0 }));
    keyboard.text(ctx.t('browse.allCategories'), browseData.encode({ ...state, view: 'l', category: WHOLE_CITY, page: 0 })).row();
    keyboard.text(ctx.t('common.buttons.back'), browseData.encode({ ...state, view: 'l' }));
    await showScreen(ctx, ctx.t('browse.chooseCategory'), keyboard);
    return;
  }
  if (data.view === 'd') {
    const keyboard = createDistrictKeyboard(city, ctx.locale, (k) => browseData.encode({ ...state, view: 'l', district: k, page: 0 }), {
      current: state.district,
      back: { label: ctx.t('common.buttons.back'), data: browseData.encode({ ...state, view: 'l' }) },
    });
    await showScreen(ctx, ctx.t('browse.chooseDistrict'), keyboard);
    return;
  }
  const { text, keyboard } = await renderList(ctx, state);
  await showScreen(ctx, text, keyboard);
});

/** Stored translations of these posts, when machine translation is on (none otherwise: texts as written). */
async function translationsFor(ctx: Context, posts: PostRow[]): Promise<TranslationRow[]> {
  if (!ctx.deps.config.TRANSLATE_URL) return [];
  return findPostTranslations(ctx.deps.db, posts.filter((p) => p.language !== ctx.locale).map((p) => p.id));
}

async function renderList(ctx: Context, state: BrowseState): Promise<{ text: string; keyboard: InlineKeyboard }> {
  const { db, city, clock } = ctx.deps;
  let { posts: page, total } = await browsePosts(db, { kind: state.kind, category: state.category === WHOLE_CITY ? null : state.category, district: state.district, page: state.page, pageSize: PAGE_SIZE });
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  if (state.page >= pages && total > 0) {
    state = { ...state, page: pages - 1 };
    ({ posts: page, total } = await browsePosts(db, { kind: state.kind, category: state.category === WHOLE_CITY ? null : state.category, district: state.district, page: state.page, pageSize: PAGE_SIZE }));
  }
  const filter = ctx.t('browse.filter', {
    category: state.category === WHOLE_CITY ? ctx.t('browse.allCategories') : city.categoryLabel(state.category, ctx.locale),
    district: state.district === WHOLE_CITY ? ctx.t('browse.allDistricts') : city.districtName(state.district, ctx.locale),
  });
  const lines = [ctx.t(`browse.title.${state.kind}`), filter, ''];
  const translated = await translationsFor(ctx, page);
  const keyboard = new InlineKeyboard();
  // Needs of protected categories are shown to everyone, marked 🔒; who is not verified learns how to be.
  const locked = (post: { kind: PostKind; category: string }) => post.kind === 'need' && city.isProtected(post.category);
  const showNote = page.some(locked) && !(await isVerifiedHelper(db, requireUser(ctx).id));
  if (page.length === 0) {
    lines.push(ctx.t(`browse.empty.${state.kind}`));
  } else {
    lines.push(ctx.t('browse.page', { page: state.page + 1, pages, count: total }), '');
    page.forEach((post, i) => {
      const n = state.page * PAGE_SIZE + i + 1;
      const translation = pickPostTranslation(post, translated, ctx.locale);
      const language = translation ? translationMark(ctx.t, translation.source) : ctx.t('posts.card.language', { language: ctx.t(`common.languageNames.${post.language}`) });
      lines.push(
        `<b>${n}.</b> ${locked(post) ? '🔒 ' : ''}${escapeHtml(city.categoryLabel(post.category, ctx.locale))} · 📍 ${escapeHtml(city.districtName(post.district, ctx.locale))} · ${formatAge(post.publishedAt ?? post.createdAt, clock.now(), ctx.locale)}`,
        `${escapeHtml(shorten(translation?.text ?? post.text ?? '', 160))}`,
        `<i>${language}${post.photoFileId ? ' · 📷' : ''}</i>`,
        // "🧭 Posted by a Lotse (Caritas)" for a need taken for someone without Telegram (never the person).
        ...[renderIntakeMark(ctx.t, post)].filter((mark): mark is string => mark !== null),
        '',
      );
      keyboard.text(`${n}`, postData.encode({ action: 'view', postId: post.id }));
    });
    keyboard.row();
    if (state.page > 0) keyboard.text(ctx.t('browse.previous'), browseData.encode({ ...state, view: 'l', page: state.page - 1 }));
    if (state.page + 1 < pages) keyboard.text(ctx.t('browse.next'), browseData.encode({ ...state, view: 'l', page: Math.min(MAX_PAGE, state.page + 1) }));
    keyboard.row();
    lines.push(ctx.t('browse.openHint'));
    if (showNote) {
      lines.push(ctx.t('verification.browseNote'));
      keyboard.text(ctx.t('verification.askButton'), verifyRequestData.encode({ action: 'ask' })).row();
    }
  }
  keyboard
    .text(ctx.t('browse.filterCategory'), browseData.encode({ ...state, view: 'c' }))
    .text(ctx.t('browse.filterDistrict'), browseData.encode({ ...state, view: 'd' }))
    .row()
    .text(ctx.t(`browse.switch.${state.kind}`), browseData.encode({ kind: state.kind === 'need' ? 'offer' : 'need', category: state.category, district: state.district, page: 0, view: 'l' }));
  return { text: lines.join('\n').trimEnd(), keyboard };
}

/**
 * Opens one post as its own message, with the buttons that fit who is looking. A post no longer open gets a
 * short answer (with `closed`: that text and keyboard instead, e.g. right after onboarding from a card's link).
 */
export async function showPost(ctx: Context, postId: number, closed?: { text: string; keyboard: InlineKeyboard }): Promise<void> {
  const user = requireUser(ctx);
  const post = await findPost(ctx.deps.db, postId);
  if (!post || !isActive(post)) {
    if (closed) {
      await ctx.reply(closed.text, { reply_markup: closed.keyboard });
      return;
    }
    const text = ctx.t(post?.status === 'fulfilled' ? 'contacts.errors.alreadyTaken' : 'browse.notAvailable');
    if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text, show_alert: true });
    else await ctx.reply(text);
    return;
  }
  // Opened by a button or by a t.me link (/start post_<id>), which has no query to answer.
  if (ctx.callbackQuery) await ctx.answerCallbackQuery().catch(() => undefined);
  const own = post.authorId === user.id;
  // Someone else's post in another language: the stored machine translation, the original one tap away.
  const translation = own ? undefined : pickPostTranslation(post, await translationsFor(ctx, [post]), ctx.locale);
  const view: TextView = translation ? { show: 'translation', text: translation.text, source: translation.source } : { show: 'original' };
  // A need of a protected category: who is not verified sees it with a note and the way to get verified.
  const verifyFirst = !own && post.kind === 'need' && ctx.deps.city.isProtected(post.category) && !(await isVerifiedHelper(ctx.deps.db, user.id));
  // The Lotse opening their own intake need reads for whom it is; nobody else ever does.
  const person = own && post.intakeName !== null ? `${renderIntakePerson(ctx.t, post)}\n` : '';
  const card =
    person +
    renderPostCard({ t: ctx.t, locale: ctx.locale, city: ctx.deps.city, now: ctx.deps.clock.now() }, post, own ? 'own' : 'detail', view) +
    (verifyFirst ? `\n\n${ctx.t('verification.postNote')}` : '');
  const message = postMessage(card, post.photoFileId);
  const keyboard = own
    ? ownPostKeyboard(ctx, post)
    : createPostActionsKeyboard(ctx.t, post, {
        photoButton: !message.photoInline,
        toggle: translationToggle(ctx.t, view, { view: 'd', id: post.id }, translation !== undefined),
        verifyFirst,
        share: true,
      });
  if (message.method === 'sendPhoto') await ctx.replyWithPhoto(post.photoFileId!, { caption: card, reply_markup: keyboard });
  else await ctx.reply(card, { reply_markup: keyboard, link_preview_options: { is_disabled: true } });
}

browseFeature.callbackQuery(postData.filter, async (ctx, next) => {
  const data = postData.decode(ctx.callbackQuery.data);
  if (!data || (data.action !== 'view' && data.action !== 'photo')) return next();
  if (data.action === 'view') return showPost(ctx, data.postId);
  const post = await findPost(ctx.deps.db, data.postId);
  if (!post?.photoFileId || !isActive(post)) return answerStale(ctx);
  await ctx.answerCallbackQuery();
  await ctx.replyWithPhoto(post.photoFileId, { caption: `#${post.id}` });
});

// t.me/<bot>?start=post_<id> opens a post directly (links shared by staff or coordinators).
browseFeature.command('start', async (ctx, next) => {
  const link = parseStartPayload(ctx.match);
  if (link.type !== 'post' || !requireUser(ctx).onboardedAt) return next();
  return showPost(ctx, link.postId);
});
