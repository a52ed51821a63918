import { POST_STATUSES } from '../../db/schema';
import { ESCALATION_LEVELS, NEED_SOURCES, NEEDS_PAGE_SIZE, type NeedHistory, type NeedListItem, type NeedsFilter } from '../../domain/needs-list';
import { shorten } from '../../presentation/format';
import { type Html, html, raw } from '../html';
import { areaOptions, categoryName, categoryOptions, date, districtName, hoursOrDays, may, page, type View } from '../view';

/** The ages the filter offers, in hours. */
export const AGE_CHOICES = [24, 72, 168] as const;

function option(value: string, label: Html | string, selected: boolean): Html {
  return html`<option value="${value}"${selected ? raw(' selected') : ''}>${label}</option>`;
}

/** The filter form (GET: a filtered list is a link one can share or bookmark). */
function filterForm(v: View, f: NeedsFilter): Html {
  return html`<form method="get" action="/web/needs" class="filters">
<div><label for="f-district">${v.t('filters.district')}</label><select id="f-district" name="district">${areaOptions(v, f.district)}</select></div>
<div><label for="f-category">${v.t('filters.category')}</label><select id="f-category" name="category">${categoryOptions(v, f.category)}</select></div>
<div><label for="f-status">${v.t('filters.status')}</label><select id="f-status" name="status">${option('', v.t('filters.all'), !f.status)}${POST_STATUSES.filter((s) => s !== 'pending_review').map((s) => option(s, v.t(`status.${s}`), f.status === s))}</select></div>
<div><label for="f-age">${v.t('filters.age')}</label><select id="f-age" name="age">${option('', v.t('filters.all'), !f.minAgeHours)}${AGE_CHOICES.map((h) => option(String(h), v.t(`filters.olderThan.${h}`), f.minAgeHours === h))}</select></div>
<div><label for="f-level">${v.t('filters.level')}</label><select id="f-level" name="level">${option('', v.t('filters.all'), !f.level)}${ESCALATION_LEVELS.map((l) => option(l, v.t(`level.${l}`), f.level === l))}</select></div>
<div><label for="f-source">${v.t('filters.source')}</label><select id="f-source" name="source">${option('', v.t('filters.all'), !f.source)}${NEED_SOURCES.map((s) => option(s, v.t(`source.${s}`), f.source === s))}</select></div>
<div><button type="submit">${v.t('filters.apply')}</button> <a href="/web/needs">${v.t('filters.reset')}</a></div>
</form>`;
}

/** The query string of a filter (for the pager and the exports). */
export function filterQuery(f: NeedsFilter, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  if (f.district) q.set('district', f.district);
  if (f.category) q.set('category', f.category);
  if (f.status) q.set('status', f.status);
  if (f.minAgeHours) q.set('age', String(f.minAgeHours));
  if (f.level) q.set('level', f.level);
  if (f.source) q.set('source', f.source);
  for (const [k, val] of Object.entries(extra)) q.set(k, val);
  const s = q.toString();
  return s ? `?${s}` : '';
}

function row(v: View, n: NeedListItem): Html {
  const firstOffer = n.firstResponseAt && n.publishedAt ? hoursOrDays(v, n.firstResponseAt.getTime() - n.publishedAt.getTime()) : '—';
  return html`<tr data-id="${n.id}">
<td><a href="/web/needs/${n.id}">#${n.id}</a>${n.source === 'intake' ? html` <span class="badge" title="${v.t('source.intakeHint')}">${v.t('source.intakeBadge')}</span>` : ''}</td>
<td>${date(v, n.publishedAt)}</td>
<td>${districtName(v, n.district)}</td>
<td>${categoryName(v, n.category)}</td>
<td>${v.t(`status.${n.status}`)}</td>
<td>${v.t(`level.${n.level}`)}</td>
<td class="num">${n.told}</td>
<td class="num">${n.offered}</td>
<td class="num">${firstOffer}</td>
<td lang="${n.language}">${n.text ? shorten(n.text, 120) : html`<span class="muted">${v.t('needs.erased')}</span>`}</td>
</tr>`;
}

