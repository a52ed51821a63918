/**
 * A migrated, empty PGlite data directory prepared ahead of time, so that a fresh data directory is a copy
 * (under a second) instead of PGlite's initdb in WebAssembly plus every migration (10–20 s on two cores).
 *
 * `npm install` prepares it (the postinstall script runs src/db/pglite-seed-cli.ts, see pglite-seed-build.ts) under
 * node_modules/.cache/hilfenetz, keyed by the PGlite version and the committed migrations; tests keep theirs
 * in the system's temporary directory. A missing or outdated seed only means the slow path: the data
 * directory is initialised and migrated at start, as without a seed.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MIGRATIONS_FOLDER, PROJECT_ROOT } from '../util/project-root';

/** Where `npm install` prepares the seed for `npm start`. */
export const DEFAULT_SEED_ROOT = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'hilfenetz');

/** The seed's name: what it depends on (the PGlite build and the migrations' content), hashed. */
export function pgliteSeedKey(): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(path.join(path.dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json')));
  const files = readdirSync(MIGRATIONS_FOLDER, { recursive: true, encoding: 'utf8' }).sort();
  for (const file of files) {
    if (file.endsWith('.sql') || file.endsWith('.json')) hash.update(file).update(readFileSync(path.join(MIGRATIONS_FOLDER, file)));
  }
  return `pglite-${hash.digest('hex').slice(0, 16)}`;
}

/** The seed for the current PGlite and migrations under root, whether or not it exists yet. */
export function pgliteSeedPath(root = DEFAULT_SEED_ROOT): string {
  return path.join(root, pgliteSeedKey());
}

/** Whether dataDir holds no PostgreSQL cluster yet (missing, or without PG_VERSION). */
export function isFreshDataDir(dataDir: string): boolean {
  return !existsSync(path.join(dataDir, 'PG_VERSION'));
}

/**
 * Fills a fresh dataDir from the prepared seed, if there is one for the current PGlite and migrations.
 * Returns whether it did; an existing cluster is never touched.
 */
export function seedDataDir(dataDir: string, root = DEFAULT_SEED_ROOT): boolean {
  if (!isFreshDataDir(dataDir)) return false;
  let seed: string;
  try {
    seed = pgliteSeedPath(root);
  } catch {
    return false;
  }
  if (!existsSync(path.join(seed, 'PG_VERSION'))) return false;
  mkdirSync(dataDir, { recursive: true });
  cpSync(seed, dataDir, { recursive: true });
  return true;
}
