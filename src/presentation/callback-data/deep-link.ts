import { z } from 'zod';

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

/** Builds a t.me deep link. */
export function createDeepLink(botUsername: string, payload: string): string {
  return `https://t.me/${botUsername}?start=${payload}`;
}
