'use strict';
/**
 * `npm start`: runs the bot from JavaScript that is compiled again only when a source file changed,
 * instead of transforming every TypeScript file at each start (tsx does, through its loader: about
 * 0.6 s more per start on two cores). esbuild only strips the types (`isolatedModules` guarantees
 * that this is enough); `npm run typecheck` checks them. The output lives under
 * .cache/run-<fingerprint of the sources> in the checkout (inside it, so that the compiled files find
 * this checkout's node_modules, locales and migrations), written to a temporary folder and
 * renamed into place, so that processes starting at the same moment (tests, checkouts sharing
 * node_modules) never see half of it; stack traces point into src/ through the source maps.
 */
const { createHash } = require('node:crypto');
const { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'src');
const CACHE = path.join(ROOT, '.cache');
/** Compiled trees of other sources are removed once this old (another checkout may still use one). */
const STALE_MS = 60 * 60_000;

/** Every file under src/ (TypeScript to compile, JSON to copy beside it). */
function sourceFiles(dir = SRC, list = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(file, list);
    else if (/\.(ts|json)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) list.push(file);
  }
  return list.sort();
}

/** Names, sizes and times of change of the sources, and the compiler's version: a change of any means compile. */
function fingerprint(files, esbuildVersion) {
  const hash = createHash('sha256').update(`esbuild ${esbuildVersion}\n`);
  for (const file of files) {
    const { size, mtimeMs } = statSync(file);
    hash.update(`${path.relative(SRC, file)}\0${size}\0${mtimeMs}\n`);
  }
  return hash.digest('hex');
}

/** Compiles src/ into `out` through a temporary folder; returns the milliseconds it took. */
function compile(files, esbuild, out) {
  const started = performance.now();
  mkdirSync(CACHE, { recursive: true });
  const building = mkdtempSync(path.join(CACHE, 'building-'));
  try {
    esbuild.buildSync({
      entryPoints: files.filter((f) => f.endsWith('.ts')),
      outdir: path.join(building, 'src'),
      outbase: SRC,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      sourcemap: true,
      logLevel: 'error',
    });
    for (const file of files.filter((f) => f.endsWith('.json'))) {
      const target = path.join(building, 'src', path.relative(SRC, file));
      mkdirSync(path.dirname(target), { recursive: true });
      copyFileSync(file, target);
    }
    try {
      renameSync(building, out);
    } catch (err) {
      // Another process compiled the same sources a moment earlier: its tree is as good as ours.
      if (!existsSync(out)) throw err;
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return performance.now() - started;
}

function pruneOthers(keep) {
  for (const entry of readdirSync(CACHE)) {
    const other = path.join(CACHE, entry);
    if (!/^(run|building)-/.test(entry) || other === keep) continue;
    try {
      if (Date.now() - statSync(other).mtimeMs > STALE_MS) rmSync(other, { recursive: true, force: true });
    } catch {
      // Removed meanwhile by another process.
    }
  }
}

function main() {
  const esbuild = require('esbuild');
  const files = sourceFiles();
  const out = path.join(CACHE, `run-${fingerprint(files, esbuild.version).slice(0, 16)}`);
  if (!existsSync(path.join(out, 'src', 'main.js'))) {
    let ms;
    try {
      ms = compile(files, esbuild, out);
    } catch {
      // esbuild has printed the file, line and reason already.
      console.error('Hilfenetz could not be compiled: fix the error above and start again.');
      process.exit(1);
    }
    console.error(`hilfenetz: compiled ${files.length} source files in ${(ms / 1000).toFixed(1)} s (again only when one changes)`);
    pruneOthers(out);
  }
  process.setSourceMapsEnabled(true);
  require(path.join(out, 'src', 'main.js'));
}

main();
