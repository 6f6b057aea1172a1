import type { Client } from '../client/client.js'
import { MicroError } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import type { Registry } from '../registry/registry.js'
import type { GivenBlocks } from '../service/blocks.js'
import { Extensions } from '../service/extensions.js'
import { createService, type Service } from '../service/service.js'
import { buildClients, type ClientSpecs } from './clients.js'
import type { Deps, Features, RunDeps, ServiceInfo } from './deps.js'
import { DepsObject } from './deps-object.js'
import type { FeatureInstance } from './feature.js'
import type { KindServiceOptions, RunningKind } from './kind.js'
import type { Prepared, PreparedKind } from './prepare.js'

/** What a ServiceRuntime runs, and with what. */
export interface RuntimeOptions {
  prepared: Prepared
  registry: Registry
  /** Close the registry when the runtime stops. */
  ownsRegistry?: boolean
  /** Default MICRO_NAMESPACE, then `micro`. */
  namespace?: string
  /** The logger before the logging feature (if enabled) replaces it. */
  logger: Logger
  /** Listen on this port instead of the configured ones (tests: 0). */
  portOverride?: number
  /** Fake clients by name (tests). */
  fakes?: Readonly<Record<string, object>>
  /** Run the definition's onStart/onStop. Default true. */
  lifecycle?: boolean
  /** Kinds not to start (the test harness runs scripts on demand). */
  skipKinds?: readonly string[]
  /** The variables the service reads (MICRO_*, its env). Default process.env. */
  envSource?: NodeJS.ProcessEnv
  /** Blocks to use instead of the MICRO_* ones (tests: memory); the runtime does not close them. */
  blocks?: GivenBlocks
}

/** How a runtime ended by itself: a script's exit code, or a kind's failure. */
export interface Exit {
  code: number
  reason?: unknown
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped'

/**
 * One service process: features, lifecycle hooks and kinds, started in order and stopped
 * in reverse. start: features init, onStart, kinds start (types order), features start.
 * stop: features stop (reverse), kinds stop (reverse), onStop.
 */
export class ServiceRuntime {
  readonly info: ServiceInfo
  readonly extensions = new Extensions()
  /** The APIs of the enabled features. */
  readonly features: Record<string, unknown> = {}
  /** Resolves when the service ended by itself (script finished, a kind failed) and has stopped. */
  readonly exited: Promise<Exit>
  readonly #options: RuntimeOptions
  readonly #controller = new AbortController()
  readonly #features: { name: string; instance: FeatureInstance }[] = []
  readonly #kinds: { name: string; running: RunningKind }[] = []
  #baseLogger: Logger
  #stack: Service | undefined
  #clients: Record<string, unknown> = {}
  #onStartRan = false
  #registryClosed = false
  #state: State = 'new'
  #stopping: Promise<void> | undefined
  #starting: Promise<void> | undefined
  #exit!: (exit: Exit) => void

  constructor(options: RuntimeOptions) {
    const { config } = options.prepared
    this.#options = options
    this.info = {
      name: config.name,
      version: config.version,
      product: config.product,
      kinds: config.types.map((t) => t.kind),
      namespace: options.namespace ?? ((options.envSource ?? process.env).MICRO_NAMESPACE || 'micro'),
    }
    this.#baseLogger = options.logger
    this.exited = new Promise((resolve) => {
      this.#exit = resolve
    })
  }

  /** The process-level logger (`kind` lists every kind). */
  get logger(): Logger {
    return this.#baseLogger.child({ kind: this.info.kinds.join(',') })
  }

