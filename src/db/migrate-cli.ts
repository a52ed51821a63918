/** `npm run db:migrate`: applies the committed migrations to DATABASE_URL (or the PGlite data dir). */
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../logger';
import { createDatabase } from './index';
import { runMigrations } from './migrate';

async function main(): Promise<void> {
  const config = loadConfig({ requireToken: false });
  const logger = createLogger(config.LOG_LEVEL);
  const handle = await createDatabase({ ...config, logger, seedPglite: true });
  try {
    await runMigrations(handle);
    logger.info({ driver: handle.driver }, 'migrations applied');
  } finally {
    await handle.close();
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
