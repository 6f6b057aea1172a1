import type { Logger } from '../logger/logger.js'
import type { ServiceInfo } from './deps.js'
import type { Extensions } from './extensions.js'
import type { TableReader } from './table.js'

/** What a feature gets in `init`. */
export interface FeatureContext<Config = unknown> {
  readonly service: ServiceInfo
  /** What `configure` returned for the `[features.<name>]` table. */
  readonly config: Config
  readonly logger: Logger
  /** The validated environment of the service. */
  readonly env: Readonly<Record<string, unknown>>
  /**
   * The variables the service reads its MICRO_* settings from (`options.env`, else
   * process.env): what a feature reads its own standard variables from (OTEL_*).
   */
  readonly variables?: NodeJS.ProcessEnv
  /** Where to add middleware, routes, handlers and health checks for the kinds. */
  readonly extensions: Extensions
  /** Replace the logger of the service (the logging feature does). */
  useLogger(logger: Logger): void
}

/** An initialised feature. */
export interface FeatureInstance<Api = unknown> {
  /** What handlers get as `features.<name>`. */
  readonly api?: Api
  /** Runs after the kinds started. */
  start?(): unknown
  /** Runs in reverse order of start, before the kinds stop. */
  stop?(): unknown
}

/**
 * A feature: a cross-cutting plugin with a lifecycle. It reads its own
 * `[features.<name>]` table (`configure`), then `init` runs before the kinds start (to add
 * middleware), `start` after them, `stop` in reverse order when the service stops.
 */
export interface Feature<Config = unknown, Api = unknown> {
  /** The feature's name: its table in service.toml is `[features.<name>]`. */
  readonly name: string
  /** Read and check the feature's table; problems are reported through the reader. */
  configure(reader: TableReader): Config
  /** Set the feature up for one service, with its config and the service's stack. */
  init(context: FeatureContext<Config>): FeatureInstance<Api> | Promise<FeatureInstance<Api>>
}
