import { WHOLE_CITY } from '../../city';
import { districtTotals, type Overview, type OverviewCell, type TrendWeek } from '../../domain/overview';
import { type Html, html } from '../html';
import { categoryName, date, districtName, hoursOrDays, may, page, type View } from '../view';

/** The heat level (0–5) of a cell's open needs, relative to the fullest cell. */
export function heatLevel(n: number, max: number): number {
  if (n <= 0 || max <= 0) return 0;
  return Math.max(1, Math.ceil((5 * n) / max));
}

function cellHtml(v: View, cell: OverviewCell, max: number): Html {
  const level = heatLevel(cell.openNeeds, max);
  // Demand without supply: open needs here and nobody subscribed who could be told.
  const short = cell.openNeeds > 0 && cell.helpers === 0;
  const median = hoursOrDays(v, cell.medianFirstOfferMs);
  const inner = html`<span class="n">${cell.openNeeds}</span><span class="sub">${v.t('overview.cell', {
    offers: cell.openOffers,
    unanswered: cell.unanswered,
    helpers: cell.helpers,
    median,
  })}</span>`;
  const label = v.text('overview.cellLabel', {
    district: districtName(v, cell.district),
    category: categoryName(v, cell.category),
    needs: cell.openNeeds,
    offers: cell.openOffers,
    unanswered: cell.unanswered,
    helpers: cell.helpers,
    median,
  });
  const link = may(v, 'needs.view')
    ? html`<a href="/web/needs?district=${encodeURIComponent(cell.district)}&amp;category=${encodeURIComponent(cell.category)}&amp;status=open" aria-label="${label}">${inner}</a>`
    : html`<span aria-label="${label}">${inner}</span>`;
  return html`<td class="num h${level}${short ? ' short' : ''}" data-district="${cell.district}" data-category="${cell.category}" data-needs="${cell.openNeeds}" data-offers="${cell.openOffers}" data-unanswered="${cell.unanswered}" data-helpers="${cell.helpers}">${link}</td>`;
}

/** The district × category heat map as a table (rows: areas, columns: categories). */
export function heatMap(v: View, overview: Overview): Html {
  const max = Math.max(0, ...overview.cells.map((c) => c.openNeeds));
  const byKey = new Map(overview.cells.map((c) => [`${c.district}|${c.category}`, c]));
  const rows = overview.districts.map(
    (d) =>
      html`<tr><th scope="row">${districtName(v, d)}</th>${overview.categories.map((c) => cellHtml(v, byKey.get(`${d}|${c}`)!, max))}</tr>`,
  );
  return html`<p class="muted">${v.t('overview.caption')}</p>
<div class="table-wrap"><table class="heat" id="heatmap">
<caption class="sr-only">${v.t('overview.legend')}</caption>
<thead><tr><th scope="col">${v.t('overview.district')}</th>${overview.categories.map((c) => html`<th scope="col">${categoryName(v, c)}</th>`)}</tr></thead>
<tbody>${rows}</tbody></table></div>
<p class="legend">${v.t('overview.legend')} <span class="h1">${v.t('overview.few')}</span><span class="h3">…</span><span class="h5">${v.t('overview.many')}</span> <span class="short">${v.t('overview.shortLegend')}</span></p>`;
}

const COLORS = { needs: '#0b5cad', offers: '#1f6e3a', fast: '#b35c00' } as const;

/** The last weeks as grouped bars (needs, offers, needs with an offer within 24 h), with the same data as a table. */
export function trendChart(v: View, trend: TrendWeek[]): Html {
  const width = 640;
  const height = 220;
  const left = 36;
  const bottom = 40;
  const top = 10;
  const max = Math.max(1, ...trend.flatMap((w) => [w.needs, w.offers, w.offeredWithin24h]));
  const slot = (width - left - 10) / trend.length;
  const barWidth = Math.max(4, (slot - 12) / 3);
  const y = (n: number) => top + (height - top - bottom) * (1 - n / max);
  const bars = trend.map((w, i) => {
    const x0 = left + i * slot + 6;
    const bar = (n: number, k: number, color: string) =>
      html`<rect x="${(x0 + k * barWidth).toFixed(1)}" y="${y(n).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(height - bottom - y(n)).toFixed(1)}" fill="${color}"></rect>`;
    return html`<g>${bar(w.needs, 0, COLORS.needs)}${bar(w.offers, 1, COLORS.offers)}${bar(w.offeredWithin24h, 2, COLORS.fast)}<text class="chart-label" x="${(x0 + barWidth * 1.5).toFixed(1)}" y="${height - bottom + 14}" text-anchor="middle">${date(v, w.weekStart, false).slice(0, 5)}</text></g>`;
  });
  const axis = [0, Math.round(max / 2), max].map(
    (n) => html`<text class="chart-label" x="${left - 4}" y="${(y(n) + 4).toFixed(1)}" text-anchor="end">${n}</text><line x1="${left}" x2="${width - 4}" y1="${y(n).toFixed(1)}" y2="${y(n).toFixed(1)}" stroke="#c9d0d8"></line>`,
  );
  const legend = (['needs', 'offers', 'fast'] as const).map(
    (k, i) => html`<rect x="${left + i * 190}" y="${height - 16}" width="12" height="12" fill="${COLORS[k]}"></rect><text class="chart-label" x="${left + i * 190 + 16}" y="${height - 6}">${v.text(`overview.trend.${k}`)}</text>`,
  );
  const svg = html`<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="trend-title"><title id="trend-title">${v.t('overview.trend.title')}</title>${axis}${bars}${legend}</svg>`;
  const table = html`<details><summary>${v.t('overview.trend.table')}</summary><div class="table-wrap"><table id="trend"><thead><tr><th scope="col">${v.t('overview.trend.week')}</th><th scope="col" class="num">${v.t('overview.trend.needs')}</th><th scope="col" class="num">${v.t('overview.trend.offers')}</th><th scope="col" class="num">${v.t('overview.trend.fast')}</th><th scope="col" class="num">${v.t('overview.trend.fulfilled')}</th></tr></thead><tbody>${trend.map(
    (w) => html`<tr><td>${date(v, w.weekStart, false)}</td><td class="num">${w.needs}</td><td class="num">${w.offers}</td><td class="num">${w.offeredWithin24h}</td><td class="num">${w.fulfilled}</td></tr>`,
  )}</tbody></table></div></details>`;
  return html`${svg}${table}`;
}

