import { WHOLE_CITY } from '../../src/city';
import type { NewPost } from '../../src/domain/posts';
import { Prng } from './prng';
import type { SeedCity } from './seed';

/** Where a benchmark need goes: a category and a district or the whole city. */
export interface PlannedPost {
  category: string;
  district: string;
}

/** One in this many needs is for the whole city; the rest name one district, uniformly. */
const WHOLE_CITY_ONE_IN = 8;

/** The same sequence of needs for every driver and size: uniform category, uniform district, sometimes '*'. */
export function planPosts(city: SeedCity, count: number, seed: number): PlannedPost[] {
  const prng = new Prng(seed);
  return Array.from({ length: count }, () => ({
    category: prng.pick(city.categories),
    district: prng.below(WHOLE_CITY_ONE_IN) === 0 ? WHOLE_CITY : prng.pick(city.districts),
  }));
}

const LANGUAGES = ['uk', 'de', 'ru'] as const;

/** A need as the dialog would hand it to publishPost; the text is unique per phase and index (duplicates are refused). */
export function needInput(phase: string, index: number, planned: PlannedPost): NewPost {
  return {
    kind: 'need',
    category: planned.category,
    district: planned.district,
    text: `Benchmark need ${phase}-${index}: looking for help with ${planned.category} in ${planned.district === WHOLE_CITY ? 'the whole city' : planned.district}.`,
    photoFileId: null,
    language: LANGUAGES[index % LANGUAGES.length] as string,
  };
}
