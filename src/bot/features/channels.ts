import { Composer, GrammyError, InlineKeyboard } from 'grammy';
import type { Message } from 'grammy/types';
import { z } from 'zod';
import { WHOLE_CITY } from '../../city';
import { LOCALES, type Locale } from '../../config';
import type { ChannelRow } from '../../db/schema';
import {
  applyMembership,
  type BotMembership,
  type ChatInfo,
  connectChannel,
  disconnectChannel,
  findChannel,
  listChannels,
  lostReasonsOf,
  missingRights,
  updateChannel,
} from '../../domain/channels';
import { actorOf } from '../../domain/permissions';
import { escapeHtml } from '../../i18n';
import { createCallbackData, idField, keyField } from '../../presentation/callback-data/codec';
import { createDistrictKeyboard, createLanguageRow } from '../../presentation/keyboards';
import type { Context } from '../context';
import { answerStale, defineDialog } from '../dialog';
import { type Authorized, gate } from '../permissions';

const none = z.literal('-');
/** Buttons of /channels: the list, connecting one, one channel's settings, disconnecting. */
export const channelData = createCallbackData(
  'chn',
  ['action', 'id', 'value'],
  z.discriminatedUnion('action', [
    z.object({ action: z.literal('list'), id: none, value: none }),
    z.object({ action: z.literal('add'), id: none, value: none }),
    z.object({ action: z.literal('view'), id: idField, value: none }),
    z.object({ action: z.literal('dists'), id: idField, value: none }),
    z.object({ action: z.literal('dist'), id: idField, value: keyField }),
    z.object({ action: z.literal('lang'), id: idField, value: z.enum(LOCALES) }),
    z.object({ action: z.literal('check'), id: idField, value: none }),
    z.object({ action: z.literal('del'), id: idField, value: none }),
    z.object({ action: z.literal('delok'), id: idField, value: none }),
  ]),
);

const steps = z.enum(['list', 'await', 'view', 'district', 'confirm']);
/** The /channels dialog; `channelId` is the channel a settings screen shows. */
const channelsDialog = defineDialog({ name: 'channels', steps, data: z.object({ channelId: z.number().int().positive().nullable() }) });

/**
 * The city's channels and groups. `channelMembership` comes before the private-chat filter: it hears
 * Telegram say that the bot was removed from (or demoted in, or promoted again in) a connected chat.
 */
export const channelMembership = new Composer<Context>();

channelMembership.on('my_chat_member', async (ctx, next) => {
  const { chat, new_chat_member: member } = ctx.myChatMember;
  if (chat.type === 'private') return next();
  const status = await applyMembership(ctx.deps.db, ctx.deps.clock, chat.id, chat.type, member);
  ctx.log.info({ chatId: chat.id, member: member.status, channel: status }, 'bot membership in a group or channel changed');
});

/** /channels (coordinators): connect channels and groups, set their district and language, see lost ones. */
export const channelsFeature = new Composer<Context>();

const managers = gate(channelsFeature, 'channels.manage', {
  commands: ['channels'],
  buttons: (data) => channelData.filter.test(data),
  dialog: channelsDialog.name,
});

managers.command('channels', (ctx) => showList(ctx, true));

