import type { UserRow } from '../../db/schema';
import type { HelperLoad } from '../../domain/helper-load';
import type { VerifiedList } from '../../domain/verification';
import { nameWithUsername } from '../../presentation/labels';
import { type Html, html } from '../html';
import { csrfField, date, districtName, may, page, type View } from '../view';

/** What the helpers page shows; the parts a viewer may not see are left out by the route. */
export interface HelpersData {
  load: HelperLoad;
  weeklyCap: number;
  /** Coordinators (`verification.review`): requests, helpers verified one by one, organisations. */
  verified?: VerifiedList;
  /** Coordinators (`staff.list`): staff and coordinators. */
  staff?: UserRow[];
  /** A link just created (shown once: only its hash is stored). */
  created?: { kind: 'staff' | 'organisation'; organisation: string; link: string; expiresAt: Date };
}

/** The helpers' load as an anonymous distribution: a bar chart and the same numbers as a table. */
function loadSection(v: View, load: HelperLoad, weeklyCap: number): Html {
  const width = 560;
  const height = 200;
  const max = Math.max(1, ...load.buckets.map((b) => b.helpers));
  const slot = (width - 20) / load.buckets.length;
  const label = (b: HelperLoad['buckets'][number]) => (b.to === null ? `${b.from}+` : b.from === b.to ? String(b.from) : `${b.from}–${b.to}`);
  const bars = load.buckets.map((b, i) => {
    const h = ((height - 50) * b.helpers) / max;
    const x = 10 + i * slot + 6;
    return html`<rect x="${x.toFixed(1)}" y="${(height - 30 - h).toFixed(1)}" width="${(slot - 12).toFixed(1)}" height="${h.toFixed(1)}" fill="#0b5cad"></rect><text class="chart-label" x="${(x + (slot - 12) / 2).toFixed(1)}" y="${(height - 34 - h).toFixed(1)}" text-anchor="middle">${b.helpers}</text><text class="chart-label" x="${(x + (slot - 12) / 2).toFixed(1)}" y="${height - 14}" text-anchor="middle">${label(b)}</text>`;
  });
  return html`<h2 id="load-heading">${v.t('helpers.loadTitle')}</h2>
<p>${v.t('helpers.intro', { n: load.helpers })}</p>
<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="load-title"><title id="load-title">${v.t('helpers.chart')}</title>${bars}</svg>
<div class="table-wrap"><table id="load"><thead><tr><th scope="col">${v.t('helpers.bucket')}</th><th scope="col" class="num">${v.t('helpers.helpers')}</th></tr></thead><tbody>${load.buckets.map((b) => html`<tr><td>${label(b)}</td><td class="num">${b.helpers}</td></tr>`)}</tbody></table></div>
<dl class="facts">
<dt>${v.t('helpers.median')}</dt><dd>${load.median ?? '—'}</dd>
<dt>${v.t('helpers.p90')}</dt><dd>${load.p90 ?? '—'}</dd>
<dt>${v.t('helpers.p99')}</dt><dd>${load.p99 ?? '—'}</dd>
<dt>${v.t('helpers.max')}</dt><dd>${load.max ?? '—'}</dd>
<dt>${v.t('helpers.atCap', { cap: weeklyCap })}</dt><dd>${load.atCap}</dd>
<dt>${v.t('helpers.offerRate')}</dt><dd>${load.offerRate === null ? '—' : `${Math.round(load.offerRate * 1000) / 10} %`}</dd>
</dl>`;
}

/** A POST button; `confirm` adds a required tick box, because the action cannot be undone from here. */
function button(v: View, path: string, label: Html, options: { action?: string; kind?: string; confirm?: string } = {}): Html {
  return html`<form method="post" action="${path}" class="inline">${csrfField(v)}${options.action ? html`<input type="hidden" name="action" value="${options.action}">` : ''}${
    options.confirm ? html`<label class="confirm"><input type="checkbox" name="confirm" value="1" required> ${v.t('people.confirm')}<span class="sr-only"> (${options.confirm})</span></label> ` : ''
  }<button type="submit"${options.kind ? html` class="${options.kind}"` : ''}>${label}</button></form>`;
}

function who(v: View, u: UserRow): string {
  return nameWithUsername(u, v.text('people.noUsername'));
}

