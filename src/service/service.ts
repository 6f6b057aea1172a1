import type { ServiceTls } from '../auth/tls/service-tls.js'
import type { Broker } from '../broker/broker.js'
import type { MessageHandler, SubscriberOptions } from '../broker/subscriber.js'
import type { Client } from '../client/client.js'
import { localServices } from '../client/local.js'
import type { Config } from '../config/config.js'
import type { Features } from '../definition/deps.js'
import { platformTls } from '../engines/platform.js'
import type { Events } from '../events/events.js'
import { withPlatformTracing } from '../features/tracing/target.js'
import type { Logger } from '../logger/logger.js'
import type { Registry, ServiceRecord } from '../registry/registry.js'
import type { HandleOptions } from '../server/handlers.js'
import type { Server } from '../server/server.js'
import type { InferOutput, StandardSchema } from '../server/standard-schema.js'
import type { HandlerWrapper } from '../server/wrappers.js'
import type { Store } from '../store/store.js'
import type { Sync } from '../sync/sync.js'
import { isListenSubject, natsNodeSubject } from '../transport/nats/subject.js'
import type { Listener, Transport } from '../transport/transport.js'
import { uuid } from '../util/ids.js'
import type { ServiceBlocks } from './blocks.js'
import { Extensions } from './extensions.js'
import type { ServiceFeatureSet } from './features.js'
import { Hooks, WithHooks } from './lifecycle.js'
import type { ServiceFeatures, ServiceOptions } from './options.js'
import { type AuthSlots, serviceParts, type TlsSlots } from './parts.js'
import { closePort } from './port.js'
import { probeRoutes } from './probes.js'
import { Advertised, type HttpAdvert, serviceRecord } from './record.js'
import { Registration } from './registration.js'
import type { Settings } from './settings.js'
import { onShutdownSignal } from './signals.js'
import { Subscriptions } from './subscriptions.js'

/** Where a service is in its life: `new` until start, `stopped` at the end. */
export type ServiceState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped'

/**
 * A service: a server with handlers, a client, the building blocks (broker, events, store,
 * sync, config), a registration kept true in the registry, and a graceful shutdown.
 * Create one with `createService`; `micro run` builds the same stack for a service.toml.
 */
export class Service extends WithHooks implements AsyncDisposable {
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
  /** The APIs of the features this service runs (`options.features`), by name, once started. */
  readonly features: Features = {}
  readonly #settings: Settings
  readonly #transport: Transport
  readonly #ownsRegistry: boolean
  readonly #blocks: ServiceBlocks
  readonly #subscriptions = new Subscriptions()
  readonly #codecs: ServiceOptions['codecs']
  readonly #extensions: Extensions
  /** Whether this service runs its features and says when it is ready (not a runtime around it). */
  readonly #ownsExtensions: boolean
  readonly #featureOptions: ServiceFeatures | undefined
  /** The variables MICRO_* settings come from (features read their own, OTEL_*, there too). */
  readonly #variables: NodeJS.ProcessEnv
  readonly #listen: boolean
  readonly #registration: Registration
  readonly #auth: AuthSlots | undefined
  readonly #tlsSlots: TlsSlots | undefined
  /** The service's TLS once started (src/auth/tls, loaded only when TLS is on). */
  #tls: ServiceTls | undefined
  readonly #advertised = new Advertised()
  #featureSet: ServiceFeatureSet | undefined
  #listener: Listener | undefined
  /** The RPC address advertised, once listening. */
  #address: string | undefined
  #removeSignals: (() => void) | undefined
  #state: ServiceState = 'new'
  #stopping: Promise<void> | undefined
  #draining: Promise<void> | undefined
  #markStopped!: () => void

