import { type CityDirectory, WHOLE_CITY } from '../city';
import { LOCALES, type Locale } from '../config';
import type { UserRow } from '../db/schema';
import { type Action, type Actor, can } from '../domain/permissions';
import type { Translator } from '../i18n';
import { formatDate } from '../presentation/format';
import { type Html, html, raw } from './html';

/** What every view needs: the reader's language, the translations, the city and who is looking. */
export interface View {
  locale: Locale;
  /** A locale text as Html (our own strings; interpolated values are escaped by i18next). */
  t(key: string, options?: Record<string, unknown>): Html;
  /** A locale text as a plain string (for headers of exports and file names). */
  text(key: string, options?: Record<string, unknown>): string;
  city: CityDirectory;
  now: Date;
  /** Present once logged in. */
  session?: { user: UserRow; actor: Actor; csrf: string };
  /** The path of this page with its query (the language switcher comes back here). */
  path: string;
}

/** Builds a View for a language. */
export function createView(i18n: Translator, locale: Locale, city: CityDirectory, now: Date, path: string, session?: View['session']): View {
  return {
    locale,
    t: (key, options) => raw(i18n.t(locale, `web.${key}`, options)),
    text: (key, options) => decodeEntities(i18n.t(locale, `web.${key}`, options)),
    city,
    now,
    session,
    path,
  };
}

