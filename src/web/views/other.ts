import type { AuditEntry } from '../../domain/audit';
import type { NoticeReport } from '../../domain/notices';
import { shorten } from '../../presentation/format';
import { type Html, html, raw } from '../html';
import { date, districtName, page, statusBox, type View } from '../view';

/** The delivery report of a notice as a short line and a progress bar. */
function progressLine(v: View, r: NoticeReport): Html {
  const p = r.progress;
  const done = p.total - p.remaining;
  return html`<progress max="${Math.max(1, p.total)}" value="${done}" aria-label="${v.text('notices.progress')}">${done}/${p.total}</progress> ${v.t('notices.report', {
    total: p.total,
    delivered: p.delivered,
    unreachable: p.unreachable,
    failed: p.failed,
    cancelled: p.cancelled,
    remaining: p.remaining,
    duplicates: p.possibleDuplicates,
  })}`;
}

function audience(v: View, r: NoticeReport): string {
  const n = r.notice;
  const districts = n.districts.length ? n.districts.map((d) => districtName(v, d)).join(', ') : v.text('notices.allDistricts');
  const languages = n.languages.length ? n.languages.join(', ') : v.text('notices.allLanguages');
  return `${v.text(`notices.audience.${n.audience}`)} · ${districts} · ${languages}`;
}

