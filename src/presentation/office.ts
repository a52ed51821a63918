import type { Office } from '../city';
import type { Locale } from '../config';
import { escapeHtml } from '../i18n';

/** An office's information in one language (HTML): name, what it does, and what the operator filled in. */
export function renderOffice(office: Office, locale: Locale): string {
  const lines = [`🏛 <b>${escapeHtml(office.name[locale])}</b>`, escapeHtml(office.description[locale])];
  if (office.address) lines.push(`📍 ${escapeHtml(office.address)}`);
  if (office.hours) lines.push(`🕘 ${escapeHtml(office.hours)}`);
  if (office.url) lines.push(`🔗 ${escapeHtml(office.url)}`);
  return lines.join('\n');
}
