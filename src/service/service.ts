import type { Broker } from '../broker/broker.js'
import type { MessageHandler, SubscriberOptions } from '../broker/subscriber.js'
import { Client } from '../client/client.js'
import { localServices } from '../client/local.js'
import type { Config } from '../config/config.js'
import type { Events } from '../events/events.js'
import { createLogger, type Logger } from '../logger/logger.js'
import { RegistryCache } from '../registry/cache.js'
import { createRegistry } from '../registry/from-env.js'
import type { NodeRecord, Registry, ServiceRecord } from '../registry/registry.js'
import { createSelector } from '../selector/from-name.js'
import type { HandleOptions } from '../server/handlers.js'
import { Server } from '../server/server.js'
import type { InferOutput, StandardSchema } from '../server/standard-schema.js'
import type { HandlerWrapper } from '../server/wrappers.js'
import type { Store } from '../store/store.js'
import type { Sync } from '../sync/sync.js'
import { createTransport } from '../transport/from-env.js'
import { isListenSubject, natsNodeSubject } from '../transport/nats/subject.js'
import type { Listener, Transport } from '../transport/transport.js'
import { uuid } from '../util/ids.js'
import { ServiceBlocks } from './blocks.js'
import { type Hook, Hooks } from './lifecycle.js'
import type { ServiceOptions } from './options.js'
import { resolveSettings, type Settings } from './settings.js'
import { onShutdownSignal } from './signals.js'
import { Subscriptions } from './subscriptions.js'

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped'

/**
 * A service: a server with handlers, a client, a registration kept alive in the registry,
 * and a graceful shutdown. Create one with `createService`.
 */
export class Service implements AsyncDisposable {
  readonly name: string
  readonly version: string
  /** This instance's node id, `<name>-<uuid>`. */
  readonly id: string
  readonly namespace: string
  readonly server: Server
  readonly client: Client
  readonly registry: Registry
  readonly logger: Logger
  /** Resolves once the service has stopped. */
  readonly stopped: Promise<void>
  readonly #settings: Settings
  readonly #transport: Transport
  readonly #hooks = new Hooks()
  readonly #ownsRegistry: boolean
  readonly #blocks: ServiceBlocks
  readonly #subscriptions = new Subscriptions()
  readonly #codecs: ServiceOptions['codecs']
  #listener: Listener | undefined
  #record: ServiceRecord | undefined
  #renewal: NodeJS.Timeout | undefined
  #removeSignals: (() => void) | undefined
  #state: State = 'new'
  #stopping: Promise<void> | undefined
  #markStopped!: () => void

