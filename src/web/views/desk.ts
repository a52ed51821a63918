import { DESK_CLOSE_REASONS, type DeskItem } from '../../domain/desk';
import { type Html, html } from '../html';
import { categoryName, csrfField, date, districtName, page, type View } from '../view';

/** One action button of a desk item: a POST form with the CSRF token. */
function action(v: View, id: number, name: string, label: Html, extra: Html | string = '', kind = ''): Html {
  return html`<form method="post" action="/web/desk/${id}" class="inline">${csrfField(v)}<input type="hidden" name="action" value="${name}">${extra}<button type="submit"${kind ? html` class="${kind}"` : ''}>${label}</button></form>`;
}

function item(v: View, d: DeskItem, selfId: number): Html {
  const { post, history, owner } = d;
  const office = v.city.office(post.category);
  const closeForm = html`<form method="post" action="/web/desk/${post.id}" class="inline">${csrfField(v)}<input type="hidden" name="action" value="close"><label for="reason-${post.id}">${v.t('desk.reason')}</label> <select id="reason-${post.id}" name="reason">${DESK_CLOSE_REASONS.map((r) => html`<option value="${r}">${v.t(`closeReason.${r}`)}</option>`)}</select> <button type="submit" class="danger">${v.t('desk.close')}</button></form>`;
  return html`<article class="card" id="desk-${post.id}" data-id="${post.id}">
<h2><a href="/web/needs/${post.id}">#${post.id}</a> · ${categoryName(v, post.category)} · ${districtName(v, post.district)}</h2>
${post.text ? html`<p class="quote" lang="${post.language}">${post.text}</p>` : html`<p class="muted">${v.t('needs.erased')}</p>`}
<dl class="facts">
<dt>${v.t('desk.since')}</dt><dd>${date(v, post.deskAt)}</dd>
<dt>${v.t('desk.historyLabel')}</dt><dd>${v.t('desk.history', { told: history.told, declined: history.declined, offered: history.offered, waves: post.wave })}${post.widenedAt ? html` · ${v.t('desk.widened')}` : ''}${post.deskBroadcastAt ? html` · ${v.t('desk.broadcastDone')}` : ''}${post.referredAt ? html` · ${v.t('desk.referredDone')}` : ''}</dd>
<dt>${v.t('desk.owner')}</dt><dd>${owner ? `${owner.firstName ?? '—'}${owner.organisation ? ` (${owner.organisation})` : ''}` : v.t('desk.unowned')}</dd>
<dt>${v.t('desk.office')}</dt><dd>${office ? html`<strong>${office.name[v.locale]}</strong> — ${office.description[v.locale]}${office.address ? html`<br>${office.address}` : ''}${office.hours ? html`<br>${office.hours}` : ''}${office.url ? html`<br>${office.url}` : ''}` : v.t('desk.noOffice')}</dd>
</dl>
<div class="actions">
${!owner || owner.id === selfId ? action(v, post.id, 'take', v.t('desk.take')) : ''}
${office ? action(v, post.id, 'refer', v.t('desk.refer'), '', 'secondary') : ''}
${office ? action(v, post.id, 'referclose', v.t('desk.referClose'), '', 'secondary') : ''}
${post.deskBroadcastAt ? '' : action(v, post.id, 'all', v.t('desk.all'), '', 'secondary')}
${closeForm}
</div>
</article>`;
}

/** The desk: the same items and actions as /desk in the bot. */
export function deskPage(v: View, items: DeskItem[], status?: Html): Html {
  const selfId = v.session?.user.id ?? 0;
  const body = items.length
    ? html`<p>${v.t('desk.intro', { n: items.length })}</p><div class="cards">${items.map((d) => item(v, d, selfId))}</div>`
    : html`<p id="desk-empty">${v.t('desk.empty')}</p>`;
  return page(v, v.t('desk.title'), body, { status });
}
