import type { ServiceInfo } from '../definition/deps.js'
import type { FeatureInstance } from '../definition/feature.js'
import { loadFeature } from '../definition/plugins.js'
import { Problems } from '../definition/problems.js'
import { isTable, type Table, TableReader } from '../definition/table.js'
import type { Logger } from '../logger/logger.js'
import type { Extensions } from './extensions.js'
import type { ServiceFeatures } from './options.js'

/**
 * The features a `createService` service runs itself (`options.features`): the same
 * plugins a service.toml enables, configured from the same tables, initialised at start
 * (they fill the service's Extensions: wrappers, routes, health checks), started once it
 * serves and stopped in reverse before its blocks close.
 */
export class ServiceFeatureSet {
  /** What handlers use as `service.features.<name>`. */
  readonly apis: Record<string, unknown> = {}
  readonly #wanted: [string, Table][]
  readonly #running: { name: string; instance: FeatureInstance }[] = []

  constructor(features: ServiceFeatures) {
    this.#wanted = []
    for (const [name, value] of Object.entries(features)) {
      if (value === undefined || value === false) continue
      if (name === 'logging') {
        throw new TypeError(
          'createService runs no logging feature: pass a logger (createLogger, or a pino-backed one) instead',
        )
      }
      if (value !== true && !isTable(value)) {
        throw new TypeError(`features.${name} must be true, false or a table of its settings`)
      }
      this.#wanted.push([name, value === true ? {} : value])
    }
  }

  /** Load, configure and initialise every enabled feature; every settings problem is thrown at once. */
  async init(
    who: Pick<ServiceInfo, 'name' | 'version' | 'namespace'>,
    extensions: Extensions,
    logger: Logger,
    variables: NodeJS.ProcessEnv = process.env,
  ): Promise<void> {
    // Features see the service as an rpc-only one: metrics then serve on a listener of their own.
    const service: ServiceInfo = { ...who, product: undefined, kinds: ['rpc'] }
    const problems = new Problems()
    const configured: { name: string; init: () => Promise<FeatureInstance> }[] = []
    for (const [name, table] of this.#wanted) {
      const feature = await loadFeature(name)
      const reader = new TableReader(table, `features.${name}`, problems)
      reader.raw('enabled')
      const config = feature.configure(reader)
      reader.done()
      configured.push({
        name,
        init: async () =>
          feature.init({
            service,
            config,
            logger: logger.child({ feature: name }),
            env: {},
            variables,
            extensions,
            useLogger: () => {},
          }),
      })
    }
    problems.throwIfAny(`service ${service.name}`)
    for (const { name, init } of configured) {
      const instance = await init()
      this.#running.push({ name, instance })
      if (instance.api !== undefined) this.apis[name] = instance.api
    }
  }

  async start(): Promise<void> {
    for (const { instance } of this.#running) await instance.start?.()
  }

  /** Stop in reverse order; a failure is logged and the others still stop. */
  async stop(logger: Logger): Promise<void> {
    for (const { name, instance } of this.#running.splice(0).reverse()) {
      try {
        await instance.stop?.()
      } catch (error) {
        logger.warn(`stopping feature ${name} failed`, { error })
      }
    }
  }
}
