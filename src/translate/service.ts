import type { Config } from '../config';
import type { Clock } from '../clock';
import type { Database } from '../db';
import type { Logger } from '../logger';
import { type EngineState, LibreTranslateEngine, type LibreTranslateOptions, type TranslationEngine } from './engine';
import { TranslationRunner } from './runner';

/** What rendering needs to know about translation: how long to wait, whether the engine is worth waiting for, how to hurry the job. */
export interface TranslationAccess {
  /** TRANSLATE_WAIT in milliseconds. */
  waitMs: number;
  /** False while the engine's circuit is open: nothing waits for it then. */
  available(): boolean;
  /** A message waits for a translation: the job should look now. */
  kick(): void;
}

/** Translation in one process: the engine client and the job runner. */
export interface TranslationService extends TranslationAccess {
  engine: TranslationEngine;
  runner: TranslationRunner;
  state(): EngineState;
}

/** The translation service for TRANSLATE_URL, or null when it is not set (no translation, as before). */
export function createTranslationService(
  config: Pick<Config, 'TRANSLATE_URL' | 'TRANSLATE_API_KEY' | 'TRANSLATE_TIMEOUT' | 'TRANSLATE_WAIT'>,
  deps: {
    db: Database;
    clock: Clock;
    logger: Logger;
    onReleased?: () => void;
    /** Overrides for tests and benchmarks (retry pauses, thresholds). */
    engine?: Partial<LibreTranslateOptions>;
    runner?: Partial<ConstructorParameters<typeof TranslationRunner>[0]>;
  },
): TranslationService | null {
  if (!config.TRANSLATE_URL) return null;
  const logger = deps.logger.child({ component: 'translate' });
  const engine = new LibreTranslateEngine({ url: config.TRANSLATE_URL, apiKey: config.TRANSLATE_API_KEY, timeoutMs: config.TRANSLATE_TIMEOUT, clock: deps.clock, logger, ...deps.engine });
  const runner = new TranslationRunner({ db: deps.db, clock: deps.clock, logger, engine, onReleased: deps.onReleased, ...deps.runner });
  return {
    engine,
    runner,
    waitMs: config.TRANSLATE_WAIT,
    available: () => engine.available(),
    kick: () => runner.kick(),
    state: () => engine.state(),
  };
}