/** i18next escapes interpolated values for HTML; plain-text uses (CSV, XLSX) want them back. */
function decodeEntities(value: string): string {
  return value.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

/** Whether the viewer may do an action (to show a link or a form; the route authorizes again). */
export function may(v: View, action: Action): boolean {
  return v.session !== undefined && can(v.session.actor, action);
}

/** The hidden CSRF field every form of a logged-in page carries. */
export function csrfField(v: View): Html {
  return html`<input type="hidden" name="_csrf" value="${v.session?.csrf ?? ''}">`;
}

export function districtName(v: View, key: string | null): string {
  return v.city.districtName(key, v.locale);
}

export function categoryName(v: View, key: string): string {
  return v.city.categoryName(key, v.locale);
}

export function date(v: View, d: Date | null | undefined, withTime = true): string {
  return d ? formatDate(d, v.locale, v.city.timezone, withTime) : '—';
}

/** Number formats by language and decimals: making one costs far more than using it (bench:web). */
const numberFormats = new Map<string, Intl.NumberFormat>();

/** A duration in hours (one decimal below 10 h) or days, for medians. */
export function hoursOrDays(v: View, ms: number | null): string {
  if (ms === null) return '—';
  const hours = ms / 3_600_000;
  const digits = hours < 10 ? 1 : 0;
  let nf = numberFormats.get(`${v.locale}|${digits}`);
  if (!nf) {
    nf = new Intl.NumberFormat(v.locale, { maximumFractionDigits: digits });
    numberFormats.set(`${v.locale}|${digits}`, nf);
  }
  return hours < 48 ? v.text('units.hours', { value: nf.format(hours) }) : v.text('units.days', { value: nf.format(hours / 24) });
}

const NAV: { path: string; key: string; action: Action }[] = [
  { path: '/web/overview', key: 'nav.overview', action: 'stats.view' },
  { path: '/web/needs', key: 'nav.needs', action: 'needs.view' },
  { path: '/web/desk', key: 'nav.desk', action: 'desk.work' },
  { path: '/web/moderation', key: 'nav.moderation', action: 'moderation.review' },
  { path: '/web/notices', key: 'nav.notices', action: 'notices.view' },
  { path: '/web/helpers', key: 'nav.helpers', action: 'helpers.view' },
  { path: '/web/channels', key: 'nav.channels', action: 'channels.manage' },
  { path: '/web/audit', key: 'nav.audit', action: 'audit.view' },
];

const LANGUAGE_NAMES: Record<Locale, string> = { uk: 'Українська', de: 'Deutsch', ru: 'Русский' };

/** The language switcher: the reader's language first; a form per language (POST with CSRF) or links before login. */
function languageSwitcher(v: View): Html {
  const others = LOCALES.filter((l) => l !== v.locale);
  const items = [v.locale, ...others].map((l) => {
    if (l === v.locale) return html`<li><span aria-current="true" lang="${l}">${LANGUAGE_NAMES[l]}</span></li>`;
    if (!v.session) {
      const url = new URL(v.path, 'http://x');
      url.searchParams.set('lang', l);
      return html`<li><a href="${url.pathname + url.search}" lang="${l}" hreflang="${l}">${LANGUAGE_NAMES[l]}</a></li>`;
    }
    return html`<li><form method="post" action="/web/lang" class="inline">${csrfField(v)}<input type="hidden" name="lang" value="${l}"><input type="hidden" name="back" value="${v.path}"><button type="submit" class="link" lang="${l}">${LANGUAGE_NAMES[l]}</button></form></li>`;
  });
  return html`<nav class="languages" aria-label="${v.t('nav.languages')}"><ul>${items}</ul></nav>`;
}

/** The page shell: header with navigation, language switcher and logout; main content; no scripts. */
export function page(v: View, title: Html | string, body: Html, options: { status?: Html; refreshSeconds?: number; redirectTo?: string } = {}): Html {
  const current = v.path.split('?')[0];
  const nav = v.session
    ? html`<nav class="main" aria-label="${v.t('nav.label')}"><ul>${NAV.filter((n) => may(v, n.action)).map(
        (n) => html`<li><a href="${n.path}"${current === n.path || current?.startsWith(`${n.path}/`) ? raw(' aria-current="page"') : ''}>${v.t(n.key)}</a></li>`,
      )}</ul></nav>`
    : '';
  const logout = v.session
    ? html`<form method="post" action="/web/logout" class="logout">${csrfField(v)}<span class="who">${v.session.user.firstName ?? ''}${v.session.user.organisation ? ` · ${v.session.user.organisation}` : ''} · ${v.t(`roles.${v.session.actor.role}`)}</span> <button type="submit">${v.t('nav.logout')}</button></form>`
    : '';
  return html`<!doctype html>
<html lang="${v.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
${options.refreshSeconds ? html`<meta http-equiv="refresh" content="${options.refreshSeconds}">` : ''}
${options.redirectTo ? html`<meta http-equiv="refresh" content="0;url=${options.redirectTo}">` : ''}
<title>${title} · Hilfenetz</title>
<link rel="stylesheet" href="/web/static/style.css">
</head>
<body>
<a class="skip" href="#main">${v.t('nav.skip')}</a>
<header>
<p class="brand">Hilfenetz · ${v.city.city.name[v.locale]}</p>
${nav}
<div class="tools">${languageSwitcher(v)}${logout}</div>
</header>
<main id="main">
<h1>${title}</h1>
${options.status ?? ''}
${body}
</main>
<footer><p>${v.t('footer', { date: date(v, v.now) })}</p></footer>
</body>
</html>`;
}

/** A short notice at the top of a page (after an action, or a refusal). */
export function statusBox(kind: 'ok' | 'error', message: Html): Html {
  return html`<p class="status ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${message}</p>`;
}

/** The areas in display order with the whole city last, for filters. */
export function areaOptions(v: View, selected: string | undefined): Html {
  const keys = [...v.city.districts.map((d) => d.key), WHOLE_CITY];
  return html`<option value="">${v.t('filters.all')}</option>${keys.map((k) => html`<option value="${k}"${k === selected ? raw(' selected') : ''}>${districtName(v, k)}</option>`)}`;
}

export function categoryOptions(v: View, selected: string | undefined): Html {
  return html`<option value="">${v.t('filters.all')}</option>${v.city.categories.map((c) => html`<option value="${c.key}"${c.key === selected ? raw(' selected') : ''}>${categoryName(v, c.key)}</option>`)}`;
}
