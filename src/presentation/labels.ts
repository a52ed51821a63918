import type { CityDirectory } from '../city';
import type { Locale } from '../config';
import type { UserRow } from '../db/schema';

/** "🏠 Wohnen · Hamborn (#12)": how a post is named in messages about it. */
export function postLabel(env: { city: CityDirectory; locale: Locale }, post: { id: number; category: string; district: string }): string {
  return `${env.city.categoryLabel(post.category, env.locale)} · ${env.city.districtName(post.district, env.locale)} (#${post.id})`;
}

/** How a person is shown to the other side: first name and organisation, nothing else. */
export function displayName(user: Pick<UserRow, 'firstName' | 'organisation'>, fallback: string): string {
  const name = user.firstName?.trim() || fallback;
  return user.organisation ? `${name} (${user.organisation})` : name;
}

/** "🏠 Wohnen, 👨‍👩‍👧 Familie & Kinderbetreuung": the city's protected categories, for messages about verification. */
export function protectedCategoriesLabel(env: { city: CityDirectory; locale: Locale }): string {
  return env.city.protectedCategories.map((key) => env.city.categoryLabel(key, env.locale)).join(', ');
}

/** How a person asking to be verified is shown to coordinators: first name and, with their consent, Telegram username. */
export function nameWithUsername(user: Pick<UserRow, 'firstName' | 'username'>, noUsername: string): string {
  const name = user.firstName?.trim() || '—';
  return user.username ? `${name} (@${user.username})` : `${name} (${noUsername})`;
}
