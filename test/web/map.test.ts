import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CityFileError, parseCity } from '../../src/city';
import duisburg from '../../src/city/duisburg.json';
import { onboard, post } from '../helpers/flows';
import { type Harness, PEOPLE, useHarness } from '../helpers/harness';
import type { Persona } from '../helpers/updates';
import { loginPathFromBot, startWebServer, WebClient } from '../helpers/web';

/**
 * The overview's map with real district outlines (GeoJSON in the city file): drawn as paths, north up and
 * true to shape, coloured by open needs, each a link to its needs; districts without an outline stay circles.
 */
const square = (lon: number, lat: number, d: number) => [
  [lon, lat],
  [lon + d, lat],
  [lon + d, lat + d],
  [lon, lat + d],
  [lon, lat],
];
const OUTLINES: Record<string, unknown> = {
  mitte: { type: 'Polygon', coordinates: [square(6.76, 51.42, 0.02)] },
  // Two parts, as a district split by a river or a harbour is.
  hamborn: { type: 'MultiPolygon', coordinates: [[square(6.76, 51.48, 0.01)], [square(6.78, 51.48, 0.01)]] },
  // As GIS tools export it: a Feature holding the geometry.
  walsum: { type: 'Feature', properties: { name: 'Walsum' }, geometry: { type: 'Polygon', coordinates: [square(6.76, 51.52, 0.015)] } },
};
const city = { ...duisburg, districts: duisburg.districts.map((d) => (OUTLINES[d.key] ? { ...d, outline: OUTLINES[d.key] } : d)) };
const cityFile = path.join(mkdtempSync(path.join(tmpdir(), 'hn-city-')), 'city.json');
writeFileSync(cityFile, JSON.stringify(city));

const COORDINATOR: Persona = { id: 900_011, first_name: 'Katrin', language_code: 'de' };
const harness = useHarness({ env: { ADMIN_TELEGRAM_IDS: '900011', PUBLIC_URL: 'http://desk.example.org', CITY_FILE: cityFile } });
let h: Harness;
let web: Awaited<ReturnType<typeof startWebServer>>;
beforeEach(async () => {
  h = harness.current;
  web = await startWebServer(h);
});
afterEach(async () => {
  await web.close();
});

/** The map's entry of one district: its link or group, and the points of its path (or its circle). */
function district(svg: string, key: string) {
  const match = new RegExp(`<(a|g) ([^>]*data-district="${key}"[^>]*)>(.*?)</\\1>`).exec(svg);
  if (!match) throw new Error(`${key} is not on the map`);
  const [, tag, attributes, inner] = match;
  const d = /<path d="([^"]+)"/.exec(inner!)?.[1];
  const points = d ? [...d.matchAll(/(-?[\d.]+),(-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])] as const) : [];
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  return {
    tag,
    href: /href="([^"]+)"/.exec(attributes!)?.[1]?.replace(/&amp;/g, '&'),
    needs: Number(/data-needs="(\d+)"/.exec(attributes!)![1]),
    subpaths: d ? d.split('M').length - 1 : 0,
    circle: inner!.includes('<circle'),
    box: { width: Math.max(...xs) - Math.min(...xs), height: Math.max(...ys) - Math.min(...ys), top: Math.min(...ys) },
  };
}

describe('the overview map with district outlines', () => {
  it('draws outlined districts as paths, north up and true to shape, each linking to its open needs', async () => {
    const olena = h.user(PEOPLE.olena);
    await onboard(olena, 'seeker', 'Центр (Mitte)');
    await post(olena, 'need', "🩺 Здоров'я", 'Центр (Mitte)', 'Потрібен педіатр для доньки, вона говорить лише українською.');
    const katrin = h.user(COORDINATOR);
    await katrin.send('/start');
    const client = new WebClient(web.base);
    expect((await client.login(await loginPathFromBot(katrin))).status).toBe(303);
    const page = await (await client.get('/web/overview')).text();
    const svg = /<svg id="district-map".*?<\/svg>/s.exec(page)![0];

    const mitte = district(svg, 'mitte');
    expect(mitte.tag).toBe('a');
    expect(mitte.needs).toBe(1);
    expect(mitte.subpaths).toBe(1);
    expect(mitte.circle).toBe(false);
    // A square of 0.02° × 0.02° at 51.4° N is cos(51.4°) ≈ 0.62 as wide as it is high.
    expect(mitte.box.width / mitte.box.height).toBeCloseTo(Math.cos((51.43 * Math.PI) / 180), 1);
    expect(district(svg, 'hamborn').subpaths).toBe(2);
    // North up: Walsum (51.52° N) above Hamborn (51.48°) above Mitte (51.42°).
    const walsum = district(svg, 'walsum');
    expect(walsum.needs).toBe(0);
    expect(walsum.box.top).toBeLessThan(district(svg, 'hamborn').box.top);
    expect(district(svg, 'hamborn').box.top).toBeLessThan(mitte.box.top);
    // Districts without an outline keep their circle; the outlined ones are named in the legend.
    expect(district(svg, 'sued').circle).toBe(true);
    expect(page).toContain('<li>Mitte: 1</li>');
    expect(page).toContain('Ein Klick auf einen Bezirk zeigt seine offenen Anfragen.');

    // The link lists the district's open needs.
    const needs = await (await client.get(mitte.href!)).text();
    expect(mitte.href).toBe('/web/needs?district=mitte&status=open');
    expect(needs).toContain('Потрібен педіатр для доньки');
  });
});

describe('outlines in the city file', () => {
  const withOutline = (outline: unknown) => ({ ...duisburg, districts: duisburg.districts.map((d) => (d.key === 'mitte' ? { ...d, outline } : d)) });
  const problems = (raw: unknown): string[] => {
    try {
      parseCity(raw, 'city.json');
    } catch (err) {
      if (err instanceof CityFileError) return err.problems;
      throw err;
    }
    return [];
  };

  it('accepts Polygon, MultiPolygon and a Feature, and holds them as lists of polygons', () => {
    const parsed = parseCity(city, 'city.json');
    const byKey = new Map(parsed.districts.map((d) => [d.key, d]));
    expect(byKey.get('mitte')!.outline).toHaveLength(1);
    expect(byKey.get('hamborn')!.outline).toHaveLength(2);
    expect(byKey.get('walsum')!.outline![0]![0]![0]).toEqual([6.76, 51.52]);
    expect(byKey.get('sued')!.outline).toBeUndefined();
  });

  it('names the entry of an outline that is not one', () => {
    expect(problems(withOutline({ type: 'LineString', coordinates: [[6.7, 51.4], [6.8, 51.5]] }))).toEqual([
      'districts.4.outline.type: expected a GeoJSON Polygon or MultiPolygon (or a Feature with one)',
    ]);
    expect(problems(withOutline({ type: 'Polygon', coordinates: [[[200, 51.4], [6.8, 51.4], [6.8, 51.5], [200, 51.4]]] }))[0]).toMatch(
      /^districts\.4\.outline\.coordinates\.0\.0: expected longitude −180…180 and latitude −90…90/,
    );
    expect(problems(withOutline({ type: 'Polygon', coordinates: [[[6.7, 51.4], [6.8, 51.4], [6.7, 51.4]]] }))).toEqual([
      'districts.4.outline.coordinates.0: a ring needs at least four positions',
    ]);
  });
});
