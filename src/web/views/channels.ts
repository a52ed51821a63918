import type { ChannelSummary } from '../../domain/channels';
import { lostReasonsOf } from '../../domain/channels';
import { type Html, html } from '../html';
import { date, districtName, page, type View } from '../view';

const LANGUAGE_NAMES: Record<string, string> = { uk: 'Українська', de: 'Deutsch', ru: 'Русский' };

/** Whether cards go out there, and if not, what the bot lacks. */
function statusCell(v: View, channel: ChannelSummary['channel']): Html {
  if (channel.status === 'active') return html`${v.t('channels.active')}`;
  const reasons = lostReasonsOf(channel).map((r) => html`<li>${v.t(`channels.reasons.${r}`)}</li>`);
  return html`<strong>${v.t('channels.lost')}</strong> (${date(v, channel.lostAt)})<ul class="plain">${reasons}</ul>`;
}

/**
 * The connected channels and groups, read-only (changes are made in the bot's /channels): each with its area,
 * the language of its cards, how many posts it mirrored, whether the bot can still write there and the last
 * refusal Telegram gave, and when and by whom it was connected.
 */
export function channelsPage(v: View, list: ChannelSummary[]): Html {
  const rows = list.map(({ channel, mirrored, open, addedBy }) => {
    const name = channel.username ? html`${channel.title} <span class="muted">@${channel.username}</span>` : html`${channel.title}`;
    const error = channel.lastError ? html`<code>${channel.lastError}</code><br><span class="muted">${date(v, channel.lastErrorAt)}</span>` : html`—`;
    return html`<tr data-id="${channel.id}"><th scope="row">${name}<br><span class="muted">${v.t(`channels.type.${channel.type === 'channel' ? 'channel' : 'group'}`)}</span></th><td>${districtName(v, channel.district)}</td><td>${LANGUAGE_NAMES[channel.locale] ?? channel.locale}</td><td class="num">${mirrored}</td><td class="num">${open}</td><td>${statusCell(v, channel)}</td><td>${error}</td><td>${date(v, channel.createdAt)}${addedBy ? html`<br><span class="muted">${addedBy}</span>` : ''}</td></tr>`;
  });
  const body = list.length
    ? html`<p>${v.t('channels.intro')}</p><div class="table-wrap"><table id="channels"><caption>${v.t('channels.caption', { n: list.length })}</caption><thead><tr><th scope="col">${v.t('channels.col.title')}</th><th scope="col">${v.t('channels.col.area')}</th><th scope="col">${v.t('channels.col.language')}</th><th scope="col">${v.t('channels.col.mirrored')}</th><th scope="col">${v.t('channels.col.open')}</th><th scope="col">${v.t('channels.col.status')}</th><th scope="col">${v.t('channels.col.error')}</th><th scope="col">${v.t('channels.col.added')}</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : html`<p>${v.t('channels.none')}</p>`;
  return page(v, v.t('channels.title'), body);
}
