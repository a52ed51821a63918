import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { LOCALES, type Locale } from '../config';
import duisburg from './duisburg.json';

/** The key that stands for "the whole city" wherever a district is chosen or stored. */
export const WHOLE_CITY = '*';

const KEY = /^[a-z][a-z0-9_]{0,23}$/;

const names = z.object(
  Object.fromEntries(LOCALES.map((l) => [l, z.string().trim().min(1, { error: `missing the ${l} name` }).max(60)])) as Record<
    Locale,
    z.ZodString
  >,
  { error: 'expected names in uk, de and ru' },
);

const entry = z.object({
  key: z.string().regex(KEY, { error: 'expected a key of a-z, 0-9 and _ (at most 24 characters, starting with a letter)' }),
  name: names,
});

const uniqueKeys = (list: { key: string }[], ctx: z.RefinementCtx) => {
  const seen = new Set<string>();
  list.forEach((item, index) => {
    if (seen.has(item.key)) ctx.addIssue({ code: 'custom', path: [index, 'key'], message: `duplicate key "${item.key}"` });
    seen.add(item.key);
  });
};

const timezone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('de', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { error: 'expected an IANA time zone such as Europe/Berlin' },
);

/** A GeoJSON position: longitude and latitude (WGS 84), an altitude after them is ignored. */
const position = z
  .array(z.number(), { error: 'expected [longitude, latitude]' })
  .min(2, { error: 'expected [longitude, latitude]' })
  .max(3, { error: 'expected [longitude, latitude]' })
  .refine(([lon, lat]) => Math.abs(lon!) <= 180 && Math.abs(lat!) <= 90, { error: 'expected longitude −180…180 and latitude −90…90' })
  .transform(([lon, lat]) => [lon!, lat!] as const);
/** A closed ring of at least four positions (GeoJSON repeats the first at the end). */
const ring = z.array(position).min(4, { error: 'a ring needs at least four positions' }).max(5_000, { error: 'at most 5,000 positions per ring: simplify the outline' });
const polygon = z.array(ring).min(1).max(50);
const geometry = z.discriminatedUnion('type', [
  z.object({ type: z.literal('Polygon'), coordinates: polygon }),
  z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(polygon).min(1).max(50) }),
], { error: 'expected a GeoJSON Polygon or MultiPolygon (or a Feature with one)' });
/**
 * A district's outline for the web desk's map: a GeoJSON Polygon or MultiPolygon geometry, or a Feature
 * holding one (as GIS tools and OpenStreetMap exports write them). Held as a list of polygons.
 */
const outline = z
  .preprocess(
    (raw) => (raw !== null && typeof raw === 'object' && (raw as { type?: unknown }).type === 'Feature' ? (raw as { geometry?: unknown }).geometry : raw),
    geometry,
  )
  .transform((g) => (g.type === 'Polygon' ? [g.coordinates] : g.coordinates));

/**
 * A district and the districts next to it. When a need's own district and the whole city have no helper
 * left, its waves widen to the helpers of these districts. Neighbours are those a helper reaches without
 * crossing a third district: a shared border on land, or a bridge between them (two districts that only
 * face each other across a river without a bridge are not neighbours). The list must be symmetric.
 */
const district = entry.extend({
  neighbours: z.array(z.string().regex(KEY, { error: 'expected a district key' })).max(40).default([]),
  /**
   * Where the district sits on the web desk's schematic map: its centre on a 100 × 100 grid, north up.
   * Optional: districts without one are laid out in a row.
   */
  map: z
    .object({
      x: z.number({ error: 'expected a number from 0 to 100' }).min(0, { error: 'expected a number from 0 to 100' }).max(100, { error: 'expected a number from 0 to 100' }),
      y: z.number({ error: 'expected a number from 0 to 100' }).min(0, { error: 'expected a number from 0 to 100' }).max(100, { error: 'expected a number from 0 to 100' }),
    }, { error: 'expected {"x": 0–100, "y": 0–100}' })
    .strict()
    .optional(),
  /** Optional: the district's real shape; where a city gives outlines, the map draws them instead of circles. */
  outline: outline.optional(),
});

/**
 * Neighbour lists name known districts, never the district itself, each once, and both ways. Checked
 * once the keys are unique (a duplicate key is reported on its own; neighbours of it would be ambiguous).
 */
const symmetricNeighbours = (districts: z.output<typeof district>[], ctx: z.RefinementCtx) => {
  const byKey = new Map(districts.map((d) => [d.key, d]));
  if (byKey.size !== districts.length) return;
  districts.forEach((d, index) => {
    const seen = new Set<string>();
    d.neighbours.forEach((n, i) => {
      const path = [index, 'neighbours', i];
      if (n === d.key) ctx.addIssue({ code: 'custom', path, message: `"${d.key}" cannot be its own neighbour` });
      else if (!byKey.has(n)) ctx.addIssue({ code: 'custom', path, message: `unknown district "${n}"` });
      else if (seen.has(n)) ctx.addIssue({ code: 'custom', path, message: `"${n}" is listed twice` });
      else if (!byKey.get(n)!.neighbours.includes(d.key)) {
        ctx.addIssue({ code: 'custom', path, message: `"${d.key}" lists "${n}" as a neighbour, but "${n}" does not list "${d.key}" (neighbours go both ways)` });
      }
      seen.add(n);
    });
  });
};

const texts = (max: number) =>
  z.object(
    Object.fromEntries(LOCALES.map((l) => [l, z.string().trim().min(1, { error: `missing the ${l} text` }).max(max)])) as Record<Locale, z.ZodString>,
    { error: 'expected texts in uk, de and ru' },
  );

