import { REPORT_REASONS, type UserRow } from '../../db/schema';
import type { ReportContext } from '../../domain/moderation';
import { formatAge, shorten } from '../../presentation/format';
import { type Html, html } from '../html';
import { categoryName, csrfField, date, districtName, page, type View } from '../view';

function form(v: View, path: string, name: string, label: Html, extra: Html | string = '', kind = ''): Html {
  return html`<form method="post" action="${path}" class="inline">${csrfField(v)}<input type="hidden" name="action" value="${name}">${extra}<button type="submit"${kind ? html` class="${kind}"` : ''}>${label}</button></form>`;
}

function reasonSelect(v: View, id: string): Html {
  return html`<label for="${id}">${v.t('moderation.banReason')}</label> <select id="${id}" name="reason">${REPORT_REASONS.map((r) => html`<option value="${r}">${v.t(`reasons.${r}`)}</option>`)}</select> `;
}

function content(v: View, c: ReportContext): Html {
  if (c.post) {
    return html`<p>${v.t('moderation.post', { id: c.post.id })} · ${categoryName(v, c.post.category)} · ${districtName(v, c.post.district)} · ${v.t(`status.${c.post.status}`)}</p>${c.post.text ? html`<p class="quote" lang="${c.post.language}">${c.post.text}</p>` : html`<p class="muted">${v.t('needs.erased')}</p>`}`;
  }
  if (c.relay) return html`<p>${v.t('moderation.relay', { id: c.relay.postId })}</p><p class="quote">${c.relay.text ?? v.text('needs.erased')}</p>`;
  if (c.notice) return html`<p>${v.t('moderation.notice', { organisation: c.notice.organisation })}</p><p class="quote">${shorten(Object.values(c.notice.texts)[0] ?? '', 800)}</p>`;
  return html`<p class="muted">${v.t('moderation.gone')}</p>`;
}

function person(v: View, c: ReportContext): Html {
  const p = c.target;
  if (!p) return v.t('moderation.unknownPerson');
  return html`${v.t('moderation.person', { name: p.firstName ?? '—', id: p.id, role: p.role ? v.text(`roles.${p.role}`) : '—', reports: c.history.reports, warnings: c.history.warnings })}${p.bannedAt ? html` · <strong>${v.t('moderation.isBanned')}</strong>` : ''}`;
}

function report(v: View, c: ReportContext): Html {
  const r = c.report;
  const path = `/web/moderation/${r.id}`;
  const target = c.target;
  return html`<article class="card" id="report-${r.id}" data-id="${r.id}">
<h2>${v.t('moderation.reportTitle', { id: r.id })} · ${v.t(`reasons.${r.reason}`)}</h2>
<p class="muted">${formatAge(r.createdAt, v.now, v.locale)} · ${date(v, r.createdAt)}</p>
${content(v, c)}
<p>${person(v, c)}</p>
<div class="actions">
${form(v, path, 'dismiss', v.t('moderation.dismiss'), '', 'secondary')}
${c.post && c.post.status !== 'removed' ? form(v, path, 'remove', v.t('moderation.remove')) : ''}
${target ? form(v, path, 'warn', v.t('moderation.warn')) : ''}
${target && !target.bannedAt && target.role !== 'coordinator' ? form(v, path, 'ban', v.t('moderation.ban'), reasonSelect(v, `ban-reason-${r.id}`), 'danger') : ''}
</div>
</article>`;
}

function bannedRow(v: View, u: UserRow): Html {
  return html`<tr data-id="${u.id}"><td>${u.firstName ?? '—'} (#${u.id})</td><td>${v.t(`reasons.${u.banReason ?? 'other'}`)}</td><td>${date(v, u.bannedAt)}</td><td><form method="post" action="/web/users/${u.id}/unban" class="inline">${csrfField(v)}<button type="submit" class="secondary">${v.t('moderation.unban')}</button></form></td></tr>`;
}

/** The reports queue with the bot's actions, and the banned people with "unban". */
export function moderationPage(v: View, reports: ReportContext[], banned: UserRow[], status?: Html): Html {
  const body = html`<h2>${v.t('moderation.queue', { n: reports[0]?.open ?? 0 })}</h2>
${reports.length ? html`<div class="cards">${reports.map((c) => report(v, c))}</div>` : html`<p id="reports-empty">${v.t('moderation.empty')}</p>`}
<h2>${v.t('moderation.banned')}</h2>
${banned.length ? html`<div class="table-wrap"><table id="banned"><thead><tr><th scope="col">${v.t('moderation.who')}</th><th scope="col">${v.t('moderation.banReason')}</th><th scope="col">${v.t('needs.when')}</th><th scope="col">${v.t('moderation.action')}</th></tr></thead><tbody>${banned.map((u) => bannedRow(v, u))}</tbody></table></div>` : html`<p>${v.t('moderation.noneBanned')}</p>`}`;
  return page(v, v.t('moderation.title'), body, { status });
}