  constructor(options: ServiceOptions) {
    this.#settings = resolveSettings(options)
    const s = this.#settings
    this.name = options.name
    this.version = s.version
    this.namespace = s.namespace
    this.id = `${options.name}-${uuid()}`
    this.logger = options.logger ?? createLogger({ fields: { service: options.name, version: s.version } })
    this.#ownsRegistry = options.registry === undefined
    this.registry = options.registry ?? createRegistry(s.registryName, s.registryAddress)
    this.#transport =
      options.transport ??
      createTransport(s.transportName, s.transportAddress, { maxFrameSize: s.maxFrameSize })
    this.#codecs = s.codecs
    const lookup = new RegistryCache(this.registry)
    this.server = new Server({
      name: options.name,
      codecs: s.codecs,
      wrappers: options.wrappers,
      logger: this.logger,
    })
    this.#blocks = new ServiceBlocks(
      {
        name: options.name,
        namespace: s.namespace,
        registry: this.registry,
        lookup,
        transport: this.#transport,
        logger: this.logger,
        env: process.env,
      },
      {
        broker: options.broker,
        events: options.events,
        store: options.store,
        sync: options.sync,
        config: options.config,
      },
    )
    this.client = new Client({
      lookup,
      transport: this.#transport,
      broker: () => this.#blocks.broker,
      selector: options.selector ?? createSelector(s.selectorName),
      codecs: s.codecs,
      namespace: s.namespace,
      requestTimeout: s.requestTimeout,
      retry: options.retry,
      wrappers: options.clientWrappers,
      local: localServices,
      caller: options.name,
    })
    this.stopped = new Promise((resolve) => {
      this.#markStopped = resolve
    })
  }

  /** The address the service serves on, once started. */
  get address(): string | undefined {
    return this.#record?.nodes[0]?.address
  }

  /** The broker `subscribe` and `client.publish` use (MICRO_BROKER; the default needs no server). */
  get broker(): Broker {
    return this.#blocks.broker
  }

  /** Durable event streams (MICRO_EVENTS; the file-backed default needs no server). */
  get events(): Events {
    return this.#blocks.events
  }

  /** Key/value records with TTLs (MICRO_STORE; the file-backed default needs no server). */
  get store(): Store {
    return this.#blocks.store
  }

  /** Distributed locks and leader election (MICRO_SYNC; in-process by default). */
  get sync(): Sync {
    return this.#blocks.sync
  }

  /**
   * The service's config: the file named by MICRO_CONFIG_FILE, then environment variables
   * under the service's prefix (`shop-api` → `SHOP_API_DB_URL` → `db.url`), then flags.
   * Loaded by `start()`; call `loadConfig()` to use it before.
   */
  get config(): Config {
    return this.#blocks.config
  }

  /** Load the config now (start() does it too); resolves with it. */
  loadConfig(): Promise<Config> {
    return this.#blocks.loadConfig()
  }

  /**
   * Handle messages published on `topic` while the service runs. Members of one `queue`
   * share the messages; without a queue every instance gets each one. Payloads are decoded
   * by content type (and validated by `schema`); a message that cannot be used goes to the
   * dead-letter topic (`<topic>.dead`) with the reason. A handler that throws is logged and
   * the subscription goes on.
   */
  subscribe<S extends StandardSchema>(
    topic: string,
    handler: MessageHandler<InferOutput<S>>,
    options: ServiceSubscribeOptions<S> & { schema: S },
  ): this
  subscribe<T = unknown>(topic: string, handler: MessageHandler<T>, options?: ServiceSubscribeOptions): this
  subscribe(
    topic: string,
    handler: MessageHandler<unknown>,
    options: ServiceSubscribeOptions<StandardSchema | undefined> = {},
  ): this {
    this.#subscriptions.add(topic, handler, options).catch((error: unknown) => {
      this.logger.error(`subscribing to ${topic} failed`, { error })
    })
    return this
  }

  /** Register a handler: every method becomes an endpoint `Name.Method`. */
  handle(target: object, options?: HandleOptions): this {
    this.server.handle(target, options)
    return this
  }

  /** Add server wrappers (middleware). */
  wrap(...wrappers: HandlerWrapper[]): this {
    this.server.wrap(...wrappers)
    return this
  }

  beforeStart(hook: Hook): this {
    this.#hooks.beforeStart.push(hook)
    return this
  }

  afterStart(hook: Hook): this {
    this.#hooks.afterStart.push(hook)
    return this
  }

  beforeStop(hook: Hook): this {
    this.#hooks.beforeStop.push(hook)
    return this
  }

  afterStop(hook: Hook): this {
    this.#hooks.afterStop.push(hook)
    return this
  }

  /**
   * Start serving and, unless `handleSignals` is off, stop gracefully on SIGINT/SIGTERM
   * (a second signal exits at once). Resolves once the service is serving; await
   * `service.stopped` to wait for the end.
   */
  async run(): Promise<void> {
    await this.start()
    if (this.#settings.handleSignals && !this.#removeSignals) {
      this.#removeSignals = onShutdownSignal(
        async (signal) => {
          this.logger.info(`received ${signal}, shutting down`)
          await this.stop()
        },
        (message) => this.logger.warn(message),
      )
    }
  }

  /** Listen, register, and keep the registration renewed. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`service ${this.name} cannot start: it is ${this.#state}`)
    this.#state = 'starting'
    try {
      await this.#blocks.loadConfig()
      await Hooks.run(this.#hooks.beforeStart)
      this.#listener = await this.#transport.listen(this.#listenAddress(), this.server, {
        maxFrameSize: this.#settings.maxFrameSize,
        limits: this.#settings.limits,
      })
      await this.#subscriptions.start(() => this.#blocks.broker, {
        service: this.name,
        codecs: this.#codecs,
        logger: this.logger,
      })
      const advertise = this.#transport.name === 'micro' ? this.#settings.advertise : undefined
      this.#record = this.#serviceRecord(advertise ?? this.#listener.address)
      await this.registry.register(this.#record, {
        ttl: this.#settings.registerTtl,
        namespace: this.namespace,
      })
      this.#renewal = setInterval(() => this.#renew(), this.#settings.registerInterval)
      this.#renewal.unref()
      localServices.add(this.namespace, this.version, this.server)
      this.#state = 'running'
      this.logger.info(`serving ${this.name} on ${this.address}`, { id: this.id, namespace: this.namespace })
      await Hooks.run(this.#hooks.afterStart)
    } catch (error) {
      this.logger.error(`${this.name} failed to start`, { error })
      await this.#teardown()
      throw error
    }
  }

  /**
   * Graceful stop: deregister, refuse new calls, wait for calls in flight (up to
   * shutdownTimeout), then close. Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop()
    return this.#stopping
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop()
  }

  async #stop(): Promise<void> {
    if (this.#state === 'new') {
      this.#state = 'stopped'
      await this.#closeClients()
      this.#markStopped()
      return
    }
    this.#state = 'stopping'
    let failure: unknown
    try {
      await Hooks.run(this.#hooks.beforeStop)
    } catch (error) {
      failure = error
      this.logger.error('a beforeStop hook failed', { error })
    }
    await this.#teardown()
    try {
      await Hooks.run(this.#hooks.afterStop)
    } catch (error) {
      failure ??= error
      this.logger.error('an afterStop hook failed', { error })
    }
    this.#removeSignals?.()
    this.#markStopped()
    if (failure) throw failure
  }

  async #teardown(): Promise<void> {
    if (this.#renewal) clearInterval(this.#renewal)
    this.#renewal = undefined
    localServices.remove(this.namespace, this.server)
    this.server.startDraining()
    if (this.#record) {
      await this.registry.deregister(this.#record, { namespace: this.namespace }).catch((error: unknown) => {
        this.logger.warn('deregistration failed', { error })
      })
    }
    await this.#subscriptions.stop()
    await this.#blocks.releaseLocks()
    if (this.#listener) {
      const timeout = this.#settings.shutdownTimeout
      const drained = await settlesWithin(
        Promise.all([this.#listener.drain(), this.server.waitIdle(timeout)]),
        timeout,
      )
      if (!drained) {
        this.logger.warn(
          `${this.server.activeCalls} calls still in flight after ${timeout} ms; closing anyway`,
        )
      }
      await this.#listener.close()
      this.#listener = undefined
    } else {
      await this.server.waitIdle(this.#settings.shutdownTimeout)
    }
    await this.#closeClients()
    this.#state = 'stopped'
  }

  async #closeClients(): Promise<void> {
    await this.#blocks.close()
    await this.client.close()
    if (this.#ownsRegistry) await this.registry.close()
  }

  /** Where to listen: the configured address, or this node's own subject on NATS. */
  #listenAddress(): string {
    const configured = this.#settings.address
    if (this.#transport.name !== 'nats' || isListenSubject(configured)) return configured
    return natsNodeSubject(this.namespace, this.name, this.id)
  }

  #renew(): void {
    if (!this.#record || this.#state !== 'running') return
    this.registry
      .register(this.#record, { ttl: this.#settings.registerTtl, namespace: this.namespace })
      .catch((error) => {
        this.logger.warn('registration renewal failed; will retry', { error })
      })
  }

  #serviceRecord(address: string): ServiceRecord {
    const node: NodeRecord = {
      id: this.id,
      address,
      metadata: {
        protocol: 'micro',
        transport: this.#transport.name,
        registry: this.registry.name,
        server: 'micro',
      },
    }
    return {
      name: this.name,
      version: this.version,
      metadata: { ...this.#settings.metadata },
      endpoints: [...this.server.endpoints(), ...this.#subscriptions.endpoints()],
      nodes: [node],
    }
  }
}

/**
 * Create a service. Handlers are added with `handle`, then `run()` serves it:
 *
 * ```ts
 * const service = createService({ name: 'greeter', version: '1.0.0' })
 * service.handle(new Greeter())
 * await service.run()
 * ```
 */
export function createService(options: ServiceOptions): Service {
  return new Service(options)
}

/** Whether `promise` settles within `ms`. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    promise.then(
      () => {
        clearTimeout(timer)
        resolve(true)
      },
      () => {
        clearTimeout(timer)
        resolve(false)
      },
    )
  })
}

/** Options of `service.subscribe`. */
export type ServiceSubscribeOptions<S extends StandardSchema | undefined = undefined> = Omit<
  SubscriberOptions<S>,
  'codecs' | 'service' | 'logger'
>
