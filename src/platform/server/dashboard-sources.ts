import type { Client } from '../../client/client.js'
import { secretKeyFromEnv } from '../../config/cipher.js'
import { storeKV } from '../../config/store-kv.js'
import { configSourceFromKV } from '../../dashboard/config-source.js'
import type { DashboardSources } from '../../dashboard/sources.js'
import { forbidden } from '../../errors/errors.js'
import type { Events } from '../../events/events.js'
import { inspectorOf } from '../../events/inspector.js'
import type { Registry } from '../../registry/registry.js'
import type { QueryOptions, ScopeOptions, Store } from '../../store/store.js'
import type { ProcessRuntime } from '../runtime/types.js'
import type { TraceStore } from '../traces/trace-store.js'
import type { DashboardAuthority } from './dashboard-auth.js'
import { tracedCalls } from './dashboard-calls.js'
import { runtimeSource } from './dashboard-runtime.js'
import { traceSource } from './dashboard-traces.js'

/** What the server's dashboard shows: the server's own blocks, runtime, traces and auth. */
export interface ServerDashboardParts {
  registry: Registry
  client: Client
  store?: Store
  events?: Events
  traces?: TraceStore
  runtime?: ProcessRuntime
  auth?: DashboardAuthority
  /** The auth records share `store`: keep database `auth` of namespace `micro` out of the store pages. */
  guardAuthDatabase?: boolean
  /** The server's variables (MICRO_CONFIG_SECRET_KEY, to open config secrets for admins). */
  env: NodeJS.ProcessEnv
}

/** The dashboard's sources over the server's parts. */
export function serverDashboardSources(parts: ServerDashboardParts): DashboardSources {
  const client = {
    call: (service: string, endpoint: string, request: unknown, options: Parameters<Client['call']>[3]) =>
      parts.client.call(service, endpoint, request, options),
    stream: (service: string, endpoint: string, options: Parameters<Client['stream']>[2]) =>
      parts.client.stream(service, endpoint, options),
  }
  const guarded = parts.auth ? parts.auth.guardCalls(client) : client
  const sources: DashboardSources = {
    registry: { listServices: (namespace) => parts.registry.listServices({ namespace }) },
    // The explorer's calls as client spans of micro.dashboard, beside the services' own spans.
    client: parts.traces ? tracedCalls(guarded, parts.traces) : guarded,
  }
  if (parts.events) sources.events = { events: parts.events, inspector: inspectorOf(parts.events) }
  if (parts.store) {
    sources.store = parts.guardAuthDatabase ? guardedStore(parts.store) : parts.store
    sources.config = configSourceFromKV(storeKV(parts.store), {
      secretKey: () => secretKeyFromEnv(parts.env),
    })
  }
  if (parts.traces) sources.traces = traceSource(parts.traces)
  if (parts.runtime) sources.runtime = runtimeSource(parts.runtime)
  if (parts.auth) sources.auth = parts.auth
  return sources
}

/** A store that refuses database `auth` of namespace `micro` (the platform's accounts and keys). */
export function guardedStore(store: Store): Store {
  const refuse = (scope: ScopeOptions | QueryOptions | undefined) => {
    if ((scope?.namespace ?? 'micro') === 'micro' && scope?.database === 'auth')
      throw forbidden(
        'micro.platform',
        'database auth of namespace micro holds the platform accounts and keys and is not served',
      )
  }
  return {
    name: store.name,
    read: ((keyOrQuery: string | QueryOptions, options?: ScopeOptions) => {
      refuse(typeof keyOrQuery === 'string' ? options : keyOrQuery)
      return typeof keyOrQuery === 'string' ? store.read(keyOrQuery, options) : store.read(keyOrQuery)
    }) as Store['read'],
    async write(key, value, options) {
      refuse(options)
      return store.write(key, value, options)
    },
    async delete(key, options) {
      refuse(options)
      return store.delete(key, options)
    },
    async list(query) {
      refuse(query)
      return store.list(query)
    },
    async databases(options) {
      const all = await store.databases(options)
      return (options?.namespace ?? 'micro') === 'micro' ? all.filter((d) => d !== 'auth') : all
    },
    async tables(options) {
      refuse(options)
      return store.tables(options)
    },
    close: () => store.close(),
  }
}
