/**
 * `npm install`'s postinstall (and `npm run db:seed`): prepares the PGlite seed so that the first
 * `npm start` on a fresh data directory copies it instead of running initdb and every migration. It never
 * fails an install: without a seed the bot starts the slow way.
 */
import { preparePgliteSeed } from './pglite-seed-build';

const started = Date.now();
preparePgliteSeed()
  .then((seed) => console.log(`hilfenetz: embedded database seed ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${seed})`))
  .catch((err: unknown) => console.warn(`hilfenetz: no embedded database seed (${err instanceof Error ? err.message : String(err)}); the first start will initialise the database itself`));