/** The needs list with its filters, exports and pager. */
export function needsPage(v: View, filter: NeedsFilter, items: NeedListItem[], total: number): Html {
  const pageNo = Math.max(1, filter.page ?? 1);
  const pages = Math.max(1, Math.ceil(total / NEEDS_PAGE_SIZE));
  const exports = may(v, 'stats.export')
    ? html`<form method="get" action="/web/export/needs.xlsx" class="filters">
${filter.district ? html`<input type="hidden" name="district" value="${filter.district}">` : ''}
${filter.category ? html`<input type="hidden" name="category" value="${filter.category}">` : ''}
${filter.status ? html`<input type="hidden" name="status" value="${filter.status}">` : ''}
${filter.minAgeHours ? html`<input type="hidden" name="age" value="${filter.minAgeHours}">` : ''}
${filter.level ? html`<input type="hidden" name="level" value="${filter.level}">` : ''}
${filter.source ? html`<input type="hidden" name="source" value="${filter.source}">` : ''}
<div><input type="checkbox" id="x-texts" name="texts" value="1"> <label for="x-texts" class="inline-label">${v.t('exports.withTexts')}</label></div>
<div><button type="submit" name="format" value="xlsx" formaction="/web/export/needs.xlsx">${v.t('exports.needsXlsx')}</button> <button type="submit" name="format" value="csv" formaction="/web/export/needs.csv" class="secondary">${v.t('exports.needsCsv')}</button></div>
</form>`
    : '';
  const body = html`${filterForm(v, filter)}
<p id="needs-total" data-total="${total}">${v.t('needs.total', { n: total })}</p>
${exports}
<div class="table-wrap"><table id="needs"><thead><tr>
<th scope="col">${v.t('needs.col.id')}</th><th scope="col">${v.t('needs.col.published')}</th><th scope="col">${v.t('filters.district')}</th><th scope="col">${v.t('filters.category')}</th><th scope="col">${v.t('filters.status')}</th><th scope="col">${v.t('filters.level')}</th><th scope="col" class="num">${v.t('needs.col.told')}</th><th scope="col" class="num">${v.t('needs.col.offers')}</th><th scope="col" class="num">${v.t('needs.col.firstOffer')}</th><th scope="col">${v.t('needs.col.text')}</th>
</tr></thead><tbody>${items.length ? items.map((n) => row(v, n)) : html`<tr><td colspan="10">${v.t('needs.none')}</td></tr>`}</tbody></table></div>
<nav class="pager" aria-label="${v.t('needs.pages')}">${pageNo > 1 ? html`<a href="/web/needs${filterQuery(filter, { page: String(pageNo - 1) })}">${v.t('needs.prev')}</a>` : ''}<span>${v.t('needs.page', { page: pageNo, pages })}</span>${pageNo < pages ? html`<a href="/web/needs${filterQuery(filter, { page: String(pageNo + 1) })}">${v.t('needs.next')}</a>` : ''}</nav>`;
  return page(v, v.t('needs.title'), body);
}

/** One need with its history (no identities). */
export function needPage(v: View, h: NeedHistory): Html {
  const n = h.need;
  const body = html`<dl class="facts">
<dt>${v.t('filters.district')}</dt><dd>${districtName(v, n.district)}</dd>
<dt>${v.t('filters.category')}</dt><dd>${categoryName(v, n.category)}</dd>
<dt>${v.t('filters.status')}</dt><dd>${v.t(`status.${n.status}`)}${n.closeReason ? html` (${v.t(`closeReason.${n.closeReason}`)})` : ''}</dd>
<dt>${v.t('filters.level')}</dt><dd>${v.t(`level.${n.level}`)}</dd>
<dt>${v.t('filters.source')}</dt><dd>${v.t(`source.${n.source}`)}</dd>
<dt>${v.t('needs.col.published')}</dt><dd>${date(v, n.publishedAt)}</dd>
<dt>${v.t('needs.expires')}</dt><dd>${date(v, h.expiresAt)}</dd>
<dt>${v.t('needs.col.told')}</dt><dd>${n.told}</dd>
<dt>${v.t('needs.col.offers')}</dt><dd>${n.offered}</dd>
</dl>
<h2>${v.t('needs.col.text')}</h2>
${n.text ? html`<p class="quote" lang="${n.language}">${n.text}</p>` : html`<p class="muted">${v.t('needs.erased')}</p>`}
<h2>${v.t('needs.waves')}</h2>
<div class="table-wrap"><table><thead><tr><th scope="col">${v.t('needs.wave')}</th><th scope="col">${v.t('needs.when')}</th><th scope="col" class="num">${v.t('needs.col.told')}</th><th scope="col" class="num">${v.t('needs.declined')}</th><th scope="col" class="num">${v.t('needs.col.offers')}</th></tr></thead>
<tbody>${h.waves.length ? h.waves.map((w) => html`<tr><td>${w.wave}</td><td>${date(v, w.at)}</td><td class="num">${w.told}</td><td class="num">${w.declined}</td><td class="num">${w.offered}</td></tr>`) : html`<tr><td colspan="5">${v.t('needs.noWaves')}</td></tr>`}</tbody></table></div>
<h2>${v.t('needs.history')}</h2>
<ol id="history">${h.events.map((e) => html`<li><time datetime="${e.at.toISOString()}">${date(v, e.at)}</time> — ${v.t(`events.${e.event.replace('.', '_')}`, { detail: e.detail ?? '' })}</li>`)}</ol>
<p><a href="/web/needs">${v.t('needs.back')}</a></p>`;
  return page(v, v.t('needs.one', { id: n.id }), body);
}
