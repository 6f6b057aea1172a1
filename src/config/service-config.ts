import type { Logger } from '../logger/logger.js'
import { type Config, loadConfig } from './config.js'
import { envSource } from './env-source.js'
import { fileSource } from './file-source.js'
import { flagsSource } from './flags-source.js'
import { configSourceFromEnv } from './platform-source.js'
import type { Source } from './source.js'

/** The variable naming a service's config file. */
export const CONFIG_FILE_ENV = 'MICRO_CONFIG_FILE'

/** Options of {@link serviceSources} and {@link loadServiceConfig}. */
export interface ServiceConfigOptions {
  /** The service name; its environment prefix is the name upper-cased, other characters as `_`. */
  name: string
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Default `process.argv.slice(2)`. */
  argv?: readonly string[]
  /** Sources merged above the defaults, e.g. `storeSource(kv)` on a platform. */
  extra?: readonly Source[]
  /** The namespace whose platform config document applies. Default MICRO_NAMESPACE, else `micro`. */
  namespace?: string
  logger?: Logger
}

/** `shop-api` → `SHOP_API`: the prefix of a service's environment variables. */
export function envPrefix(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')
}

/**
 * A service's default sources, lowest first: the file named by MICRO_CONFIG_FILE (when
 * set; a missing file is then an error), the platform's config document of the namespace
 * (with MICRO_CONFIG=service or MICRO_PLATFORM), the environment under the service's prefix
 * (`SHOP_API_DB_URL` → `db.url`), then flags, so a deployment overrides the file and the
 * platform, and a flag overrides everything.
 */
export function serviceSources(options: ServiceConfigOptions): Source[] {
  const vars = options.env ?? process.env
  const path = vars[CONFIG_FILE_ENV]
  const platform = configSourceFromEnv(vars, options.namespace ?? (vars.MICRO_NAMESPACE || 'micro'))
  return [
    ...(path ? [fileSource(path)] : []),
    ...(platform ? [platform] : []),
    envSource({ prefix: envPrefix(options.name), env: vars }),
    flagsSource(options.argv),
    ...(options.extra ?? []),
  ]
}

/** Load a service's config from {@link serviceSources}. */
export function loadServiceConfig(options: ServiceConfigOptions): Promise<Config> {
  return loadConfig({ sources: serviceSources(options), env: options.env, logger: options.logger })
}
