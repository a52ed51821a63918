import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CityDirectory, CityFileError, loadCity, parseCity, WHOLE_CITY } from '../../src/city';
import duisburg from '../../src/city/duisburg.json';

describe('city data', () => {
  it('has Duisburg with its seven Stadtbezirke and the twelve categories', () => {
    const city = loadCity();
    expect(city.districts.map((d) => d.name.de)).toEqual([
      'Walsum',
      'Hamborn',
      'Meiderich/Beeck',
      'Homberg/Ruhrort/Baerl',
      'Mitte',
      'Rheinhausen',
      'Süd',
    ]);
    expect(city.categories.map((c) => c.name.de)).toEqual([
      'Wohnen',
      'Familie & Kinderbetreuung',
      'Bildung & Sprache',
      'Gesundheit',
      'Behörden & Formulare',
      'Arbeit & Talente',
      'Freizeit, Kultur & Sport',
      'Spenden & Sachspenden',
      'Dolmetschen',
      'Transport & Umzug',
      'Haustiere',
      'Sonstiges',
    ]);
    for (const entry of [...city.districts, ...city.categories]) {
      expect(entry.name.uk).not.toBe('');
      expect(entry.name.ru).not.toBe('');
    }
  });

  it('names the whole city in every language', () => {
    const dir = new CityDirectory(loadCity());
    expect(dir.districtName(WHOLE_CITY, 'de')).toBe('Ganz Duisburg');
    expect(dir.districtName(WHOLE_CITY, 'uk')).toBe('Увесь Дуйсбург');
    expect(dir.districtName('hamborn', 'ru')).toContain('Хамборн');
    expect(dir.isArea(WHOLE_CITY)).toBe(true);
    expect(dir.isArea('atlantis')).toBe(false);
  });

  it('loads another city from CITY_FILE without code changes', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hn-city-'));
    const file = path.join(dir, 'essen.json');
    const essen = {
      ...duisburg,
      key: 'essen',
      name: { de: 'Essen', uk: 'Ессен', ru: 'Эссен' },
      wholeCity: { de: 'Ganz Essen', uk: 'Увесь Ессен', ru: 'Весь Эссен' },
      districts: [{ key: 'ruettenscheid', name: { de: 'Rüttenscheid', uk: 'Рюттеншайд', ru: 'Рюттеншайд' } }],
    };
    writeFileSync(file, JSON.stringify(essen));
    const city = loadCity(file);
    expect(city.districts).toHaveLength(1);
    expect(new CityDirectory(city).districtName('ruettenscheid', 'de')).toBe('Rüttenscheid');
  });

  it('names the bad entry of an invalid file', () => {
    const broken = structuredClone(duisburg) as { districts: { key: string; name: Record<string, string> }[] };
    broken.districts[3]!.name.uk = '';
    broken.districts[5]!.key = 'mitte';
    expect(() => parseCity(broken, 'broken.json')).toThrow(CityFileError);
    try {
      parseCity(broken, 'broken.json');
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toContain('broken.json');
      expect(message).toContain('districts.3.name.uk: missing the uk name');
      expect(message).toContain('districts.5.key: duplicate key "mitte"');
    }
  });

  it('knows which Duisburg districts are next to each other (both ways)', () => {
    const dir = new CityDirectory(loadCity());
    const neighbours = Object.fromEntries(dir.districts.map((d) => [d.key, [...dir.neighbours(d.key)].sort()]));
    expect(neighbours).toEqual({
      walsum: ['hamborn'],
      hamborn: ['meiderich_beeck', 'walsum'],
      meiderich_beeck: ['hamborn', 'homberg_ruhrort_baerl', 'mitte'],
      homberg_ruhrort_baerl: ['meiderich_beeck', 'mitte', 'rheinhausen'],
      mitte: ['homberg_ruhrort_baerl', 'meiderich_beeck', 'rheinhausen', 'sued'],
      rheinhausen: ['homberg_ruhrort_baerl', 'mitte'],
      sued: ['mitte'],
    });
    expect(dir.neighbours(WHOLE_CITY)).toEqual([]);
    expect(dir.neighbours('atlantis')).toEqual([]);
  });

  it('names the responsible offices of Duisburg without inventing contact details', () => {
    const city = new CityDirectory(loadCity());
    expect(['housing', 'family', 'health', 'authorities', 'work'].map((c) => city.office(c)?.name.de)).toEqual(['Wohnungsamt', 'Jugendamt', 'Gesundheitsamt', 'Ausländerbehörde', 'Jobcenter']);
    for (const office of loadCity().offices) {
      expect([office.address, office.hours, office.url]).toEqual([undefined, undefined, undefined]);
      for (const l of ['uk', 'de', 'ru'] as const) expect(office.description[l].length).toBeGreaterThan(10);
    }
    expect(city.office('pets')).toBeUndefined();
  });

  it('refuses offices of unknown categories, two for one category, bad web pages and missing languages', () => {
    const broken = structuredClone(duisburg) as unknown as { offices: Record<string, unknown>[] };
    const base = broken.offices[0]!;
    const n = broken.offices.length;
    broken.offices.push({ ...base, category: 'pets', url: 'ftp://x' }, { ...base, category: 'leisure', name: { de: 'Amt' } });
    expect(() => parseCity(broken, 'broken.json')).toThrow(`offices.${n}.url: expected an http(s) URL, or leave it empty`);
    expect(() => parseCity(broken, 'broken.json')).toThrow(`offices.${n + 1}.name.uk:`);
    // Categories are checked once every office is well-formed.
    broken.offices.splice(n, 2, { ...base, category: 'atlantis' }, { ...base });
    expect(() => parseCity(broken, 'broken.json')).toThrow(`offices.${n}.category: unknown category "atlantis"`);
    expect(() => parseCity(broken, 'broken.json')).toThrow(`offices.${n + 1}.category: "housing" has two offices`);
    const filled = structuredClone(duisburg) as unknown as { offices: Record<string, unknown>[] };
    filled.offices[0] = { ...filled.offices[0], address: 'Musterstraße 1', hours: 'Mo–Fr 8–12', url: 'https://example.org/amt' };
    expect(parseCity(filled).offices[0]).toMatchObject({ address: 'Musterstraße 1', hours: 'Mo–Fr 8–12', url: 'https://example.org/amt' });
  });

  it('places every Duisburg district on the schematic map, and refuses positions off the 100 × 100 grid', () => {
    const city = loadCity();
    for (const d of city.districts) expect([d.key, d.map !== undefined]).toEqual([d.key, true]);
    const positions = new Set(city.districts.map((d) => `${d.map!.x},${d.map!.y}`));
    expect(positions.size).toBe(city.districts.length);
    const broken = structuredClone(duisburg) as { districts: Record<string, unknown>[] };
    broken.districts[0]!.map = { x: 120, y: 5 };
    broken.districts[1]!.map = { x: '5', y: 5 };
    broken.districts[2]!.map = { x: 5, y: 5, z: 1 };
    let message = '';
    try {
      parseCity(broken, 'broken.json');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('districts.0.map.x: expected a number from 0 to 100');
    expect(message).toContain('districts.1.map.x: expected a number from 0 to 100');
    expect(message).toContain('districts.2.map');
    // Without positions a city still loads (the map then lays its districts out in a row).
    const bare = structuredClone(duisburg) as { districts: Record<string, unknown>[] };
    for (const d of bare.districts) delete d.map;
    expect(parseCity(bare).districts[0]!.map).toBeUndefined();
  });

  it('refuses neighbours that are unknown, the district itself, twice, or one way only', () => {
    const broken = structuredClone(duisburg) as { districts: { key: string; neighbours?: string[] }[] };
    broken.districts[0]!.neighbours = ['hamborn', 'atlantis', 'walsum', 'hamborn', 'sued'];
    try {
      parseCity(broken, 'broken.json');
      throw new Error('accepted');
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toContain('districts.0.neighbours.1: unknown district "atlantis"');
      expect(message).toContain('districts.0.neighbours.2: "walsum" cannot be its own neighbour');
      expect(message).toContain('districts.0.neighbours.3: "hamborn" is listed twice');
      expect(message).toContain('districts.0.neighbours.4: "walsum" lists "sued" as a neighbour, but "sued" does not list "walsum" (neighbours go both ways)');
    }
  });

  it('rejects a file that cannot be read or parsed', () => {
    expect(() => loadCity('/nonexistent/city.json')).toThrow(/cannot be read/);
    const dir = mkdtempSync(path.join(tmpdir(), 'hn-city-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, '{ "key": ');
    expect(() => loadCity(file)).toThrow(/not valid JSON/);
  });
});
