import { setTimeout as sleep } from 'node:timers/promises'
import { Config } from '../config/config.js'
import { MicroError } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import { isLoopback } from '../platform/gateway/exposure.js'
import { type HttpListener, listenHttp } from '../platform/http/listen.js'
import { createService, type Service } from '../service/service.js'
import type { Store } from '../store/store.js'
import { type SidecarHealth, sidecarApi } from './api.js'
import { AppClient } from './app-client.js'
import { AppHealth } from './app-health.js'
import { Deliveries } from './deliveries.js'
import { type AppEndpoint, type AppSubscription, parseEndpoints, parseSubscriptions } from './discovery.js'
import { inboundHandlers } from './inbound.js'
import { resolveSidecarSettings, type SidecarOptions, type SidecarSettings } from './options.js'
import { StateStore } from './state.js'

/** Where a sidecar is in its life. */
export type SidecarPhase = 'new' | 'waiting' | 'registering' | 'ready' | 'failed' | 'stopping' | 'stopped'

const ID = 'micro.sidecar'
/** How long the app has to answer a declaration request (`/micro/endpoints`, `/micro/subscribe`). */
const DECLARATION_TIMEOUT_MS = 5000
/** Pause before asking again when the app's declarations were refused. */
const DECLARATION_RETRY_MS = 2000

/**
 * A sidecar: registers an app written in any language as a micro service and gives it the
 * building blocks over local HTTP (see README.md). `start()` opens the HTTP API at once,
 * then waits for the app's health check, reads what the app declares, registers the
 * service and starts its subscriptions. The service's blocks follow the MICRO_* variables.
 */
export class Sidecar {
  readonly settings: SidecarSettings
  /** The service the app is registered as; its endpoints forward to the app. */
  readonly service: Service
  readonly app: AppClient
  readonly appHealth: AppHealth
  /** Resolves once the service is registered and delivering; rejects when it cannot be. */
  readonly ready: Promise<void>
  readonly #logger: Logger
  readonly #deliveries: Deliveries
  readonly #state: StateStore
  readonly #stopping = new AbortController()
  readonly #env: NodeJS.ProcessEnv
  readonly #givenStore: Store | undefined
  #http: HttpListener | undefined
  #phase: SidecarPhase = 'new'
  #problem: string | undefined
  #outbound = false
  #endpoints: readonly AppEndpoint[] = []
  #subscriptions: readonly AppSubscription[] = []
  #config: Promise<{ config: Config; close: () => Promise<void> }> | undefined
  #stopped: Promise<void> | undefined
  #markReady!: () => void
  #markFailed!: (error: unknown) => void