type Point = readonly [number, number];
type Outline = readonly (readonly (readonly Point[])[])[];

/** Twice the signed area and the centroid of a ring (shoelace formula). */
function ringCentroid(ring: readonly Point[]): { area: number; x: number; y: number } {
  let a = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [x0, y0] = ring[j]!;
    const [x1, y1] = ring[i]!;
    const f = x0 * y1 - x1 * y0;
    a += f;
    cx += (x0 + x1) * f;
    cy += (y0 + y1) * f;
  }
  if (a === 0) return { area: 0, x: ring[0]![0], y: ring[0]![1] };
  return { area: Math.abs(a), x: cx / (3 * a), y: cy / (3 * a) };
}

/**
 * Projects the city's outlines (longitude, latitude) into a box: equirectangular with the longitudes
 * shortened by the cosine of the middle latitude (true to shape at a city's size), north up, centred.
 */
function outlineProjection(outlines: Outline[], box: { x: number; y: number; width: number; height: number }): (p: Point) => Point {
  const points = outlines.flatMap((o) => o.flatMap((polygon) => polygon.flat()));
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  const [minLon, maxLon, minLat, maxLat] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
  const k = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const width = Math.max(1e-9, (maxLon - minLon) * k);
  const height = Math.max(1e-9, maxLat - minLat);
  const scale = Math.min(box.width / width, box.height / height);
  const dx = box.x + (box.width - width * scale) / 2;
  const dy = box.y + (box.height - height * scale) / 2;
  return ([lon, lat]) => [dx + (lon - minLon) * k * scale, dy + (maxLat - lat) * scale];
}

/** An SVG path of projected polygons, rounded to a tenth of a pixel, points that fall together dropped. */
function outlinePath(outline: Outline, project: (p: Point) => Point): string {
  const parts: string[] = [];
  for (const polygon of outline) {
    for (const ring of polygon) {
      let last = '';
      const coords: string[] = [];
      for (const p of ring) {
        const [x, y] = project(p);
        const here = `${x.toFixed(1)},${y.toFixed(1)}`;
        if (here !== last) coords.push(here);
        last = here;
      }
      if (coords.length >= 3) parts.push(`M${coords.join('L')}Z`);
    }
  }
  return parts.join('');
}

/**
 * The map of the districts, sized and coloured by open needs, each a link to its open needs: the real
 * outlines where the city file gives them (GeoJSON), otherwise a schematic of circles at the city file's
 * positions with neighbours joined. A city may mix both; districts without either are laid out in a row.
 */