managers.callbackQuery(channelData.filter, async (ctx) => {
  const data = channelData.decode(ctx.callbackQuery.data);
  const dialog = channelsDialog.forButton(ctx);
  if (!data || !dialog) return answerStale(ctx);
  if (data.action === 'list') {
    await ctx.answerCallbackQuery();
    return showList(ctx, false);
  }
  if (data.action === 'add') {
    await ctx.answerCallbackQuery();
    const keyboard = new InlineKeyboard().text(ctx.t('common.buttons.back'), channelData.encode({ action: 'list', id: '-', value: '-' }));
    return channelsDialog.show(ctx, 'await', { channelId: null }, ctx.t('channels.add.prompt', { bot: ctx.me.username }), keyboard, false);
  }
  const actor = actorOf(ctx.user);
  const { db, clock } = ctx.deps;
  const channel = await findChannel(db, actor, data.id);
  if (!channel) {
    await ctx.answerCallbackQuery({ text: ctx.t('channels.errors.gone'), show_alert: true });
    return showList(ctx, false);
  }
  switch (data.action) {
    case 'view':
      await ctx.answerCallbackQuery();
      return showChannel(ctx, channel, false);
    case 'dists': {
      await ctx.answerCallbackQuery();
      const keyboard = createDistrictKeyboard(ctx.deps.city, ctx.locale, (key) => channelData.encode({ action: 'dist', id: channel.id, value: key }), {
        current: channel.district,
        back: { label: ctx.t('common.buttons.back'), data: channelData.encode({ action: 'view', id: channel.id, value: '-' }) },
      });
      return channelsDialog.show(ctx, 'district', { channelId: channel.id }, ctx.t('channels.chooseDistrict', { title: escapeHtml(channel.title) }), keyboard, false);
    }
    case 'dist': {
      if (dialog.step !== 'district' || !ctx.deps.city.isArea(data.value)) return answerStale(ctx);
      await ctx.answerCallbackQuery();
      return showChannel(ctx, (await updateChannel(db, actor, channel.id, { district: data.value })) ?? channel, false);
    }
    case 'lang':
      await ctx.answerCallbackQuery();
      return showChannel(ctx, (await updateChannel(db, actor, channel.id, { locale: data.value })) ?? channel, false);
    case 'check': {
      const member = await botMembership(ctx, channel.chatId);
      const status = await applyMembership(db, clock, channel.chatId, channel.type, member);
      await ctx.answerCallbackQuery({ text: ctx.t(status === 'active' ? 'channels.check.ok' : 'channels.check.lost'), show_alert: status !== 'active' });
      return showChannel(ctx, (await findChannel(db, actor, channel.id)) ?? channel, false);
    }
    case 'del': {
      await ctx.answerCallbackQuery();
      const keyboard = new InlineKeyboard()
        .text(ctx.t('channels.disconnect.yes'), channelData.encode({ action: 'delok', id: channel.id, value: '-' }))
        .row()
        .text(ctx.t('common.buttons.back'), channelData.encode({ action: 'view', id: channel.id, value: '-' }));
      return channelsDialog.show(ctx, 'confirm', { channelId: channel.id }, ctx.t('channels.disconnect.confirm', { title: escapeHtml(channel.title) }), keyboard, false);
    }
    case 'delok': {
      if (dialog.step !== 'confirm') return answerStale(ctx);
      await disconnectChannel(db, clock, actor, channel.id);
      await ctx.answerCallbackQuery({ text: ctx.t('channels.disconnect.done', { title: channel.title }) });
      return showList(ctx, false);
    }
  }
});

// While "connect" waits: a message forwarded from the channel, its @name or t.me link, or a chat id.
managers.on('message', async (ctx, next) => {
  const dialog = channelsDialog.current(ctx);
  if (!dialog || dialog.step !== 'await' || ctx.message.text?.startsWith('/')) return next();
  const ref = chatReference(ctx.message);
  if (ref === null) {
    await ctx.reply(ctx.t('channels.add.notUnderstood'));
    return;
  }
  const chat = await lookUpChat(ctx, ref);
  if (!chat) {
    await ctx.reply(ctx.t('channels.add.notFound', { bot: ctx.me.username }));
    return;
  }
  if (chat.type === 'private') {
    await ctx.reply(ctx.t('channels.errors.notAChannel'));
    return;
  }
  const missing = missingRights(chat.type, await botMembership(ctx, chat.id));
  if (missing.length > 0) {
    ctx.log.info({ chatId: chat.id, missing }, 'channel not connected: the bot lacks rights');
    const list = missing.map((right) => ctx.t(`channels.rights.${right}`)).join('\n');
    await ctx.reply(ctx.t('channels.add.missing', { title: escapeHtml(chat.title), missing: list, bot: ctx.me.username }));
    return;
  }
  const { channel, again } = await connectChannel(ctx.deps.db, ctx.deps.clock, actorOf(ctx.user), chat, { district: WHOLE_CITY, locale: ctx.locale });
  ctx.log.info({ chatId: chat.id, channelId: channel.id, again }, 'channel connected');
  await ctx.reply(ctx.t('channels.add.connected', { title: escapeHtml(channel.title) }));
  await showChannel(ctx, channel, true);
});

/** What a coordinator's message names: a forwarded channel post, `@name`, a t.me link or a numeric chat id. */
function chatReference(message: Message): number | string | null {
  const origin = message.forward_origin;
  if (origin?.type === 'channel') return origin.chat.id;
  if (origin?.type === 'chat') return origin.sender_chat.id;
  const text = message.text?.trim() ?? '';
  const name = /^(?:@|(?:https?:\/\/)?t\.me\/)([A-Za-z][A-Za-z0-9_]{3,31})\/?$/.exec(text);
  if (name) return `@${name[1]}`;
  if (/^-\d{5,16}$/.test(text)) return Number(text);
  return null;
}

