/**
 * Checks text the way Telegram does for parse_mode HTML, so an unescaped "<" in a user's post fails
 * a test here instead of failing in production with "can't parse entities".
 */
const ALLOWED = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'a', 'code', 'pre', 'tg-spoiler', 'blockquote', 'span', 'tg-emoji']);
const ENTITY = /^&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);/;

/** Returns an error description like Telegram's, or null when the HTML is acceptable. */
export function validateTelegramHtml(text: string): string | null {
  const stack: string[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '&') {
      const m = ENTITY.exec(text.slice(i));
      if (!m) return `Bad Request: can't parse entities: unsupported entity at byte offset ${i}`;
      i += m[0].length;
      continue;
    }
    if (ch === '<') {
      const end = text.indexOf('>', i);
      if (end < 0) return `Bad Request: can't parse entities: unclosed start tag at byte offset ${i}`;
      const raw = text.slice(i + 1, end).trim();
      const closing = raw.startsWith('/');
      const name = (closing ? raw.slice(1) : raw).split(/\s/)[0]?.toLowerCase() ?? '';
      if (!ALLOWED.has(name)) return `Bad Request: can't parse entities: unsupported start tag "${name}" at byte offset ${i}`;
      if (closing) {
        if (stack.pop() !== name) return `Bad Request: can't parse entities: unmatched end tag "${name}" at byte offset ${i}`;
      } else {
        stack.push(name);
      }
      i = end + 1;
      continue;
    }
    if (ch === '>') return `Bad Request: can't parse entities: unexpected ">" at byte offset ${i}`;
    i++;
  }
  if (stack.length > 0) return `Bad Request: can't parse entities: can't find end tag corresponding to start tag "${stack.pop()}"`;
  return null;
}

/** What a person sees: tags removed, entities decoded. */
export function htmlToPlain(text: string): string {
  return text
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-fA-F]+);/g, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&amp;/g, '&');
}