export function districtMap(v: View, overview: Overview): Html {
  const size = 400;
  const totals = districtTotals(overview);
  const districts = v.city.districts;
  const max = Math.max(1, ...[...totals.entries()].filter(([k]) => k !== WHOLE_CITY).map(([, t]) => t.openNeeds));
  const outlined = districts.filter((d) => d.outline);
  const project = outlined.length > 0 ? outlineProjection(outlined.map((d) => d.outline!), { x: 12, y: 12, width: size - 24, height: size - 48 }) : undefined;
  const unplaced = districts.filter((d) => !d.map && !d.outline);
  const position = new Map(
    districts.map((d) => {
      if (d.outline && project) {
        // The label sits at the centroid of the district's largest ring.
        const largest = d.outline.flat().map((r) => ringCentroid(r.map(project))).sort((a, b) => b.area - a.area)[0]!;
        return [d.key, { x: largest.x, y: largest.y }];
      }
      if (d.map) return [d.key, { x: 20 + (d.map.x / 100) * (size - 40), y: 20 + (d.map.y / 100) * (size - 60) }];
      const i = unplaced.indexOf(d);
      return [d.key, { x: 30 + (i * (size - 60)) / Math.max(1, unplaced.length - 1), y: size - 30 }];
    }),
  );
  const hasOutline = new Set(outlined.map((d) => d.key));
  const edges: Html[] = [];
  for (const d of districts) {
    for (const n of d.neighbours) {
      // Outlines that touch show their neighbourhood themselves.
      if (n < d.key || (hasOutline.has(d.key) && hasOutline.has(n))) continue;
      const a = position.get(d.key)!;
      const b = position.get(n);
      if (b) edges.push(html`<line x1="${a.x.toFixed(1)}" y1="${a.y.toFixed(1)}" x2="${b.x.toFixed(1)}" y2="${b.y.toFixed(1)}" stroke="#c9d0d8" stroke-width="3"></line>`);
    }
  }
  const linked = may(v, 'needs.view');
  const nodes = districts.map((d) => {
    const p = position.get(d.key)!;
    const t = totals.get(d.key) ?? { openNeeds: 0, openOffers: 0, unanswered: 0, helpers: 0 };
    const fill = ['#ffffff', '#fff3d6', '#ffe0a3', '#ffc470', '#ff9f5a', '#f2734b'][heatLevel(t.openNeeds, max)]!;
    const stroke = t.unanswered > 0 ? '#a4161a' : '#4a5360';
    const label = v.text('overview.mapLabel', { district: districtName(v, d.key), needs: t.openNeeds, unanswered: t.unanswered });
    const name = v.city.districtName(d.key, 'de');
    const shape =
      d.outline && project
        ? html`<path d="${outlinePath(d.outline, project)}" fill="${fill}" fill-rule="evenodd" stroke="${stroke}" stroke-width="${t.unanswered > 0 ? 2.5 : 1}" stroke-linejoin="round"></path><text class="chart-label" x="${p.x.toFixed(1)}" y="${(p.y + 4).toFixed(1)}" text-anchor="middle" font-weight="700">${t.openNeeds}</text>`
        : html`<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="${(10 + 22 * Math.sqrt(t.openNeeds / max)).toFixed(1)}" fill="${fill}" stroke="${stroke}" stroke-width="${t.unanswered > 0 ? 3 : 1.5}"></circle><text class="chart-label" x="${p.x.toFixed(1)}" y="${(p.y + 4).toFixed(1)}" text-anchor="middle" font-weight="700">${t.openNeeds}</text><text class="chart-label" x="${p.x.toFixed(1)}" y="${(p.y + 10 + 22 * Math.sqrt(t.openNeeds / max) + 13).toFixed(1)}" text-anchor="middle">${name}</text>`;
    const inner = html`<title>${label}</title>${shape}`;
    return linked
      ? html`<a href="/web/needs?district=${encodeURIComponent(d.key)}&amp;status=open" aria-label="${label}" data-district="${d.key}" data-needs="${t.openNeeds}">${inner}</a>`
      : html`<g data-district="${d.key}" data-needs="${t.openNeeds}">${inner}</g>`;
  });
  // With outlines the names go into a legend under the map: they do not fit into small districts.
  const legend = outlined.length > 0 ? html`<ul class="map-legend">${outlined.map((d) => html`<li>${districtName(v, d.key)}: ${totals.get(d.key)?.openNeeds ?? 0}</li>`)}</ul>` : '';
  return html`<svg id="district-map" viewBox="0 0 ${size} ${size}" width="${size}" height="${size}" role="img" aria-labelledby="map-title"><title id="map-title">${v.t('overview.map')}</title>${edges}${nodes}</svg>${legend}`;
}

/** The overview page. */
export function overviewPage(v: View, overview: Overview, status?: Html): Html {
  const totals = overview.cells.reduce(
    (s, c) => ({ needs: s.needs + c.openNeeds, offers: s.offers + c.openOffers, unanswered: s.unanswered + c.unanswered }),
    { needs: 0, offers: 0, unanswered: 0 },
  );
  const exports = may(v, 'stats.export')
    ? html`<p class="actions"><a class="button secondary" href="/web/export/overview.csv" download>${v.t('exports.overviewCsv')}</a> <a class="button secondary" href="/web/export/overview.xlsx" download>${v.t('exports.overviewXlsx')}</a> <a class="button secondary" href="/web/export/weekly.xlsx" download>${v.t('exports.weeklyXlsx')}</a> <a class="button secondary" href="/web/export/weekly.csv" download>${v.t('exports.weeklyCsv')}</a></p>`
    : '';
  const body = html`<p id="totals" data-needs="${totals.needs}" data-offers="${totals.offers}" data-unanswered="${totals.unanswered}">${v.t('overview.totals', totals)}</p>
${exports}
${heatMap(v, overview)}
<div class="cards">
<section class="card"><h2>${v.t('overview.map')}</h2>${districtMap(v, overview)}<p class="muted">${v.t(v.city.districts.some((d) => d.outline) ? 'overview.mapHintOutlines' : 'overview.mapHint')}</p></section>
<section class="card"><h2>${v.t('overview.trend.title')}</h2>${trendChart(v, overview.trend)}</section>
</div>`;
  return page(v, v.t('overview.title'), body, { status });
}
