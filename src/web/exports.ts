import type { Overview } from '../domain/overview';
import type { NeedListItem } from '../domain/needs-list';
import type { WeeklyRow } from '../domain/overview';
import { categoryName, date, districtName, type View } from './view';

/** A table to export: a sheet name, column headers and rows of plain values. */
export interface ExportTable {
  name: string;
  headers: string[];
  rows: (string | number | null)[][];
}

/** Cells a spreadsheet would run as a formula (=, +, -, @, tab, CR) get a leading apostrophe. */
function defuse(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const s = defuse(value);
  return /[;"\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV as German Excel opens it: UTF-8 with a byte order mark, `;` between fields, CRLF, RFC 4180 quoting. */
export function toCsv(table: ExportTable): Buffer {
  const lines = [table.headers, ...table.rows].map((r) => r.map(csvField).join(';'));
  return Buffer.from(`\uFEFF${lines.join('\r\n')}\r\n`, 'utf8');
}

/** The same table as an XLSX workbook (exceljs): a bold, frozen header row and a filter on every column. */
export async function toXlsx(table: ExportTable): Promise<Buffer> {
  // Loaded on the first export, not at start: exceljs alone costs a quarter of a second of start-up.
  const { default: ExcelJS } = await import('exceljs');
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Hilfenetz';
  const sheet = workbook.addWorksheet(table.name.slice(0, 31), { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.addRow(table.headers).font = { bold: true };
  for (const row of table.rows) sheet.addRow(row.map((c) => (typeof c === 'string' ? defuse(c) : c)));
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: table.headers.length } };
  table.headers.forEach((h, i) => {
    sheet.getColumn(i + 1).width = Math.min(60, Math.max(10, h.length + 2));
  });
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

const minutes = (ms: number | null) => (ms === null ? null : Math.round(ms / 60_000));

/** The overview's heat map, one row per district × category (zeros included). Counts only. */
export function overviewTable(v: View, overview: Overview): ExportTable {
  return {
    name: v.text('exports.sheet.overview'),
    headers: ['district', 'category', 'open_needs', 'open_offers', 'unanswered_24h', 'median_first_offer_minutes', 'helpers'].map((k) => v.text(`exports.col.${k}`)),
    rows: overview.cells.map((c) => [districtName(v, c.district), categoryName(v, c.category), c.openNeeds, c.openOffers, c.unanswered, minutes(c.medianFirstOfferMs), c.helpers]),
  };
}

/** The needs list, anonymous: no names, ids or handles; the texts only when asked for. */
export function needsTable(v: View, items: NeedListItem[], withTexts: boolean): ExportTable {
  const keys = ['published', 'district', 'category', 'status', 'level', 'source', 'waves', 'told', 'offers', 'first_offer_minutes', 'closed', ...(withTexts ? ['language', 'text'] : [])];
  return {
    name: v.text('exports.sheet.needs'),
    headers: keys.map((k) => v.text(`exports.col.${k}`)),
    rows: items.map((n) => [
      date(v, n.publishedAt),
      districtName(v, n.district),
      categoryName(v, n.category),
      v.text(`status.${n.status}`),
      v.text(`level.${n.level}`),
      v.text(`source.${n.source}`),
      n.wave,
      n.told,
      n.offered,
      n.firstResponseAt && n.publishedAt ? minutes(n.firstResponseAt.getTime() - n.publishedAt.getTime()) : null,
      n.closedAt ? date(v, n.closedAt) : null,
      ...(withTexts ? [n.language, n.text ?? ''] : []),
    ]),
  };
}

/** The weekly summary for the social office: per district, the last full week. */
export function weeklyTable(v: View, summary: { weekStart: Date; weekEnd: Date; rows: WeeklyRow[] }): ExportTable {
  const week = `${date(v, summary.weekStart, false)}–${date(v, new Date(summary.weekEnd.getTime() - 1), false)}`;
  const totals = summary.rows.reduce(
    (t, r) => ({
      newNeeds: t.newNeeds + r.newNeeds,
      newNeedsIntake: t.newNeedsIntake + r.newNeedsIntake,
      newOffers: t.newOffers + r.newOffers,
      offeredWithin24h: t.offeredWithin24h + r.offeredWithin24h,
      fulfilled: t.fulfilled + r.fulfilled,
      reachedDesk: t.reachedDesk + r.reachedDesk,
      openNeedsNow: t.openNeedsNow + r.openNeedsNow,
    }),
    { newNeeds: 0, newNeedsIntake: 0, newOffers: 0, offeredWithin24h: 0, fulfilled: 0, reachedDesk: 0, openNeedsNow: 0 },
  );
  const line = (name: string, r: typeof totals) => [week, name, r.newNeeds, r.newNeedsIntake, r.newOffers, r.offeredWithin24h, r.fulfilled, r.reachedDesk, r.openNeedsNow];
  return {
    name: v.text('exports.sheet.weekly'),
    headers: ['week', 'district', 'new_needs', 'new_needs_intake', 'new_offers', 'offered_24h', 'fulfilled', 'reached_desk', 'open_needs_now'].map((k) => v.text(`exports.col.${k}`)),
    rows: [...summary.rows.map((r) => line(districtName(v, r.district), r)), line(v.text('exports.total'), totals)],
  };
}