  /** The process's service stack (createService's): server, client, blocks, registration. Made at start. */
  get stack(): Service {
    if (!this.#stack) throw new Error('the service has not started')
    return this.#stack
  }

  /** The shared client (after start). */
  get client(): Client {
    return this.stack.client
  }

  get clients(): Readonly<Record<string, unknown>> {
    return this.#clients
  }

  get env(): Readonly<Record<string, unknown>> {
    return this.#options.prepared.env
  }

  /** A started kind, by name. */
  kind(name: string): RunningKind | undefined {
    return this.#kinds.find((k) => k.name === name)?.running
  }

  /** The deps a factory of `kind` gets (its logger carries the kind). */
  deps(kind?: string): DepsObject {
    return new DepsObject(
      this.#options.prepared.env,
      this.#clients,
      kind ? this.#baseLogger.child({ kind }) : this.logger,
      this.features as Features,
      this.#options.prepared.config.settings,
      this.info,
      this.#controller.signal,
      () => this.stack,
    )
  }

  /** Start everything in order. On a failure, what already started is stopped and the error says which step failed. */
  start(): Promise<void> {
    if (this.#state !== 'new')
      return Promise.reject(new Error(`the service cannot start: it is ${this.#state}`))
    this.#state = 'starting'
    this.#starting = this.#start()
    return this.#starting
  }

  async #start(): Promise<void> {
    const { prepared } = this.#options
    let step = 'start'
    try {
      for (const { name, feature, config } of prepared.features) {
        step = `feature ${name} failed to initialise`
        const instance = await feature.init({
          service: this.info,
          config,
          logger: this.#baseLogger.child({ feature: name }),
          env: prepared.env,
          variables: this.#options.envSource ?? process.env,
          extensions: this.extensions,
          useLogger: (logger) => {
            this.#baseLogger = logger
          },
        })
        this.#features.push({ name, instance })
        if (instance.api !== undefined) this.features[name] = instance.api
      }
      step = 'the service could not be created'
      this.#createStack()
      step = 'the config could not be loaded'
      await this.stack.loadConfig()
      if (this.#options.lifecycle !== false && prepared.definition.spec.onStart) {
        step = 'onStart failed'
        this.#onStartRan = true
        await prepared.definition.spec.onStart(this.deps() as Deps)
      }
      for (const kind of prepared.kinds) {
        if (this.#options.skipKinds?.includes(kind.entry.kind)) continue
        step = `kind ${kind.entry.kind} failed to start`
        await this.#startKind(kind)
      }
      for (const { name, instance } of this.#features) {
        step = `feature ${name} failed to start`
        await instance.start?.()
      }
      // No rpc kind started it (http or worker alone): register what there is to advertise.
      step = 'the service failed to start'
      if (this.stack.state === 'new') await this.stack.start()
      this.stack.setNodeMetadata({ metrics: this.#metricsAddress() })
    } catch (error) {
      const reason = MicroError.from(error, this.info.name)
      this.logger.error(`${this.info.name} ${step}: ${reason.detail}; stopping`, { error })
      await this.#teardown()
      throw new MicroError(this.info.name, `${step}: ${reason.detail}`, reason.code, { cause: error })
    }
    this.#state = 'running'
    this.extensions.health.ready = true
    for (const warning of prepared.warnings) this.logger.warn(warning)
    this.logger.info(`${this.info.name} ${this.info.version} is running`, {
      kinds: this.#kinds.map((k) => ({ kind: k.name, ...k.running.info() })),
    })
  }

  /** Stop everything in reverse order; calling it again returns the same promise. */
  stop(): Promise<void> {
    if (this.#state === 'new') this.#state = 'stopped'
    // A stop asked for while starting waits for the start to finish (or fail and clean up).
    this.#stopping ??= (this.#starting ?? Promise.resolve()).catch(() => {}).then(() => this.#teardown())
    return this.#stopping
  }

  /** A kind's port: the test override, the one in types, else the kind's default. */
  #portOf({ entry, kind }: PreparedKind): number | undefined {
    if (!kind.port) return undefined
    return (
      this.#options.portOverride ?? entry.port ?? kind.port.default?.(this.#options.envSource ?? process.env)
    )
  }

  async #startKind(prepared: PreparedKind): Promise<void> {
    const { entry, kind, settings, factory } = prepared
    const running = await kind.start({
      service: this.info,
      settings,
      port: this.#portOf(prepared),
      factory: factory as (deps: RunDeps) => unknown,
      deps: this.deps(entry.kind),
      extensions: this.extensions,
      registry: this.#options.registry,
      client: this.client,
      stack: this.stack,
    })
    this.#kinds.push({ name: entry.kind, running })
    this.logger.info(`${entry.kind} is running`, running.info())
    running.done?.then(
      (code) => this.#ended(entry.kind, code ?? 0, undefined),
      (error: unknown) => this.#ended(entry.kind, 1, error),
    )
  }

  /**
   * The one service stack of the process, what `createService` makes: the kinds ask for
   * what they need of it (the rpc kind: listen, where), the features' middleware, routes
   * and health state are its extensions, its blocks are the deps', its store defaults to
   * the service's own table.
   */
  #createStack(): void {
    const { prepared } = this.#options
    const kindOptions: KindServiceOptions = {}
    for (const kind of prepared.kinds) {
      Object.assign(kindOptions, kind.kind.serviceOptions?.(kind.settings, this.#portOf(kind)))
    }
    const metadata: Record<string, string> = { kinds: this.info.kinds.join(',') }
    if (this.info.product) metadata.product = this.info.product
    const given = this.#options.blocks ?? {}
    this.#stack = createService({
      ...kindOptions,
      listen: kindOptions.listen ?? false,
      name: this.info.name,
      version: this.info.version,
      metadata,
      namespace: this.info.namespace,
      registry: this.#options.registry,
      logger: this.logger,
      handleSignals: false,
      wrappers: this.extensions.serverWrappers,
      clientWrappers: this.extensions.clientWrappers,
      extensions: this.extensions,
      env: this.#options.envSource ?? process.env,
      storeTable: this.info.name,
      ...(prepared.config.resilience ? { resilience: prepared.config.resilience } : {}),
      ...given,
    })
    const specs = (prepared.definition.spec.clients ?? {}) as ClientSpecs
    this.#clients = buildClients(this.#stack.client, specs, prepared.config.clients, this.#options.fakes)
  }

  /** Where the metrics feature serves, for the node metadata: its own listener, or the http kind's route. */
  #metricsAddress(): string | undefined {
    const api = this.features.metrics as { address?: string } | undefined
    if (!api) return undefined
    if (api.address) return api.address
    const http = this.kind('http')?.info().address
    const path = (
      this.#options.prepared.features.find((f) => f.name === 'metrics')?.config as { path?: string }
    )?.path
    return typeof http === 'string' ? `${http}${path ?? '/metrics'}` : undefined
  }

  /** A kind ended by itself: a script's result or a failure ends the whole service. */
  async #ended(kind: string, code: number, reason: unknown): Promise<void> {
    await this.#starting?.catch(() => {})
    if (this.#state === 'stopping' || this.#state === 'stopped') return
    if (reason !== undefined) {
      const e = MicroError.from(reason, this.info.name)
      this.logger.error(`${kind} failed: ${e.detail}; stopping`, { error: reason })
    } else {
      this.logger.info(`${kind} finished with exit code ${code}`)
    }
    await this.stop().catch(() => {})
    this.#exit(reason === undefined ? { code } : { code, reason })
  }

  async #teardown(): Promise<void> {
    const wasRunning = this.#state === 'running'
    this.#state = 'stopping'
    this.extensions.health.ready = false
    this.#controller.abort()
    if (wasRunning) this.logger.info(`stopping ${this.info.name}`)
    const failures: unknown[] = []
    const attempt = async (what: string, fn: () => unknown) => {
      try {
        await fn()
      } catch (error) {
        failures.push(error)
        this.logger.error(`${what} failed`, { error })
      }
    }
    // Lists are emptied as they are stopped, so a second teardown (stop after a failed start) does nothing.
    for (const { name, instance } of this.#features.splice(0).reverse()) {
      await attempt(`stopping feature ${name}`, () => instance.stop?.())
    }
    for (const { name, running } of this.#kinds.splice(0).reverse()) {
      await attempt(`stopping ${name}`, () => running.stop())
      this.logger.info(`${name} stopped`)
    }
    if (this.#onStartRan && this.#options.prepared.definition.spec.onStop) {
      this.#onStartRan = false
      await attempt('onStop', () => this.#options.prepared.definition.spec.onStop?.(this.deps() as Deps))
    }
    const stack = this.#stack
    this.#stack = undefined
    if (stack) await attempt('closing the blocks and the clients', () => stack.stop())
    if (this.#options.ownsRegistry && !this.#registryClosed) {
      this.#registryClosed = true
      await attempt('closing the registry', () => this.#options.registry.close())
    }
    this.#state = 'stopped'
    if (wasRunning) this.logger.info(`${this.info.name} stopped`)
    if (failures.length > 0) throw failures[0]
  }
}