/** Sent notices with audience and delivery report; staff see their organisation's. */
export function noticesPage(v: View, reports: NoticeReport[]): Html {
  const rows = reports.map(
    (r) => html`<tr data-id="${r.notice.id}"><td><a href="/web/notices/${r.notice.id}">#${r.notice.id}</a></td><td>${date(v, r.notice.createdAt)}</td><td>${r.notice.organisation}</td><td>${audience(v, r)}</td><td>${v.t(`notices.status.${r.notice.status}`)}</td><td>${progressLine(v, r)}</td><td>${shorten(Object.values(r.notice.texts)[0] ?? '', 80)}</td></tr>`,
  );
  const body = reports.length
    ? html`<div class="table-wrap"><table id="notices"><thead><tr><th scope="col">#</th><th scope="col">${v.t('needs.when')}</th><th scope="col">${v.t('notices.organisation')}</th><th scope="col">${v.t('notices.audienceLabel')}</th><th scope="col">${v.t('filters.status')}</th><th scope="col">${v.t('notices.progress')}</th><th scope="col">${v.t('needs.col.text')}</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : html`<p>${v.t('notices.none')}</p>`;
  return page(v, v.t('notices.title'), body);
}

/** One notice: texts per language and its delivery report; reloads itself every 5 s while in flight. */
export function noticePage(v: View, r: NoticeReport): Html {
  const sending = r.notice.status === 'sending';
  const body = html`<dl class="facts">
<dt>${v.t('notices.organisation')}</dt><dd>${r.notice.organisation}</dd>
<dt>${v.t('notices.audienceLabel')}</dt><dd>${audience(v, r)}</dd>
<dt>${v.t('needs.when')}</dt><dd>${date(v, r.notice.createdAt)}</dd>
<dt>${v.t('filters.status')}</dt><dd>${v.t(`notices.status.${r.notice.status}`)}${r.notice.finishedAt ? html` · ${date(v, r.notice.finishedAt)}` : ''}</dd>
<dt>${v.t('notices.progress')}</dt><dd id="notice-progress">${progressLine(v, r)}</dd>
</dl>
${sending ? html`<p class="muted">${v.t('notices.live')}</p>` : ''}
${Object.entries(r.notice.texts).map(([lang, text]) => html`<h2>${lang}</h2><p class="quote" lang="${lang}">${text ?? ''}</p>`)}
<p><a href="/web/notices">${v.t('notices.back')}</a></p>`;
  return page(v, v.t('notices.one', { id: r.notice.id }), body, { refreshSeconds: sending ? 5 : undefined });
}

/** The audit log with its filter. */
export function auditPage(v: View, entries: AuditEntry[], total: number, actions: string[], filter: { action?: string; from?: string; to?: string; page: number }, pages: number): Html {
  const q = (page: number) => {
    const s = new URLSearchParams();
    if (filter.action) s.set('action', filter.action);
    if (filter.from) s.set('from', filter.from);
    if (filter.to) s.set('to', filter.to);
    s.set('page', String(page));
    return `?${s.toString()}`;
  };
  const prefixes = [...new Set(actions.map((a) => `${a.split('.')[0]}.`))];
  const choices = [...prefixes, ...actions].sort();
  const form = html`<form method="get" action="/web/audit" class="filters">
<div><label for="a-action">${v.t('audit.action')}</label><select id="a-action" name="action"><option value="">${v.t('filters.all')}</option>${choices.map((a) => html`<option value="${a}"${a === filter.action ? raw(' selected') : ''}>${a}</option>`)}</select></div>
<div><label for="a-from">${v.t('audit.from')}</label><input type="date" id="a-from" name="from" value="${filter.from ?? ''}"></div>
<div><label for="a-to">${v.t('audit.to')}</label><input type="date" id="a-to" name="to" value="${filter.to ?? ''}"></div>
<div><button type="submit">${v.t('filters.apply')}</button> <a href="/web/audit">${v.t('filters.reset')}</a></div>
</form>`;
  const rows = entries.map(
    (e) => html`<tr><td>${date(v, e.at)}</td><td><code>${e.action}</code></td><td>${e.actor ? `${e.actor.firstName ?? '—'}${e.actor.organisation ? ` (${e.actor.organisation})` : ''} · ${e.actor.role ? v.text(`roles.${e.actor.role}`) : '—'}` : v.t('audit.system')}</td><td>${e.targetUserId === null ? '—' : `#${e.targetUserId}`}</td><td><code>${JSON.stringify(e.details)}</code></td></tr>`,
  );
  const body = html`${form}<p id="audit-total" data-total="${total}">${v.t('audit.total', { n: total })}</p>
<div class="table-wrap"><table id="audit"><thead><tr><th scope="col">${v.t('needs.when')}</th><th scope="col">${v.t('audit.action')}</th><th scope="col">${v.t('audit.actor')}</th><th scope="col">${v.t('audit.target')}</th><th scope="col">${v.t('audit.details')}</th></tr></thead><tbody>${rows.length ? rows : html`<tr><td colspan="5">${v.t('audit.none')}</td></tr>`}</tbody></table></div>
<nav class="pager" aria-label="${v.t('needs.pages')}">${filter.page > 1 ? html`<a href="/web/audit${q(filter.page - 1)}">${v.t('needs.prev')}</a>` : ''}<span>${v.t('needs.page', { page: filter.page, pages })}</span>${filter.page < pages ? html`<a href="/web/audit${q(filter.page + 1)}">${v.t('needs.next')}</a>` : ''}</nav>`;
  return page(v, v.t('audit.title'), body);
}

/** Telegram's Login Widget (only with WEB_TELEGRAM_LOGIN): its script from telegram.org, answering to authUrl. */
export interface TelegramWidget {
  botUsername: string;
  authUrl: string;
}

/** The login page: how to get a link (no cookie, or the session ended), and Telegram's widget when configured. */
export function loginHelpPage(v: View, reason?: 'ended' | 'loggedOut', widget?: TelegramWidget): Html {
  const widgetPart = widget
    ? html`<h2>${v.t('login.widgetTitle')}</h2><p>${v.t('login.widgetHow')}</p><div class="telegram-login"><script async src="https://telegram.org/js/telegram-widget.js?22" data-telegram-login="${widget.botUsername}" data-size="large" data-lang="${v.locale}" data-userpic="false" data-auth-url="${widget.authUrl}" data-request-access="write"></script></div>`
    : '';
  return page(v, v.t('login.title'), html`<p>${v.t('login.how')}</p>${widgetPart}`, { status: reason ? statusBox(reason === 'ended' ? 'error' : 'ok', v.t(`login.${reason}`)) : undefined });
}

/** After a Telegram widget login: a same-site hop to the overview, so that the SameSite=Strict cookie is sent. */
export function loggedInPage(v: View): Html {
  return page(v, v.t('login.title'), html`<p><a href="/web/overview">${v.t('login.continue')}</a></p>`, { redirectTo: '/web/overview' });
}

/** GET of a login link: a button, so that a link preview (which only GETs) does not use the link up. */
export function loginConfirmPage(v: View, token: string, csrf: string): Html {
  return page(
    v,
    v.t('login.title'),
    html`<p>${v.t('login.confirm')}</p><form method="post" action="/web/login/${token}"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit" id="login">${v.t('login.button')}</button></form>`,
  );
}

/** A refusal page (403, 404, 400, 413 …): short, localized, with a way on. */
export function errorPage(v: View, title: Html, message: Html): Html {
  return page(v, title, html`<p>${message}</p><p><a href="${v.session ? '/web/' : '/web/login'}">${v.t('errors.home')}</a></p>`);
}
