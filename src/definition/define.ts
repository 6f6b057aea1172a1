import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { HandleOptions } from '../server/handlers.js'
import type { StandardSchema } from '../server/standard-schema.js'
import type { ClientSpecs, InferClients } from './clients.js'
import type { Deps, RunDeps } from './deps.js'
import type { EnvSpec, InferEnv } from './env-spec.js'
import type { NodeHandler } from './extensions.js'

type MaybePromise<T> = T | Promise<T>

const DEFINITION = Symbol.for('micro-ts.service-definition')
const RPC_HANDLER = Symbol.for('micro-ts.rpc-handler')

/** A plain-object handler with its name and options; see `rpcHandler()`. */
export interface RpcRegistration {
  readonly [RPC_HANDLER]: true
  readonly target: object
  readonly options: HandleOptions
}

/** What an rpc factory returns: a handler (a class instance or an `rpcHandler()`), or several. */
export type RpcHandlers = object | readonly object[]

/** A fetch-style handler, such as Hono's `app.fetch`. */
export type FetchHandler = (request: Request) => Response | Promise<Response>

/** An HTTP route an app lists, advertised in the registry as endpoint `METHOD /path`. */
export interface HttpRouteInfo {
  method: string
  path: string
}

/**
 * What an http factory returns: a fetch-style handler, a node `(req, res)` handler (a
 * function of two or more parameters, e.g. an Express app), or either made explicit as
 * `{ fetch }` (a Hono app qualifies) or `{ node }`. The object forms may list their
 * `routes` (a Hono app does), which the service then advertises.
 */
export type HttpHandler =
  | FetchHandler
  | NodeHandler
  | { fetch: FetchHandler; routes?: readonly HttpRouteInfo[] }
  | { node: NodeHandler; routes?: readonly HttpRouteInfo[] }

/** A long-running worker: `start` may run until its signal aborts; `stop` is called on shutdown. */
export interface Worker {
  /** Start working; may run until `signal` aborts (the service stops). */
  start(signal: AbortSignal): unknown
  /** Stop working (called on shutdown, before the signal's work is awaited). */
  stop?(): unknown
}

/** What a worker factory returns: a Worker, or just its `start` function. */
export type WorkerHandler = Worker | ((signal: AbortSignal) => unknown)

/**
 * A service definition: the code side of a `service.toml`. Each kind listed in `types`
 * needs its factory here; all kinds of one process share env, clients, logger and features.
 */
export interface ServiceSpec<E = undefined, C = {}> {
  /** Declared variables (`{ NAME: 'int' }`, `{ NAME: { type: 'int', default: 5 } }`) or a Standard Schema. */
  env?: E
  /** Services this one calls: `{ users: clientSpec<Users>() }`. */
  clients?: C
  /** The rpc kind: the handler(s) the micro server serves. */
  rpc?: (deps: Deps<InferEnv<E>, InferClients<C>>) => MaybePromise<RpcHandlers>
  /**
   * The grpc kind: protobuf services (`grpcHandler(Greeter, impl)` from `micro-ts/grpc`),
   * and any plain handler, served over gRPC.
   */
  grpc?: (deps: Deps<InferEnv<E>, InferClients<C>>) => MaybePromise<RpcHandlers>
  /** The http kind: the handler of its own HTTP server. */
  http?: (deps: Deps<InferEnv<E>, InferClients<C>>) => MaybePromise<HttpHandler>
  /** The worker kind: long-running code with a start and a stop. */
  worker?: (deps: RunDeps<InferEnv<E>, InferClients<C>>) => MaybePromise<WorkerHandler>
  /** The script kind: runs once; the number it returns is the exit code (none: 0). */
  // biome-ignore lint/suspicious/noConfusingVoidType: a script that returns nothing is a plain `void` function
  script?: (deps: RunDeps<InferEnv<E>, InferClients<C>>) => MaybePromise<number | undefined | void>
  /** Factories of custom kinds (see registerKind), by kind name. */
  kinds?: Record<string, (deps: RunDeps<InferEnv<E>, InferClients<C>>) => unknown>
  /** Runs before the kinds start (open connections...). */
  onStart?: (deps: Deps<InferEnv<E>, InferClients<C>>) => MaybePromise<void>
  /** Runs after the kinds stopped. */
  onStop?: (deps: Deps<InferEnv<E>, InferClients<C>>) => MaybePromise<void>
}

/** A defined service, ready for `micro run`, `testService` or `runIfMain`. */
export interface ServiceDefinition<E = any, C = any> {
  readonly [DEFINITION]: true
  readonly spec: ServiceSpec<E, C>
  /** The file that called defineService, where its service.toml is looked for. */
  readonly file: string | undefined
  /**
   * Run the service when this module is the program's entry point (`node service.js`);
   * does nothing when it is imported (`micro run`, tests). Pass `import.meta`.
   */
  runIfMain(meta: { url: string }): this
}

/**
 * Define a service. Export it as the module's default:
 *
 * ```ts
 * export default defineService({
 *   env: { DATABASE_URL: 'url', MAX_ITEMS: { type: 'int', default: 50 } },
 *   clients: { users: clientSpec<Users>() },
 *   rpc: ({ env, clients, logger }) => new Orders(env, clients.users),
 *   http: () => app.fetch,
 * })
 * ```
 */
export function defineService<
  const E extends EnvSpec | StandardSchema | undefined = undefined,
  const C extends ClientSpecs = {},
>(spec: ServiceSpec<E, C>): ServiceDefinition<E, C> {
  if (typeof spec !== 'object' || spec === null) throw new TypeError('defineService needs an object')
  const definition: ServiceDefinition<E, C> = {
    [DEFINITION]: true,
    spec,
    file: callerFile(),
    runIfMain(meta) {
      if (isMain(meta.url)) {
        import('./run.js').then((m) => m.runAsMain(definition, fileURLToPath(meta.url)))
      }
      return definition
    },
  }
  return definition
}

/** Whether `value` was made by defineService (from any copy of the package). */
export function isServiceDefinition(value: unknown): value is ServiceDefinition {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DEFINITION] === true
  )
}

/** Serve a plain object (which has no class name) as handler `name`: `rpcHandler({ Get() {} }, { name: 'Users' })`. */
export function rpcHandler(target: object, options: HandleOptions & { name: string }): RpcRegistration {
  return { [RPC_HANDLER]: true, target, options }
}

/** Whether `value` was made by rpcHandler(). */
export function isRpcRegistration(value: unknown): value is RpcRegistration {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[RPC_HANDLER] === true
  )
}

/** Whether the module at `url` is the script node was started with. */
export function isMain(url: string): boolean {
  const entry = process.argv[1]
  if (!entry || !url.startsWith('file:')) return false
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(url))
  } catch {
    return false
  }
}

const OWN_FILE = fileURLToPath(import.meta.url)

/** The file of the first stack frame outside this module: the module that called defineService. */
function callerFile(): string | undefined {
  const lines = new Error().stack?.split('\n').slice(1) ?? []
  for (const line of lines) {
    const match = /((?:file:\/\/)?\/[^():]+):\d+:\d+\)?\s*$/.exec(line)
    if (!match) continue
    const location = match[1] as string
    const file = location.startsWith('file:') ? fileURLToPath(location) : location
    if (file !== OWN_FILE) return file
  }
  return undefined
}
