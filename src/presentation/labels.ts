import type { CityDirectory } from '../city';
import type { Locale } from '../config';
import type { PostRow, UserRow } from '../db/schema';
import type { TFunction } from '../i18n';

/** "🏠 Wohnen · Hamborn (#12)": how a post is named in messages about it. */
export function postLabel(env: { city: CityDirectory; locale: Locale }, post: { id: number; category: string; district: string }): string {
  return `${env.city.categoryLabel(post.category, env.locale)} · ${env.city.districtName(post.district, env.locale)} (#${post.id})`;
}

/** A post as `postLabel` needs it, with who wrote it and for whom (/intake). */
type LabelledPost = Pick<PostRow, 'id' | 'category' | 'district' | 'authorId' | 'intakeName'>;

/**
 * `postLabel` for one reader: the author of a need taken for someone without Telegram (/intake) also reads
 * for whom ("… (#12) · für Olena"); anyone else never does. For messages about a post to its author.
 */
export function postLabelFor(env: { city: CityDirectory; locale: Locale; t: TFunction }, post: LabelledPost, readerId: number): string {
  const label = postLabel(env, post);
  return post.intakeName !== null && readerId === post.authorId ? env.t('intake.label', { label, name: post.intakeName }) : label;
}

/**
 * The bot's header over a relayed message: who wrote it and about which post. The author of a need taken for
 * someone without Telegram also reads for whom (one line more); the helper never does. One copy for the relay,
 * its translation edit and the translation toggle.
 */
export function relayHeader(
  env: { city: CityDirectory; locale: Locale; t: TFunction },
  sender: Pick<UserRow, 'firstName' | 'organisation'>,
  post: LabelledPost,
  readerId: number,
): string {
  const header = env.t('contacts.relayHeader', { name: displayName(sender, env.t('contacts.someone')), label: postLabel(env, post) });
  return post.intakeName !== null && readerId === post.authorId ? `${header}\n${env.t('intake.forPerson', { name: post.intakeName })}` : header;
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
