import { CityDirectory, CityFileError, loadCity } from './city';
import { type Config, ConfigError, parseConfig, parseVariables, readEnvironment } from './config';

/** What the bot needs before it opens anything: the configuration and the deployed city. */
export interface Startup {
  config: Config;
  city: CityDirectory;
}

/**
 * Checks the environment and the city file together and throws one ConfigError listing every problem,
 * so an operator fixes all of them in one go instead of one per restart.
 */
export function loadStartup(
  options: { env?: Record<string, string | undefined>; requireToken?: boolean } = {},
): Startup {
  const env = options.env ?? readEnvironment();
  const problems: string[] = [];
  let config: Config | undefined;
  try {
    config = parseConfig(env, options);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  let city: CityDirectory | undefined;
  const cityFile = parseVariables(env, { CITY_FILE: true });
  if (cityFile) {
    try {
      city = new CityDirectory(loadCity(cityFile.CITY_FILE));
    } catch (err) {
      if (!(err instanceof CityFileError)) throw err;
      problems.push(...err.problems.map((p) => `CITY_FILE: ${err.source}: ${p}`));
    }
  }
  if (!config || !city || problems.length > 0) throw new ConfigError(problems);
  return { config, city };
}