  constructor(options: ServiceOptions) {
    super()
    this.#variables = options.env ?? process.env
    this.#extensions = options.extensions ?? new Extensions()
    this.#ownsExtensions = options.extensions === undefined
    // Under a platform (MICRO_PLATFORM) or with an OTLP endpoint, tracing is on by default.
    if (this.#ownsExtensions)
      options = { ...options, features: withPlatformTracing(options.features, this.#variables) }
    this.#featureOptions = this.#ownsExtensions ? options.features : undefined
    this.#listen = options.listen ?? true
    const parts = serviceParts(options, this.#extensions)
    const s = parts.settings
    this.#settings = s
    this.name = options.name
    this.version = s.version
    this.namespace = s.namespace
    this.id = `${options.name}-${uuid()}`
    this.logger = parts.logger
    this.registry = parts.registry
    this.#ownsRegistry = parts.ownsRegistry
    this.#transport = parts.transport
    this.#codecs = s.codecs
    this.server = parts.server
    this.client = parts.client
    this.#blocks = parts.blocks
    this.#auth = parts.auth
    this.#tlsSlots = parts.tls
    this.#registration = new Registration({
      registry: this.registry,
      namespace: s.namespace,
      ttl: s.registerTtl,
      interval: s.registerInterval,
      logger: this.logger,
      build: () => this.#serviceRecord(),
    })
    this.stopped = new Promise((resolve) => {
      this.#markStopped = resolve
    })
  }

  /** The address the service serves RPC on, once started. */
  get address(): string | undefined {
    return this.#address
  }

  get state(): ServiceState {
    return this.#state
  }

  /**
   * The broker `subscribe` and `client.publish` use (MICRO_BROKER; the default needs no
   * server), wrapped by the features (tracing carries the trace context through it).
   */
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

  /** Distributed locks and leader election (MICRO_SYNC; by default every process on this machine). */
  get sync(): Sync {
    return this.#blocks.sync
  }

  /**
   * The service's config: the file named by MICRO_CONFIG_FILE, then the namespace's store
   * document (`micro config set`, seen within a second), then environment variables under
   * the service's prefix (`shop-api` → `SHOP_API__DB_URL` → `db.url`), then flags.
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
   * the subscription goes on. Before start it resolves at once (start subscribes, and fails
   * if the broker refuses); while running it resolves once subscribed and advertised, and
   * rejects when the broker refuses (nothing is then left subscribed or advertised).
   */
  subscribe<S extends StandardSchema>(
    topic: string,
    handler: MessageHandler<InferOutput<S>>,
    options: ServiceSubscribeOptions<S> & { schema: S },
  ): Promise<void>
  subscribe<T = unknown>(
    topic: string,
    handler: MessageHandler<T>,
    options?: ServiceSubscribeOptions,
  ): Promise<void>
  async subscribe(
    topic: string,
    handler: MessageHandler<unknown>,
    options: ServiceSubscribeOptions<StandardSchema | undefined> = {},
  ): Promise<void> {
    try {
      if (await this.#subscriptions.add(topic, handler, options)) await this.#registration.refresh()
    } catch (error) {
      this.logger.error(`subscribing to ${topic} failed`, { error })
      throw error
    }
  }

  /** Register a handler: every method becomes an endpoint `Name.Method` (advertised at once when running). */
  handle(target: object, options?: HandleOptions): this {
    this.server.handle(target, options)
    this.#registration.refresh()
    return this
  }

  /** Add server wrappers (middleware). */
  wrap(...wrappers: HandlerWrapper[]): this {
    this.server.wrap(...wrappers)
    return this
  }

  /**
   * Advertise an HTTP server this process runs (the http kind): its address, base path and
   * routes go into the registration; `undefined` withdraws it.
   */
  advertiseHttp(http: HttpAdvert | undefined): void {
    this.#advertised.http = http
    this.#registration.refresh()
  }

  /** Set (or, with undefined, remove) metadata of this node, e.g. `metrics`; registered again at once. */
  setNodeMetadata(entries: Record<string, string | undefined>): void {
    this.#advertised.setNodeMetadata(entries)
    this.#registration.refresh()
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

  /** Load the config, start the features, listen, subscribe, register and keep the registration renewed. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`service ${this.name} cannot start: it is ${this.#state}`)
    this.#state = 'starting'
    try {
      await this.#initTrust()
      await this.#blocks.loadConfig()
      await this.#initAuth()
      await this.#initTls()
      await this.#initFeatures()
      await Hooks.run(this.hooks.beforeStart)
      if (this.#listen) {
        for (const { target, options } of this.#extensions.rpcHandlers) this.server.handle(target, options)
        if (this.#transport.name === 'grpc') await this.#addGrpcServices()
        const serverTls = this.#tls?.server()
        this.#listener = await this.#transport.listen(this.#listenAddress(), this.server, {
          maxFrameSize: this.#settings.maxFrameSize,
          limits: this.#settings.limits,
          routes: probeRoutes(this.#extensions),
          ...(serverTls ? { tls: serverTls } : {}),
        })
        if (serverTls) this.#advertised.setNodeMetadata({ tls: 'on' })
        const advertise = this.#transport.name !== 'nats' ? this.#settings.advertise : undefined
        this.#address = advertise ?? this.#listener.address
      }
      await this.#subscriptions.start(() => this.broker, {
        service: this.name,
        codecs: this.#codecs,
        logger: this.logger,
      })
      await this.#featureSet?.start()
      const metrics = (this.features.metrics as { address?: string } | undefined)?.address
      if (metrics) this.#advertised.setNodeMetadata({ metrics })
      await this.#registration.start()
      if (this.#listener) localServices.add(this.namespace, this.version, this.server)
      this.#state = 'running'
      if (this.#ownsExtensions) this.#extensions.health.ready = true
      if (this.#listener) {
        this.logger.info(`serving ${this.name} on ${this.address}`, {
          id: this.id,
          namespace: this.namespace,
        })
      }
      await Hooks.run(this.hooks.afterStart)
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

  /** Stop the service (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop()
  }

  /**
   * The first half of a stop, without hooks: not ready, deregister, unsubscribe, release
   * locks, refuse new calls and wait for those in flight (up to shutdownTimeout), close the
   * listener. The blocks and the client stay open until `stop()` (the service.toml runtime
   * runs `onStop` in between). Calling it again returns the same promise.
   */
  drain(): Promise<void> {
    this.#draining ??= this.#drain()
    return this.#draining
  }

  async #stop(): Promise<void> {
    if (this.#state === 'new' || this.#state === 'stopped') {
      // Never started, or a failed start already cleaned up: nothing runs, no hooks.
      if (this.#state === 'new') await this.#closeClients()
      this.#state = 'stopped'
      this.#markStopped()
      return
    }
    this.#state = 'stopping'
    let failure: unknown
    try {
      await Hooks.run(this.hooks.beforeStop)
    } catch (error) {
      failure = error
      this.logger.error('a beforeStop hook failed', { error })
    }
    await this.#teardown()
    try {
      await Hooks.run(this.hooks.afterStop)
    } catch (error) {
      failure ??= error
      this.logger.error('an afterStop hook failed', { error })
    }
    this.#removeSignals?.()
    this.#markStopped()
    if (failure) throw failure
  }

  async #teardown(): Promise<void> {
    await this.drain()
    await this.#closeClients()
    this.#state = 'stopped'
  }

  async #drain(): Promise<void> {
    if (this.#ownsExtensions) this.#extensions.health.ready = false
    localServices.remove(this.namespace, this.server)
    this.server.startDraining()
    await this.#registration.stop()
    await this.#subscriptions.stop()
    await this.#blocks.releaseLocks()
    if (this.#listener) {
      await closePort(this.#listener, this.server, this.#settings.shutdownTimeout, this.logger)
      this.#listener = undefined
    } else {
      await this.server.waitIdle(this.#settings.shutdownTimeout)
    }
    await this.#featureSet?.stop(this.logger)
  }

  async #closeClients(): Promise<void> {
    this.#tls?.stop()
    if (this.#tls && platformTls.current === this.#tls.client) platformTls.current = undefined
    await this.#blocks.close()
    await this.client.close()
    if (this.#ownsRegistry) await this.registry.close()
  }

  /** Run `options.features` (loaded only when asked for, so a service without them imports none). */
  async #initFeatures(): Promise<void> {
    if (this.#featureOptions === undefined || this.#featureSet) return
    const { ServiceFeatureSet } = await import('./features.js')
    this.#featureSet = new ServiceFeatureSet(this.#featureOptions)
    const info = { name: this.name, version: this.version, namespace: this.namespace }
    await this.#featureSet.init(info, this.#extensions, this.logger, this.#variables)
    Object.assign(this.features, this.#featureSet.apis)
  }

  /**
   * TLS, first step: the CA to trust, so that every call this service makes (to the
   * platform too, for its config and its certificate) goes over TLS from the start; and
   * callers known by their client certificate when auth checks callers.
   */
  async #initTrust(): Promise<void> {
    const slots = this.#tlsSlots
    if (slots === undefined || this.#tls) return
    const { ServiceTls } = await import('../auth/tls/service-tls.js')
    const settings = slots.settings
    let serving = settings.serve && this.#listen
    if (serving && this.#transport.secure === undefined) {
      this.logger.warn(
        `TLS on the service port needs the micro or grpc transport; ${this.#transport.name} serves without it (NATS: use the NATS server's TLS)`,
      )
      serving = false
    }
    this.#tls = await ServiceTls.trust(settings, serving)
    slots.client.current = this.#tls.client
    platformTls.current ??= this.#tls.client
    if (serving && this.#auth?.settings.enforce) {
      const { certificateAuthenticator } = await import('../auth/tls/authenticator.js')
      this.#auth.settings.authenticators.push(certificateAuthenticator())
    }
  }

  /** TLS, second step (after auth logged in): this service's certificate, kept renewed. */
  async #initTls(): Promise<void> {
    await this.#tls?.start({
      name: this.name,
      namespace: this.namespace,
      client: this.client,
      platform: this.#auth?.settings.platform ?? (this.#variables.MICRO_PLATFORM || undefined),
      hosts: certificateHosts(this.#settings.address, this.#settings.advertise),
      logger: this.logger,
    })
  }

  /** Build auth's wrappers (loaded only when auth is on): before listening, so no call goes unchecked. */
  async #initAuth(): Promise<void> {
    const auth = this.#auth
    if (auth === undefined || auth.client.length > 0) return
    const { createServiceAuth } = await import('../auth/service-auth.js')
    const built = await createServiceAuth(auth.settings, {
      name: this.name,
      namespace: this.namespace,
      client: this.client,
      logger: this.logger,
    })
    if (built.server) auth.server.push(built.server)
    auth.client.push(built.client)
  }

  /**
   * A gRPC port also serves grpc.health.v1 and server reflection. They need
   * @bufbuild/protobuf; without it the port serves the service's endpoints alone.
   */
  async #addGrpcServices(): Promise<void> {
    if (this.server.streaming('ServerReflection.ServerReflectionInfo') !== undefined) return
    let standard: typeof import('../transport/grpc/standard-services.js')
    try {
      standard = await import('../transport/grpc/standard-services.js')
    } catch (error) {
      this.logger.warn(
        'gRPC health and reflection need @bufbuild/protobuf (npm install @bufbuild/protobuf)',
        {
          error,
        },
      )
      return
    }
    const health = this.#extensions.health
    const serving = async () => (await health.report()).status === 'ok'
    for (const [target, options] of standard.grpcStandardServices(this.server, serving)) {
      this.server.handle(target, options)
    }
  }

  /** Where to listen: the configured address, or this node's own subject on NATS. */
  #listenAddress(): string {
    const configured = this.#settings.address
    if (this.#transport.name !== 'nats' || isListenSubject(configured)) return configured
    return natsNodeSubject(this.namespace, this.name, this.id)
  }

  /** The record as it is now (endpoints and subscriptions included); undefined before there is anything to advertise. */
  #serviceRecord(): ServiceRecord | undefined {
    if (this.#listen && !this.#listener) return undefined
    return serviceRecord({
      id: this.id,
      name: this.name,
      version: this.version,
      metadata: this.#settings.metadata,
      rpcAddress: this.#listener ? this.#address : undefined,
      transport: this.#transport.name,
      registry: this.registry.name,
      endpoints: [...this.server.endpoints(), ...this.#subscriptions.endpoints()],
      http: this.#advertised.http,
      nodeMetadata: this.#advertised.nodeMetadata,
    })
  }
}

/** The hosts a service certificate names: where the service is reached, and loopback. */
function certificateHosts(address: string, advertise: string | undefined): string[] {
  const hosts = new Set(['localhost', '127.0.0.1', '::1'])
  for (const candidate of [address, advertise]) {
    if (candidate === undefined) continue
    const host = candidate.slice(0, candidate.lastIndexOf(':')).replace(/^\[|\]$/g, '')
    if (host !== '' && host !== '0.0.0.0' && host !== '::') hosts.add(host)
  }
  return [...hosts]
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

/** Options of `service.subscribe`. */
export type ServiceSubscribeOptions<S extends StandardSchema | undefined = undefined> = Omit<
  SubscriberOptions<S>,
  'codecs' | 'service' | 'logger'
>
