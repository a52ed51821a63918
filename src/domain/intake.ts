import { z } from 'zod';
import { LOCALES, type Locale } from '../config';
import type { PostRow } from '../db/schema';
import { DomainError } from './errors';

/**
 * Needs taken on behalf of others (/intake): a Lotse (or a coordinator) writes a need for a person without
 * Telegram. The post's author is the Lotse, who gets the offers of help and talks to the helper; the person
 * is known only by a first name or initials and their language. The name is shown to the Lotse alone and is
 * erased with the post's text.
 */

/** The longest name or initials accepted (characters after trimming). */
export const INTAKE_NAME_MAX = 40;

/** Letters (Latin, Cyrillic, any script, with their combining marks), spaces, hyphens, apostrophes (' ’ ʼ) and dots. */
const NAME_PATTERN = /^[\p{L}\p{M}][\p{L}\p{M} '’ʼ.-]*$/u;
/** "olena.de", "www.x.com": letters, a dot, letters again — a web address, not initials ("O. K.", "O.K."). */
const ADDRESS_PATTERN = /\p{L}{2,}\.\p{L}{2,}/u;

/**
 * A person's first name or initials, nothing more: no digits (no phone numbers, no house numbers), no @, no
 * web address. Spaces are tidied, the text is NFC-normalised.
 */
export const intakeNameSchema = z
  .string()
  .transform((raw) => raw.normalize('NFC').replace(/\s+/g, ' ').trim())
  .pipe(
    z
      .string()
      .min(1)
      .refine((name) => [...name].length <= INTAKE_NAME_MAX)
      .regex(NAME_PATTERN)
      .refine((name) => !ADDRESS_PATTERN.test(name)),
  );

/** The person a need is for: their name (or initials) and language. */
export interface Intake {
  name: string;
  language: Locale;
}

/** The tidied name, or null when it is not a plain first name or initials. */
export function checkIntakeName(raw: string): string | null {
  const parsed = intakeNameSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/** The person, checked again in the domain (the dialog checked already; forged session data is refused here). */
export function checkedIntake(input: { name: string; language: string }): Intake {
  const name = checkIntakeName(input.name);
  if (name === null) throw new DomainError('intake.errors.name', { max: INTAKE_NAME_MAX });
  const language = z.enum(LOCALES).safeParse(input.language);
  if (!language.success) throw new DomainError('intake.errors.language');
  return { name, language: language.data };
}

/** Whether a post was taken on behalf of someone (set until the post is erased). */
export function isIntake(post: Pick<PostRow, 'intakeLanguage'>): boolean {
  return post.intakeLanguage !== null;
}
