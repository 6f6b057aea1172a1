import type { Client } from '../client/client.js'
import { MicroError } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import type { Registry } from '../registry/registry.js'
import { createService, type Service } from '../service/service.js'
import { type BlockFactories, Blocks } from './blocks.js'
import { buildClients, type ClientSpecs } from './clients.js'
import type { Deps, Features, RunDeps, ServiceInfo } from './deps.js'
import { DepsObject } from './deps-object.js'
import { Extensions } from './extensions.js'
import type { FeatureInstance } from './feature.js'
import type { RunningKind } from './kind.js'
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
  envSource?: NodeJS.ProcessEnv
  /** How to make the broker, events and store (on first use). */
  blocks?: BlockFactories
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
  readonly #blocks: Blocks
  readonly #features: { name: string; instance: FeatureInstance }[] = []
  readonly #kinds: { name: string; running: RunningKind }[] = []
  #baseLogger: Logger
  #clientHolder: Service | undefined
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
      namespace: options.namespace ?? (process.env.MICRO_NAMESPACE || 'micro'),
    }
    this.#baseLogger = options.logger
    this.#blocks = new Blocks(options.blocks ?? {}, this.extensions.brokerWrappers)
    this.exited = new Promise((resolve) => {
      this.#exit = resolve
    })
  }

  /** The process-level logger (`kind` lists every kind). */
  get logger(): Logger {
    return this.#baseLogger.child({ kind: this.info.kinds.join(',') })
  }

  /** The shared client (after start). */
  get client(): Client {
    if (!this.#clientHolder) throw new Error('the service has not started')
    return this.#clientHolder.client
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
      this.#blocks,
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
          extensions: this.extensions,
          useLogger: (logger) => {
            this.#baseLogger = logger
          },
        })
        this.#features.push({ name, instance })
        if (instance.api !== undefined) this.features[name] = instance.api
      }
      step = 'the clients could not be created'
      this.#createClients()
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

  async #startKind({ entry, kind, settings, factory }: PreparedKind): Promise<void> {
    const port =
      this.#options.portOverride ?? entry.port ?? kind.port?.default?.(this.#options.envSource ?? process.env)
    const running = await kind.start({
      service: this.info,
      settings,
      port: kind.port ? port : undefined,
      factory: factory as (deps: RunDeps) => unknown,
      deps: this.deps(entry.kind),
      extensions: this.extensions,
      registry: this.#options.registry,
      client: this.client,
    })
    this.#kinds.push({ name: entry.kind, running })
    this.logger.info(`${entry.kind} is running`, running.info())
    running.done?.then(
      (code) => this.#ended(entry.kind, code ?? 0, undefined),
      (error: unknown) => this.#ended(entry.kind, 1, error),
    )
  }

  #createClients(): void {
    const { prepared } = this.#options
    this.#clientHolder = createService({
      name: this.info.name,
      version: this.info.version,
      namespace: this.info.namespace,
      registry: this.#options.registry,
      logger: this.logger,
      handleSignals: false,
      clientWrappers: this.extensions.clientWrappers,
    })
    const specs = (prepared.definition.spec.clients ?? {}) as ClientSpecs
    this.#clients = buildClients(
      this.#clientHolder.client,
      specs,
      prepared.config.clients,
      this.#options.fakes,
    )
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
    await attempt('closing the broker, events and store', () => this.#blocks.close())
    const holder = this.#clientHolder
    this.#clientHolder = undefined
    if (holder) await attempt('closing the clients', () => holder.stop())
    if (this.#options.ownsRegistry && !this.#registryClosed) {
      this.#registryClosed = true
      await attempt('closing the registry', () => this.#options.registry.close())
    }
    this.#state = 'stopped'
    if (wasRunning) this.logger.info(`${this.info.name} stopped`)
    if (failures.length > 0) throw failures[0]
  }
}
