import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The folder holding package.json, found by walking up from this file, so that `locales/` and
 * `migrations/` are found both from src/ (tsx, jest) and from dist/ (the built image).
 */
export const PROJECT_ROOT = (() => {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${__dirname}`);
    dir = parent;
  }
  return dir;
})();

/** The committed drizzle-kit migrations. */
export const MIGRATIONS_FOLDER = path.join(PROJECT_ROOT, 'migrations');
