import type { MiddlewareFn } from 'grammy';
import type { Context } from '../context';

/**
 * PostgreSQL stores no U+0000 in text or jsonb: a NUL arriving in a name, a text or a caption would fail
 * every write that carries it (the profile, a draft in the session, a post, a relayed message), and the
 * user would only ever get apologies. It is replaced with U+FFFD on arrival; the length stays the same
 * and so do the offsets of Telegram's entities.
 */
export const replaceNul: MiddlewareFn<Context> = (ctx, next) => {
  replaceNulDeep(ctx.update);
  return next();
};

/**
 * Replaces U+0000 with U+FFFD in every string anywhere inside `root` (object keys stay as they are), in
 * place. It walks with an explicit stack rather than recursion, so that no nesting depth can overflow
 * the call stack. `root` is parsed JSON, which has no cycles.
 */
export function replaceNulDeep(root: unknown): void {
  if (root === null || typeof root !== 'object') return;
  const pending: object[] = [root];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const value = record[key];
      if (typeof value === 'string') {
        if (value.includes('\u0000')) record[key] = value.replaceAll('\u0000', '\uFFFD');
      } else if (value !== null && typeof value === 'object') {
        pending.push(value);
      }
    }
  }
}
