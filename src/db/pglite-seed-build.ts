/** Building the PGlite seed (see pglite-seed.ts): initdb and every migration, once per version. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { createDatabase } from './index';
import { runMigrations } from './migrate';
import { DEFAULT_SEED_ROOT, pgliteSeedPath } from './pglite-seed';

const STALE_SEED_MS = 60 * 60 * 1000;

/**
 * Makes the seed under root unless it exists, and removes old seeds of other versions there. Safe when
 * several processes do it at once: each builds in its own directory and the first rename wins.
 */
export async function preparePgliteSeed(root = DEFAULT_SEED_ROOT): Promise<string> {
  const seed = pgliteSeedPath(root);
  if (existsSync(seed)) return seed;
  mkdirSync(root, { recursive: true });
  const building = mkdtempSync(`${seed}.building-`);
  try {
    const handle = await createDatabase({ pgliteDataDir: building });
    try {
      await runMigrations(handle);
    } finally {
      await handle.close();
    }
    renameSync(building, seed);
  } catch (err) {
    rmSync(building, { recursive: true, force: true });
    // Another process finished first: its seed is as good.
    if (!existsSync(seed)) throw err;
  }
  pruneSeeds(root, seed);
  return seed;
}

/** Removes the seeds under root other than keep once they are an hour old (another checkout sharing node_modules may still use one). */
export function pruneSeeds(root: string, keep: string, now = Date.now()): void {
  for (const entry of readdirSync(root)) {
    const other = path.join(root, entry);
    if (!entry.startsWith('pglite-') || other === keep) continue;
    try {
      if (now - statSync(other).mtimeMs > STALE_SEED_MS) rmSync(other, { recursive: true, force: true });
    } catch {
      // Removed meanwhile by another process.
    }
  }
}
