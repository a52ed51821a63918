import { z } from 'zod';
import { LOCALES, type Locale } from '../../config';

/**
 * Poster links, version 1: `p1-<language>` for the whole city, `p1-<language>-<district key>` for a
 * district (`p1-uk-hamborn`). The version lets a later poster format live beside printed ones. The
 * district is checked against the city by the handler: an unknown one means ordinary onboarding.
 */
const POSTER_PREFIX = 'p1';

/**
 * Parameters of `/start <payload>` links (t.me/<bot>?start=<payload>). Telegram allows up to 64
 * characters of A-Z, a-z, 0-9, _ and -. Anything else, or an unknown kind, is `invalid`.
 */
const deepLink = z.union([
  z
    .string()
    .regex(/^staff_[A-Za-z0-9_-]{16,48}$/)
    .transform((s) => ({ type: 'staff' as const, code: s.slice('staff_'.length) })),
  z
    .string()
    .regex(/^org_[A-Za-z0-9_-]{16,48}$/)
    .transform((s) => ({ type: 'organisation' as const, code: s.slice('org_'.length) })),
  z
    .string()
    .regex(/^post_[1-9]\d{0,9}$/)
    .transform((s) => Number(s.slice('post_'.length)))
    // Post ids are PostgreSQL integers: a larger number names no post (and would fail the query).
    .pipe(z.number().max(2_147_483_647))
    .transform((postId) => ({ type: 'post' as const, postId })),
  // The button of inline results that found nothing to share: an ordinary start.
  z.literal('share').transform(() => ({ type: 'share' as const })),
  z
    .string()
    .regex(new RegExp(`^${POSTER_PREFIX}-(${LOCALES.join('|')})(-[a-z][a-z0-9_]{0,23})?$`))
    .transform((s) => {
      const [, locale, district] = s.split('-');
      return { type: 'poster' as const, locale: locale as Locale, district: district ?? null };
    }),
]);

export type DeepLink = z.output<typeof deepLink> | { type: 'none' } | { type: 'invalid' };

/** Parses the payload of /start; empty → none, anything unexpected → invalid. */
export function parseStartPayload(payload: string | undefined): DeepLink {
  const value = payload?.trim() ?? '';
  if (value === '') return { type: 'none' };
  if (value.length > 64 || !/^[A-Za-z0-9_-]+$/.test(value)) return { type: 'invalid' };
  const parsed = deepLink.safeParse(value);
  return parsed.success ? parsed.data : { type: 'invalid' };
}

/** The /start payload of a poster for a district (null: the whole city) in a language. */
export function createPosterPayload(locale: Locale, district: string | null): string {
  const payload = district === null ? `${POSTER_PREFIX}-${locale}` : `${POSTER_PREFIX}-${locale}-${district}`;
  const parsed = parseStartPayload(payload);
  if (parsed.type !== 'poster') throw new Error(`district key "${district}" cannot be put into a poster link`);
  return payload;
}

/** The /start payload that opens a post in the bot (mirrored cards, shared cards). */
export function createPostPayload(postId: number): string {
  return `post_${postId}`;
}

/** Builds a t.me deep link. */
export function createDeepLink(botUsername: string, payload: string): string {
  return `https://t.me/${botUsername}?start=${payload}`;
}
