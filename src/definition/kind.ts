import type { Client } from '../client/client.js'
import type { Registry } from '../registry/registry.js'
import type { ServiceOptions } from '../service/options.js'
import type { Service } from '../service/service.js'
import type { RunDeps, ServiceInfo } from './deps.js'
import type { Extensions } from './extensions.js'
import type { TableReader } from './table.js'

/** What a kind needs to start. */
export interface KindContext<Settings = unknown> {
  readonly service: ServiceInfo
  /** The kind's `[runtime.<kind>]` settings, as its `configure` returned them. */
  readonly settings: Settings
  /** The port from `types` (`http:8080`) or the kind's default; undefined when neither gives one. */
  readonly port: number | undefined
  /** The definition's factory for this kind (e.g. `spec.rpc`). */
  readonly factory: (deps: RunDeps) => unknown
  /** Deps for the factory; `logger` carries `kind`, `signal` aborts when the service stops. */
  readonly deps: RunDeps
  /** Middleware, routes and handlers the features contributed. */
  readonly extensions: Extensions
  readonly registry: Registry
  /** The client every kind shares (clients in deps are proxies on it). */
  readonly client: Client
  /**
   * The process's service stack (what `createService` makes): server, client, blocks and
   * registration. The rpc kind serves its handlers on it; the http kind advertises its
   * server through it (`advertiseHttp`).
   */
  readonly stack: Service
}

/** What a kind asks of the process's service stack before anything starts. */
export type KindServiceOptions = Pick<
  ServiceOptions,
  'listen' | 'address' | 'advertise' | 'shutdownTimeout' | 'maxFrameSize' | 'transport'
>

/** A started kind. */
export interface RunningKind {
  /** Logged once started, e.g. `{ address }`. */
  info(): Record<string, unknown>
  /**
   * Settles when the kind ends by itself: with an exit code (a script's result), or with
   * a failure (a worker that threw). Kinds that run until stopped leave it undefined.
   */
  readonly done?: Promise<number | undefined>
  /** Stop gracefully (drain); called once. */
  stop(): Promise<void>
}

/**
 * A service kind: a way of running code (rpc, http, worker, script, or a custom one
 * registered with registerKind). The definition supplies a factory under the kind's name.
 */
export interface Kind<Settings = unknown> {
  readonly name: string
  /** Present when the kind listens on a port (`kind:port` in types); `default` gives the port otherwise. */
  readonly port?: {
    /** The port when `types` names none, from the environment (undefined: none). */
    default?: (env: NodeJS.ProcessEnv) => number | undefined
  }
  /** Read `[runtime.<name>]` (empty when absent); wrong values are reported through the reader. */
  configure(reader: TableReader): Settings
  /**
   * Options of the service stack this kind needs, read before the stack is made (the rpc
   * kind: listen, on its address). `port` is the kind's port from types or its default.
   */
  serviceOptions?(settings: Settings, port: number | undefined): KindServiceOptions
  /** Start the kind's part of the service (listen, run the worker, ...). */
  start(context: KindContext<Settings>): Promise<RunningKind>
}

/** `deps` with another signal, keeping its lazy broker, events and store. */
export function withSignal(deps: RunDeps, signal: AbortSignal): RunDeps {
  if (typeof (deps as { withSignal?: unknown }).withSignal === 'function') {
    return (deps as RunDeps & { withSignal(s: AbortSignal): RunDeps }).withSignal(signal)
  }
  return Object.create(deps, { signal: { value: signal, enumerable: true } }) as RunDeps
}