function table(id: string, head: Html[], rows: Html[], empty: Html): Html {
  if (rows.length === 0) return html`<p id="${id}-empty">${empty}</p>`;
  return html`<div class="table-wrap"><table id="${id}"><thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** A form with one text field that creates a link (staff invite, organisation link). */
function linkForm(v: View, path: string, id: string, label: Html, submit: Html): Html {
  return html`<form method="post" action="${path}" class="filters">${csrfField(v)}<div><label for="${id}">${label}</label><input type="text" id="${id}" name="organisation" required minlength="2" maxlength="80" autocomplete="organization"></div><div><button type="submit">${submit}</button></div></form>`;
}

/** Verification for the protected categories: open requests, helpers verified one by one, organisations with their members. */
function verificationSection(v: View, list: VerifiedList): Html {
  const requests = list.requested.map(
    ({ user: u, at }) =>
      html`<tr data-id="${u.id}"><td>${who(v, u)}</td><td>${districtName(v, u.district)}</td><td>${date(v, at)}</td><td class="actions">${button(v, `/web/verification/${u.id}`, v.t('people.verify'), { action: 'verify' })} ${button(v, `/web/verification/${u.id}`, v.t('people.decline'), { action: 'decline', kind: 'secondary' })}</td></tr>`,
  );
  const individuals = list.individuals.map(
    ({ user: u, at }) =>
      html`<tr data-id="${u.id}"><td>${who(v, u)}</td><td>${districtName(v, u.district)}</td><td>${date(v, at)}</td><td>${button(v, `/web/verification/${u.id}`, v.t('people.withdraw'), { action: 'withdraw', kind: 'danger', confirm: who(v, u) })}</td></tr>`,
  );
  const organisations = list.organisations.map(
    (o) =>
      html`<tr data-id="${o.organisation.id}"><td>${o.organisation.name}</td><td class="num">${o.members}</td><td>${o.people.length ? html`<ul class="plain">${o.people.map((u) => html`<li>${who(v, u)}</li>`)}</ul>` : '—'}</td><td>${o.linkUntil ? date(v, o.linkUntil) : v.t('people.noLink')}</td><td>${button(v, `/web/organisations/${o.organisation.id}/withdraw`, v.t('people.withdraw'), { kind: 'danger', confirm: o.organisation.name })}</td></tr>`,
  );
  const head = [v.t('people.person'), v.t('filters.district'), v.t('needs.when'), v.t('moderation.action')];
  return html`<h2 id="verification">${v.t('people.verificationTitle')}</h2>
<p>${v.t('people.verificationIntro')}</p>
<h3>${v.t('people.requested', { n: list.requested.length })}</h3>
${table('requests', head, requests, v.t('people.none'))}
<h3>${v.t('people.individuals', { n: list.individuals.length })}</h3>
${table('individuals', head, individuals, v.t('people.none'))}
<h3 id="organisations">${v.t('people.organisations', { n: list.organisations.length })}</h3>
${table('organisations-list', [v.t('notices.organisation'), v.t('people.members'), v.t('people.memberNames'), v.t('people.linkUntil'), v.t('moderation.action')], organisations, v.t('people.none'))}
${may(v, 'verification.invite') ? linkForm(v, '/web/organisations/invite', 'org-name', v.t('people.orgInviteLabel'), v.t('people.orgInviteButton')) : ''}`;
}

/** Staff and coordinators: revoke staff, invite new staff of an organisation. */
function staffSection(v: View, people: UserRow[]): Html {
  const rows = people.map(
    (u) =>
      html`<tr data-id="${u.id}"><td>${who(v, u)}</td><td>${v.t(`roles.${u.role ?? 'newcomer'}`)}${u.lotse ? html` · ${v.t('people.lotse')}` : ''}</td><td>${u.organisation ?? '—'}</td><td>${
        u.role === 'staff' && may(v, 'staff.revoke') ? button(v, `/web/staff/${u.id}/revoke`, v.t('people.revoke'), { kind: 'danger', confirm: who(v, u) }) : ''
      }</td></tr>`,
  );
  return html`<h2 id="staff">${v.t('people.staffTitle')}</h2>
${table('staff-list', [v.t('people.person'), v.t('people.role'), v.t('notices.organisation'), v.t('moderation.action')], rows, v.t('people.none'))}
${may(v, 'staff.invite') ? linkForm(v, '/web/staff/invite', 'staff-org', v.t('people.staffInviteLabel'), v.t('people.staffInviteButton')) : ''}`;
}

/** The link just created, shown once with what it does and until when. */
function createdBox(v: View, created: NonNullable<HelpersData['created']>): Html {
  return html`<div class="status" id="created-link" role="status"><p>${v.t(`people.created.${created.kind}`, { organisation: created.organisation, until: date(v, created.expiresAt) })}</p><p><code class="link">${created.link}</code></p></div>`;
}

/** Helpers and organisations: the load as an anonymous distribution, verification, organisations, staff. */
export function helpersPage(v: View, data: HelpersData, status?: Html): Html {
  const body = html`${data.created ? createdBox(v, data.created) : ''}
${loadSection(v, data.load, data.weeklyCap)}
${data.verified ? verificationSection(v, data.verified) : ''}
${data.staff ? staffSection(v, data.staff) : ''}`;
  return page(v, v.t('helpers.title'), body, { status });
}
