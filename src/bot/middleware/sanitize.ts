import type { MiddlewareFn } from 'grammy';
import type { Context } from '../context';

/**
 * PostgreSQL stores no U+0000 in text or jsonb: a NUL arriving in a name, a text or a caption would fail
 * every write that carries it (the profile, a draft in the session, a post, a relayed message), and the
 * user would only ever get apologies. It is replaced with U+FFFD on arrival; the length stays the same
 * and so do the offsets of Telegram's entities.
 */
export const replaceNul: MiddlewareFn<Context> = (ctx, next) => {
  replaceIn(ctx.update as unknown as Record<string, unknown>);
  return next();
};

function replaceIn(node: Record<string, unknown> | unknown[]): void {
  for (const [key, value] of Object.entries(node)) {
    if (typeof value === 'string') {
      if (value.includes('\u0000')) (node as Record<string, unknown>)[key] = value.replaceAll('\u0000', '\uFFFD');
    } else if (value !== null && typeof value === 'object') {
      replaceIn(value as Record<string, unknown>);
    }
  }
}
