import { Composer } from 'grammy';
import type { InlineQueryResultArticle } from 'grammy/types';
import type { PostRow } from '../../db/schema';
import { browsePosts, findPost, isActive } from '../../domain/posts';
import { shorten } from '../../presentation/format';
import { renderSharedCard } from '../../presentation/share';
import type { Context } from '../context';

/** How many open needs `@bot` alone offers to share. */
const SUGGESTIONS = 10;

/**
 * Inline mode: "📤 Share" under a post (switch_inline_query `#<id>`) or `@<bot> 12` in any chat offers
 * that post's anonymous card with a button that opens it in the bot; `@<bot>` alone offers the newest open
 * needs of one's district. A post that closed meanwhile is not offered (the results say so).
 */
export const inlineFeature = new Composer<Context>();

inlineFeature.on('inline_query', async (ctx) => {
  const query = ctx.inlineQuery.query.trim();
  const asked = /^#?\s*([1-9]\d{0,9})$/.exec(query);
  const { db, city, clock } = ctx.deps;
  let found: PostRow[];
  if (asked) {
    const postId = Number(asked[1]);
    const post = postId <= 2_147_483_647 ? await findPost(db, postId) : undefined;
    found = post && isActive(post) ? [post] : [];
  } else {
    const district = ctx.user?.district ?? '*';
    found = (await browsePosts(db, { kind: 'need', category: null, district, page: 0, pageSize: SUGGESTIONS })).posts;
  }
  const env = { t: ctx.t, locale: ctx.locale, city, now: clock.now() };
  const results: InlineQueryResultArticle[] = found.map((post) => {
    const card = renderSharedCard(env, post, ctx.me.username);
    return {
      type: 'article',
      id: `post-${post.id}`,
      title: `${city.categoryLabel(post.category, ctx.locale)} · ${city.districtName(post.district, ctx.locale)} · #${post.id}`,
      description: shorten(post.text ?? '', 120),
      input_message_content: { message_text: card.text, parse_mode: 'HTML', link_preview_options: { is_disabled: true } },
      reply_markup: card.keyboard,
    };
  });
  ctx.log.info({ asked: asked !== null, results: results.length }, 'inline query answered');
  await ctx.answerInlineQuery(results, {
    // Results are in the asker's language and a post may close any moment: nothing is cached for long.
    cache_time: 5,
    is_personal: true,
    ...(results.length === 0 ? { button: { text: ctx.t(asked ? 'share.notAvailable' : 'share.noneOpen'), start_parameter: 'share' } } : {}),
  });
});