/** getChat: the chat, or null when Telegram does not know it or the bot may not see it. */
async function lookUpChat(ctx: Context, ref: number | string): Promise<ChatInfo | null> {
  try {
    const chat = await ctx.api.getChat(ref);
    const title = 'title' in chat && chat.title ? chat.title : ('first_name' in chat ? (chat.first_name ?? '') : '');
    return { id: chat.id, type: chat.type, title, username: 'username' in chat ? chat.username : null };
  } catch (err) {
    if (err instanceof GrammyError && (err.error_code === 400 || err.error_code === 403)) return null;
    throw err;
  }
}

/** The bot's own membership in a chat; a chat that refuses the question counts as "not a member". */
async function botMembership(ctx: Context, chatId: number): Promise<BotMembership> {
  try {
    return await ctx.api.getChatMember(chatId, ctx.me.id);
  } catch (err) {
    if (err instanceof GrammyError && (err.error_code === 400 || err.error_code === 403)) return { status: 'left' };
    throw err;
  }
}

function areaName(ctx: Context, district: string): string {
  return ctx.deps.city.districtName(district, ctx.locale);
}

function lostText(ctx: Context, channel: ChannelRow): string {
  return lostReasonsOf(channel)
    .map((reason) => ctx.t(`channels.rights.${reason}`))
    .join('\n');
}

async function showList(ctx: Authorized, asNewMessage: boolean): Promise<void> {
  const list = await listChannels(ctx.deps.db, actorOf(ctx.user));
  const lines = [ctx.t('channels.title'), ctx.t('channels.intro'), ''];
  const keyboard = new InlineKeyboard();
  if (list.length === 0) lines.push(ctx.t('channels.empty'));
  list.forEach((channel, i) => {
    const mark = channel.status === 'active' ? '✅' : '⚠️';
    lines.push(
      ctx.t('channels.line', {
        n: i + 1,
        mark,
        title: escapeHtml(channel.title),
        district: escapeHtml(areaName(ctx, channel.district)),
        language: ctx.t(`common.languages.${channel.locale}`),
      }),
    );
    if (channel.status === 'lost') lines.push(ctx.t('channels.lostLine'), lostText(ctx, channel));
    keyboard.text(`${i + 1}. ${mark} ${channel.title}`.slice(0, 60), channelData.encode({ action: 'view', id: channel.id, value: '-' })).row();
  });
  keyboard.text(ctx.t('channels.addButton'), channelData.encode({ action: 'add', id: '-', value: '-' }));
  await channelsDialog.show(ctx, 'list', { channelId: null }, lines.join('\n'), keyboard, asNewMessage);
}

async function showChannel(ctx: Authorized, channel: ChannelRow, asNewMessage: boolean): Promise<void> {
  const lines = [
    ctx.t('channels.view', {
      title: escapeHtml(channel.title),
      name: channel.username ? ` (@${escapeHtml(channel.username)})` : '',
      district: escapeHtml(areaName(ctx, channel.district)),
      language: ctx.t(`common.languages.${channel.locale}`),
    }),
    ctx.t(`channels.status.${channel.status}`),
  ];
  if (channel.status === 'lost') lines.push(lostText(ctx, channel));
  const keyboard = new InlineKeyboard().text(ctx.t('channels.districtButton'), channelData.encode({ action: 'dists', id: channel.id, value: '-' })).row();
  createLanguageRow(keyboard, ctx.t, (locale: Locale) => channelData.encode({ action: 'lang', id: channel.id, value: locale }), channel.locale as Locale);
  keyboard
    .text(ctx.t('channels.checkButton'), channelData.encode({ action: 'check', id: channel.id, value: '-' }))
    .text(ctx.t('channels.disconnectButton'), channelData.encode({ action: 'del', id: channel.id, value: '-' }))
    .row()
    .text(ctx.t('common.buttons.back'), channelData.encode({ action: 'list', id: '-', value: '-' }));
  await channelsDialog.show(ctx, 'view', { channelId: channel.id }, lines.join('\n'), keyboard, asNewMessage);
}
