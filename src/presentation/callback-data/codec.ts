import { z } from 'zod';

/** Telegram's limit for callback_data. */
const MAX_BYTES = 64;

/**
 * A small typed codec for callback data: `prefix:field1:field2`. `decode` is a zod parse that returns
 * null for anything forged, truncated or from an older version of the bot.
 */
export interface CallbackCodec<T> {
  prefix: string;
  /** Matches every callback of this codec (valid or not) so that the feature can answer it. */
  filter: RegExp;
  encode(values: T): string;
  decode(data: string | undefined): T | null;
}

/** Defines a codec; `fields` fixes the order of the values in the string. */
export function createCallbackData<S extends z.ZodType<Record<string, unknown>>>(
  prefix: string,
  fields: readonly (keyof z.output<S> & string)[],
  schema: S,
): CallbackCodec<z.output<S>> {
  if (!/^[a-z]{1,4}$/.test(prefix)) throw new Error(`callback prefix "${prefix}" must be 1-4 lowercase letters`);
  return {
    prefix,
    filter: new RegExp(`^${prefix}(:|$)`),
    encode(values) {
      const parts = fields.map((f) => {
        const v = String((values as Record<string, unknown>)[f]);
        if (v.includes(':')) throw new Error(`callback value for ${f} contains ':'`);
        return v;
      });
      const data = [prefix, ...parts].join(':');
      if (Buffer.byteLength(data, 'utf8') > MAX_BYTES) throw new Error(`callback data too long: ${data}`);
      return data;
    },
    decode(data) {
      if (!data || Buffer.byteLength(data, 'utf8') > MAX_BYTES) return null;
      const parts = data.split(':');
      if (parts[0] !== prefix || parts.length !== fields.length + 1) return null;
      const raw = Object.fromEntries(fields.map((f, i) => [f, parts[i + 1]]));
      const parsed = schema.safeParse(raw);
      return parsed.success ? parsed.data : null;
    },
  };
}

/** A positive integer id inside callback data. */
export const idField = z
  .string()
  .regex(/^[1-9]\d{0,9}$/)
  .transform(Number)
  .pipe(z.number().int().positive().max(2_147_483_647));

/** A city key (district or category) inside callback data; checked against the city by the handler. */
export const keyField = z.string().regex(/^([a-z][a-z0-9_]{0,23}|\*)$/);