/** Empty strings in a city file mean "not known yet": the operator fills them in. */
const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .default('')
    .transform((v) => (v === '' ? undefined : v));

/**
 * The office responsible for a category, shown on the Lotsen desk and sent to a seeker who is referred
 * to it. Address, opening hours and web page are optional: the project invents no contact details, the
 * operator fills in what they know.
 */
const office = z.object({
  category: z.string().regex(KEY, { error: 'expected a category key' }),
  name: texts(80),
  description: texts(300),
  address: optionalText(200),
  hours: optionalText(200),
  url: z
    .union([z.literal(''), z.url({ protocol: /^https?$/, error: 'expected an http(s) URL, or leave it empty' })])
    .default('')
    .transform((v) => (v === '' ? undefined : v)),
});

/** The shape of a city file: districts (with their neighbours) and categories with names in all three languages. */
export const citySchema = z.object({
  key: z.string().regex(KEY),
  name: names,
  wholeCity: names,
  timezone,
  districts: z.array(district).min(1).max(40).superRefine(uniqueKeys).superRefine(symmetricNeighbours),
  categories: z
    .array(
      entry.extend({
        emoji: z.string().min(1).max(16),
        hint: names.optional(),
        /**
         * A protected category (family and childcare, housing): only helpers verified by a coordinator are
         * told of its needs or may offer help on them (src/domain/verification.ts).
         */
        protected: z.boolean({ error: 'expected true or false' }).default(false),
      }),
    )
    .min(1)
    .max(40)
    .superRefine(uniqueKeys),
  offices: z.array(office).max(40).default([]),
}).superRefine((city, ctx) => {
  const categories = new Set(city.categories.map((c) => c.key));
  const seen = new Set<string>();
  city.offices.forEach((o, index) => {
    const path = ['offices', index, 'category'];
    if (!categories.has(o.category)) ctx.addIssue({ code: 'custom', path, message: `unknown category "${o.category}"` });
    else if (seen.has(o.category)) ctx.addIssue({ code: 'custom', path, message: `"${o.category}" has two offices` });
    seen.add(o.category);
  });
});

/** A validated city; the bot's districts and categories come only from here. */
export type City = z.output<typeof citySchema>;
/** The office responsible for a category (city file). */
export type Office = City['offices'][number];

/** Thrown when a city file cannot be used; the message names the bad entry. */
export class CityFileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid city file ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'CityFileError';
  }
}

/** Validates raw city data; `source` names the file in error messages. */
export function parseCity(raw: unknown, source = 'city data'): City {
  const result = citySchema.safeParse(raw);
  if (!result.success) {
    throw new CityFileError(
      source,
      result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return result.data;
}

/** Loads CITY_FILE, or the built-in Duisburg data when no file is given. */
export function loadCity(file?: string): City {
  if (!file) return parseCity(duisburg, 'duisburg.json (built in)');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CityFileError(file, [
      missing ? `cannot be read: no such file (looked for ${path.resolve(file)})` : `cannot be read: ${(err as Error).message}`,
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CityFileError(file, [`not valid JSON: ${(err as Error).message}`]);
  }
  return parseCity(raw, file);
}

/** Looks up names and keys of one city. */
export class CityDirectory {
  private readonly districtByKey: Map<string, City['districts'][number]>;
  private readonly categoryByKey: Map<string, City['categories'][number]>;
  private readonly officeByCategory: Map<string, Office>;

  constructor(readonly city: City) {
    this.districtByKey = new Map(city.districts.map((d) => [d.key, d]));
    this.categoryByKey = new Map(city.categories.map((c) => [c.key, c]));
    this.officeByCategory = new Map(city.offices.map((o) => [o.category, o]));
  }

  /** The office responsible for a category, when the city file names one. */
  office(category: string): Office | undefined {
    return this.officeByCategory.get(category);
  }

  get districts() {
    return this.city.districts;
  }
  get categories() {
    return this.city.categories;
  }
  get timezone() {
    return this.city.timezone;
  }

  /** The districts next to a district (none for the whole city or an unknown key). */
  neighbours(key: string): readonly string[] {
    return this.districtByKey.get(key)?.neighbours ?? [];
  }

  isDistrict(key: string): boolean {
    return this.districtByKey.has(key);
  }
  /** A district key, or WHOLE_CITY. */
  isArea(key: string): boolean {
    return key === WHOLE_CITY || this.districtByKey.has(key);
  }
  isCategory(key: string): boolean {
    return this.categoryByKey.has(key);
  }
  /** Whether only verified helpers may be told of this category's needs and offer help on them. */
  isProtected(key: string): boolean {
    return this.categoryByKey.get(key)?.protected ?? false;
  }
  /** The protected categories' keys, in the city file's order. */
  get protectedCategories(): string[] {
    return this.city.categories.filter((c) => c.protected).map((c) => c.key);
  }

  districtName(key: string | null | undefined, locale: Locale): string {
    if (!key || key === WHOLE_CITY) return this.city.wholeCity[locale];
    return this.districtByKey.get(key)?.name[locale] ?? key;
  }
  categoryName(key: string, locale: Locale): string {
    return this.categoryByKey.get(key)?.name[locale] ?? key;
  }
  categoryLabel(key: string, locale: Locale): string {
    const c = this.categoryByKey.get(key);
    return c ? `${c.emoji} ${c.name[locale]}` : key;
  }
  categoryHint(key: string, locale: Locale): string | undefined {
    return this.categoryByKey.get(key)?.hint?.[locale];
  }
}
