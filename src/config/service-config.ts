import type { Logger } from '../logger/logger.js'
import { type Config, loadConfig } from './config.js'
import { envSource } from './env-source.js'
import { fileSource } from './file-source.js'
import { flagsSource } from './flags-source.js'
import type { ConfigKV } from './kv.js'
import { configSourceFromEnv } from './platform-source.js'
import type { Source } from './source.js'
import { storeSource } from './store-source.js'

/** The variable naming a service's config file. */
export const CONFIG_FILE_ENV = 'MICRO_CONFIG_FILE'

/** How often a service re-reads its namespace's store document, ms: `micro config set` reaches it within this. */
export const STORE_POLL_INTERVAL = 500

/** Options of {@link serviceSources} and {@link loadServiceConfig}. */
export interface ServiceConfigOptions {
  /** The service name; its environment prefix is the name upper-cased, other characters as `_`, then `__`. */
  name: string
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Default `process.argv.slice(2)`. */
  argv?: readonly string[]
  /**
   * The key/value store holding the namespace's config document (key `config`, as `micro
   * config set` writes it); without one there is no store source.
   */
  store?: ConfigKV
  /** The namespace whose config document applies. Default MICRO_NAMESPACE, else `micro`. */
  namespace?: string
  /** How often the store document is re-read, ms. Default 500 (`STORE_POLL_INTERVAL`). */
  storePollInterval?: number
  /** Sources merged above the defaults. */
  extra?: readonly Source[]
  logger?: Logger
}

/**
 * `shop-api` → `SHOP_API__`: the prefix of a service's own environment variables, one
 * rule for its config (`SHOP_API__DB_URL` → `db.url`) and for the per-service overrides of
 * a definition's env (`SHOP_API__DATABASE_URL` before `DATABASE_URL`). The double
 * underscore keeps `shop` and `shop-api` apart (`SHOP__API_URL`, `SHOP_API__URL`).
 */
export function envPrefix(name: string): string {
  return `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}__`
}

/**
 * A service's default sources, lowest first: the file named by MICRO_CONFIG_FILE (when
 * set; a missing file is then an error), the namespace's config document (what `micro
 * config set` writes; polled): from the platform with MICRO_CONFIG=service or MICRO_PLATFORM,
 * else from the service's store; the environment under the service's prefix
 * (`SHOP_API__DB_URL` → `db.url`), then flags. A deployment's file is the base, the
 * platform's document changes it at run time, and the process's own env and flags win.
 */
export function serviceSources(options: ServiceConfigOptions): Source[] {
  const vars = options.env ?? process.env
  const path = vars[CONFIG_FILE_ENV]
  const platform = configSourceFromEnv(vars, options.namespace ?? (vars.MICRO_NAMESPACE || 'micro'))
  return [
    ...(path ? [fileSource(path)] : []),
    ...(platform
      ? [platform]
      : options.store
        ? [
            storeSource(options.store, {
              namespace: options.namespace,
              pollInterval: options.storePollInterval ?? STORE_POLL_INTERVAL,
            }),
          ]
        : []),
    envSource({ prefix: envPrefix(options.name), env: vars }),
    flagsSource(options.argv),
    ...(options.extra ?? []),
  ]
}

/** Load a service's config from {@link serviceSources}. */
export function loadServiceConfig(options: ServiceConfigOptions): Promise<Config> {
  return loadConfig({ sources: serviceSources(options), env: options.env, logger: options.logger })
}
