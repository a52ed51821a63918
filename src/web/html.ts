/**
 * HTML built from tagged templates: every interpolated value is escaped unless it is already Html
 * (another template, or `raw` for our own trusted strings). Synchronous strings, so that views are plain
 * functions that tests can call. (Hono's `html` helper does the same but may return promises, which
 * makes composing lists of fragments clumsy.)
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escape(value: unknown): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return (value as readonly Value[]).map(render).join('');
  return escape(value);
}

/** The template tag: html`<p>${text}</p>`. Arrays are joined; null, undefined and false render nothing. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Marks a trusted string (our own locale texts, whose interpolations i18next already escaped) as Html. */
export function raw(value: string): Html {
  return new Html(value);
}
