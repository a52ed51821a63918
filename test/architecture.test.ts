import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The dependency rule, checked on the source: imports point one way. `presentation/` turns data into
 * Telegram messages for both `bot/` and `delivery/`; neither of those two imports the other (the bot
 * reaches the delivery side through the DeliveryPort in its dependencies); `domain/` knows nothing of
 * Telegram or of the layers above it.
 */
const SRC = path.resolve(__dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every import of a file as a path below src/ ("bot/context") or a package name ("grammy"). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/g)].map((m) => m[1]!);
  return specifiers.map((s) => (s.startsWith('.') ? path.relative(SRC, path.resolve(path.dirname(file), s)) : s));
}

const layerOf = (relative: string) => relative.split(path.sep)[0]!;

/** Which top-level folders (or packages) each layer must not import. */
const FORBIDDEN: Record<string, string[]> = {
  bot: ['delivery', 'server', 'web'],
  delivery: ['bot', 'server', 'web'],
  presentation: ['bot', 'delivery', 'server', 'web'],
  domain: ['bot', 'delivery', 'presentation', 'server', 'web', 'grammy', '@grammyjs', 'hono'],
  db: ['bot', 'delivery', 'presentation', 'server', 'domain', 'web', 'grammy'],
  // The web desk is another front end on the domain: it shares nothing with the bot but the domain.
  web: ['bot', 'delivery', 'server', 'grammy', '@grammyjs'],
};

describe('dependencies point one way', () => {
  const files = sourceFiles(SRC);

  it('finds the source', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files.some((f) => f.includes(`${path.sep}presentation${path.sep}`))).toBe(true);
  });

  const entries = files.map((file) => ({ relative: path.relative(SRC, file), imports: importsOf(file) }));

  it.each(Object.entries(FORBIDDEN))('%s/ imports none of %p', (layer, forbidden) => {
    expect(violations(layer, forbidden, entries)).toEqual([]);
  });

  it('reports a forbidden import when there is one', () => {
    const fake = [{ relative: path.join('delivery', 'x.ts'), imports: [path.join('bot', 'context'), 'grammy'] }];
    expect(violations('delivery', FORBIDDEN.delivery!, fake)).toEqual([`${path.join('delivery', 'x.ts')} → ${path.join('bot', 'context')}`]);
    expect(violations('domain', FORBIDDEN.domain!, [{ relative: path.join('domain', 'y.ts'), imports: ['@grammyjs/runner'] }])).toHaveLength(1);
  });
});

function violations(layer: string, forbidden: string[], entries: { relative: string; imports: string[] }[]): string[] {
  const found: string[] = [];
  for (const { relative, imports } of entries) {
    if (layerOf(relative) !== layer) continue;
    for (const target of imports) {
      const targetLayer = target.startsWith('@') ? target.split('/')[0]! : layerOf(target);
      if (forbidden.includes(targetLayer) || forbidden.includes(target)) found.push(`${relative} → ${target}`);
    }
  }
  return found;
}
