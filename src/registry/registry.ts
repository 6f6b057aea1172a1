/** The namespace (Go Micro's "domain") every call uses unless it names another. */
export const DEFAULT_NAMESPACE = 'micro'

/**
 * What a namespace may be called: 1-64 letters, digits, `_` and `-`. Namespaces become
 * registry domains, NATS subjects, store scopes, token issuers and certificate names, so
 * every block checks them by this one rule.
 */
export const NAMESPACE_NAME = /^[A-Za-z0-9_-]{1,64}$/
/** Pass as the namespace of `listServices` or `watch` to see every namespace. */
export const ANY_NAMESPACE = '*'

/** A JSON Schema document describing a request or response, when the handler declares one. */
export type JsonSchema = Record<string, unknown>

/** One endpoint a service serves, e.g. `Greeter.Hello`. */
export interface EndpointRecord {
  name: string
  /** `stream: 'true'` marks a streaming endpoint; other keys are free-form. */
  metadata: Record<string, string>
  request?: JsonSchema
  response?: JsonSchema
}

/** One running instance of a service. */
export interface NodeRecord {
  /** Unique per instance: `<service>-<uuid>`. */
  id: string
  /** `host:port` the node serves on. */
  address: string
  metadata: Record<string, string>
}

/** A service at one version, with the nodes that serve it. */
export interface ServiceRecord {
  name: string
  version: string
  metadata: Record<string, string>
  endpoints: EndpointRecord[]
  nodes: NodeRecord[]
}

/** The namespace (tenant) a registry call is about. */
export interface NamespaceOption {
  /** Defaults to `micro`. */
  namespace?: string
}

/** Options of `registry.register(service, options)`. */
export interface RegisterOptions extends NamespaceOption {
  /** How long the registration lives without being renewed, in ms. */
  ttl?: number
}

/** Options of `registry.watch(options)`. */
export interface WatchOptions extends NamespaceOption {
  /** Only events for this service. */
  service?: string
  /** Stops the watch. */
  signal?: AbortSignal
}

/** What happened to the nodes a {@link WatchEvent} carries. */
export type WatchAction = 'create' | 'update' | 'delete'

/** A change seen by a watcher: the service carries the nodes the change is about. */
export interface WatchEvent {
  action: WatchAction
  namespace: string
  service: ServiceRecord
}

/** A stream of registry changes; ends when stopped, aborted or the registry closes. */
export interface Watcher extends AsyncIterable<WatchEvent> {
  /** Stop watching: the iteration ends. */
  stop(): void
}

/**
 * Service discovery. Every call takes a namespace (default `micro`), so tenants never
 * see each other's services.
 */
export interface Registry {
  /** The implementation's name, e.g. `mdns`, `memory`, `nats`. */
  readonly name: string
  /** Add or renew the nodes of a service. Renewal extends their TTL. */
  register(service: ServiceRecord, options?: RegisterOptions): Promise<void>
  /** Remove the given nodes of a service (the whole version when it has no nodes left). */
  deregister(service: ServiceRecord, options?: NamespaceOption): Promise<void>
  /** Every version of a service with its live nodes; throws a 404 MicroError when there is none. */
  getService(name: string, options?: NamespaceOption): Promise<ServiceRecord[]>
  /** Every service version in the namespace (or in all of them with `*`), with nodes. */
  listServices(options?: NamespaceOption): Promise<ServiceRecord[]>
  /** Changes from now on. */
  watch(options?: WatchOptions): Watcher
  /** Release sockets and timers. */
  close(): Promise<void>
}