  constructor(options: SidecarOptions) {
    const s = resolveSidecarSettings(options)
    this.settings = s
    this.#env = options.service?.env ?? process.env
    this.#givenStore = options.service?.store
    this.service = createService({
      ...options.service,
      name: s.name,
      version: s.version,
      // The sidecar loads its config only when the app asks for it (GET /v1/config), so
      // an app that never does costs no store connection.
      config: new Config({ sources: [], watch: false }),
      handleSignals: false,
    })
    this.#logger = this.service.logger.child({ component: 'sidecar' })
    this.app = new AppClient(s.appHost, s.appPort, s.name, s.maxBody)
    this.appHealth = new AppHealth(
      this.app,
      s.appHealthPath,
      // Between 1 and 2 s: a check must not fail just because the machine is busy.
      Math.min(Math.max(s.healthInterval, 1000), 2000),
      s.appToken ? { 'micro-api-token': s.appToken } : undefined,
    )
    this.#deliveries = new Deliveries({
      service: s.name,
      broker: () => this.service.broker,
      app: this.app,
      logger: this.#logger,
      metadata: s.metadata,
      appToken: s.appToken,
      concurrency: s.deliveryConcurrency,
      timeout: s.deliveryTimeout,
    })
    this.#state = new StateStore(
      () => this.service.store,
      () => this.service.sync,
      s.name,
    )
    this.ready = new Promise<void>((resolve, reject) => {
      this.#markReady = resolve
      this.#markFailed = reject
    })
    // Nobody may be waiting on it; the failure is logged and shown by /v1/healthz.
    this.ready.catch(() => {})
  }

  /** Where the HTTP API listens (`host:port`), once started. */
  get address(): string | undefined {
    return this.#http?.address
  }

  get phase(): SidecarPhase {
    return this.#phase
  }

  /** Open the HTTP API and start waiting for the app in the background; resolves with the API's address. */
  async start(): Promise<string> {
    if (this.#phase !== 'new') throw new Error(`the sidecar cannot start: it is ${this.#phase}`)
    const s = this.settings
    this.#http = await listenHttp(
      s.address,
      sidecarApi({
        service: this.service,
        maxBody: s.maxBody,
        metadata: s.metadata,
        loopback: isLoopback(s.address),
        apiToken: s.apiToken,
        state: this.#state,
        config: () => this.#loadConfig().then((c) => c.config),
        health: () => this.health(),
        describe: () => this.describe(),
      }),
    )
    this.#phase = 'waiting'
    void this.#connectOutbound()
    void this.#run()
    return this.#http.address
  }

  /** What `/v1/healthz` reports. */
  health(): SidecarHealth {
    const ready = this.#phase === 'ready' && this.appHealth.up
    let problem = this.#problem
    if (problem === undefined && this.#phase === 'ready' && !this.appHealth.up) {
      problem = `the app stopped answering its health check: ${this.appHealth.reason}`
    }
    if (problem === undefined && this.#phase === 'waiting')
      problem = `waiting for the app: ${this.appHealth.reason}`
    return { outbound: this.#outbound, ready, problem }
  }

  /** What `/v1/metadata` reports. */
  describe(): Record<string, unknown> {
    return {
      name: this.service.name,
      version: this.service.version,
      id: this.service.id,
      namespace: this.service.namespace,
      phase: this.#phase,
      address: this.service.address,
      api: this.address,
      app: { address: this.app.address, healthPath: this.settings.appHealthPath, up: this.appHealth.up },
      endpoints: this.#endpoints.map((e) => ({ name: e.name, path: e.path })),
      subscriptions: this.#subscriptions.map((s) => ({
        topic: s.topic,
        route: s.route,
        queue: s.queue,
        inFlight: this.#deliveries.inFlight(s),
      })),
      deliveries: { ...this.#deliveries.counts, inFlight: this.#deliveries.inFlight() },
    }
  }

  /**
   * Stop: subscriptions first (deliveries at the app get a moment to finish), then the
   * service (deregistered, calls in flight drained), then the HTTP API. Calling it again
   * returns the same promise.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop()
    return this.#stopped
  }

  async #stop(): Promise<void> {
    this.#phase = 'stopping'
    this.#stopping.abort()
    this.appHealth.stop()
    await this.#deliveries.stop()
    await this.service
      .stop()
      .catch((error: unknown) => this.#logger.error('stopping the service failed', { error }))
    await this.#http?.close()
    const loaded = await this.#config?.catch(() => undefined)
    await loaded?.close()
    this.app.close()
    this.#phase = 'stopped'
  }

  /** Outbound calls need the broker connected (the other blocks connect on first use). */
  async #connectOutbound(): Promise<void> {
    for (let attempt = 0; !this.#stopping.signal.aborted; attempt++) {
      try {
        await this.service.broker.connect()
        this.#outbound = true
        return
      } catch (error) {
        if (attempt === 0) this.#logger.warn('the broker is not reachable yet; retrying', { error })
        await sleep(Math.min(100 * 2 ** attempt, 5000), undefined, { signal: this.#stopping.signal }).catch(
          () => {},
        )
      }
    }
  }

  async #run(): Promise<void> {
    const signal = this.#stopping.signal
    try {
      const s = this.settings
      this.#logger.info(`waiting for the app at http://${this.app.address}${s.appHealthPath}`)
      for (;;) {
        await this.appHealth.waitUntilUp(signal)
        try {
          this.#endpoints = s.endpoints ?? (await this.#declared('/micro/endpoints', parseEndpoints))
          this.#subscriptions = await this.#declared('/micro/subscribe', parseSubscriptions)
          break
        } catch (error) {
          if (signal.aborted) throw error
          const problem = `the app's declarations were refused: ${MicroError.from(error).detail}`
          if (problem !== this.#problem) this.#logger.error(problem)
          this.#problem = problem
          await sleep(DECLARATION_RETRY_MS, undefined, { signal })
        }
      }
      this.#phase = 'registering'
      this.#problem = undefined
      for (const { target, options } of inboundHandlers(this.#endpoints, {
        service: s.name,
        app: this.app,
        appTimeout: s.appTimeout,
        metadata: s.metadata,
        appToken: s.appToken,
      })) {
        this.service.handle(target, options)
      }
      await this.service.start()
      await this.#deliveries.start(this.#subscriptions)
      if (signal.aborted) return
      this.#phase = 'ready'
      this.#logger.info(
        `${s.name} is registered: ${this.#endpoints.length} endpoint(s), ${this.#subscriptions.length} subscription(s)`,
      )
      this.appHealth.watch(s.healthInterval, (up) => {
        if (up) this.#logger.info('the app answers its health check again')
        else this.#logger.warn(`the app stopped answering its health check: ${this.appHealth.reason}`)
      })
      this.#markReady()
    } catch (error) {
      if (signal.aborted) {
        this.#markFailed(new MicroError(ID, 'the sidecar stopped before the app was ready', 503))
        return
      }
      this.#phase = 'failed'
      this.#problem = `the sidecar could not register the service: ${MicroError.from(error).detail}`
      this.#logger.error(this.#problem, { error })
      this.#markFailed(error)
    }
  }

  /** GET a declaration from the app: a 404 means none; anything but JSON is refused. */
  async #declared<T>(path: string, parse: (body: unknown) => T[]): Promise<T[]> {
    const response = await this.app.send({
      method: 'GET',
      path,
      timeout: DECLARATION_TIMEOUT_MS,
      signal: this.#stopping.signal,
      ...(this.settings.appToken ? { headers: { 'micro-api-token': this.settings.appToken } } : {}),
    })
    if (response.status === 404) return []
    if (response.status < 200 || response.status > 299)
      throw new TypeError(`GET ${path} answered HTTP ${response.status}`)
    let body: unknown
    try {
      body = JSON.parse(response.body.toString('utf8'))
    } catch {
      throw new TypeError(`GET ${path} did not answer JSON`)
    }
    return parse(body)
  }

  /** The service's config, loaded on first use (a file, the namespace's store document, env). */
  #loadConfig(): Promise<{ config: Config; close: () => Promise<void> }> {
    this.#config ??= (async () => {
      const [{ loadServiceConfig }, { storeKV }, { storeFromEnv }] = await Promise.all([
        import('../config/service-config.js'),
        import('../config/store-kv.js'),
        import('../store/from-env.js'),
      ])
      const given = this.#givenStore
      const store = given ?? storeFromEnv(this.#env)
      const closeStore = async () => {
        if (given === undefined) await store.close()
      }
      try {
        const config = await loadServiceConfig({
          name: this.service.name,
          env: this.#env,
          argv: [],
          store: storeKV(store),
          namespace: this.service.namespace,
          logger: this.#logger,
        })
        const close = async () => {
          await config.close()
          await closeStore()
        }
        return { config, close }
      } catch (error) {
        await closeStore()
        throw error
      }
    })()
    // A failed load (a broken config file) is reported and tried again on the next request.
    this.#config.catch(() => {
      this.#config = undefined
    })
    return this.#config
  }
}

/** Create a sidecar; `await sidecar.start()` opens its API and starts waiting for the app. */
export function createSidecar(options: SidecarOptions): Sidecar {
  return new Sidecar(options)
}
