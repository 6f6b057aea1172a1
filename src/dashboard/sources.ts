import type { CallOptions } from '../client/options.js'
import type { EventRecord, Events, PublishOptions } from '../events/events.js'
import type { EventsInspector } from '../events/inspector.js'
import type { ServiceRecord } from '../registry/registry.js'
import type { Store } from '../store/store.js'
import type {
  Account,
  ErrorSample,
  LogLine,
  PolicyAnswer,
  Rule,
  RuntimeService,
  ServiceRed,
  SpanRecord,
  TokenInfo,
  TopologyEdge,
  TraceFilter,
  TraceSummary,
} from './api/types.js'

/** Where the dashboard finds services: a registry (through its cache) or a platform's. */
export interface RegistrySource {
  /** Every service version in a namespace, with its nodes. */
  listServices(namespace: string): Promise<ServiceRecord[]>
}

/** A bidirectional stream to an endpoint (a ClientStream, or a platform's Proxy.Stream). */
export interface CallStream extends AsyncIterable<unknown> {
  send(message: unknown): Promise<void>
  /** Half-close: no more requests; replies keep coming. */
  closeSend(): Promise<void>
  cancel(detail?: string): void
}

/** How the API explorer calls endpoints: a Client, or a CLI Session (direct or through a platform). */
export interface CallSource {
  call(service: string, endpoint: string, request: unknown, options: CallOptions): Promise<unknown>
  stream(service: string, endpoint: string, options: CallOptions): CallStream
}

/**
 * Recorded spans (the platform's trace store). RED series, topology and the last errors
 * can be computed from spans with the helpers in `api/trace-math.ts`.
 */
export interface TraceSource {
  /** Trace summaries, newest first, matching the filter. */
  list(filter: TraceFilter): Promise<TraceSummary[]>
  /** Every span of a trace, or undefined when the trace is unknown. */
  get(traceId: string): Promise<SpanRecord[] | undefined>
  /** Hear about traces as their spans arrive (a summary per change); returns the unsubscribe. */
  subscribe(listener: (trace: TraceSummary) => void): () => void
  /** Rate, errors and p99 per service over the last `window` ms, in `buckets` slices. */
  red(options: { window: number; buckets: number }): Promise<ServiceRed[]>
  /** Caller -> callee edges seen in the last `window` ms. */
  topology(options: { window: number }): Promise<TopologyEdge[]>
  /** The last failed calls, newest first. */
  errors(limit: number): Promise<ErrorSample[]>
}

/** The process runtime (`micro run`, `micro server`): services it runs and their output. */
export interface RuntimeSource {
  list(namespace: string): Promise<RuntimeService[]>
  /**
   * Log lines of one service (or of all when `service` is undefined): the last `lines`
   * first, then, with `follow`, new lines as they come until `signal` aborts.
   */
  logs(options: {
    service?: string
    namespace: string
    lines: number
    follow: boolean
    signal: AbortSignal
  }): AsyncIterable<LogLine>
  restart(name: string, namespace: string): Promise<void>
  stop(name: string, namespace: string): Promise<void>
}

/** Durable events, and their inspection (topics, groups, dead letters) when the engine offers it. */
export interface EventsSource {
  events: Pick<Events, 'publish' | 'read'>
  inspector?: EventsInspector
}

/** The store-backed config documents of each namespace. */
export interface ConfigSource {
  /** The stored document; secrets are still sealed (`enc:v1:` strings). */
  read(namespace: string): Promise<Record<string, unknown>>
  /** Set a value; `secret` stores it encrypted. */
  set(namespace: string, path: string, value: unknown, secret: boolean): Promise<void>
  /** Remove a value; false when there was none. */
  delete(namespace: string, path: string): Promise<boolean>
  /** The plaintext of a sealed value (needs the secret key). */
  reveal(namespace: string, path: string): Promise<string>
}

/** Accounts, tokens and rules (src/auth), for the auth pages. */
export interface AuthSource {
  accounts(namespace: string): Promise<Account[]>
  tokens(namespace: string): Promise<TokenInfo[]>
  /** Issue a token: the text is shown once and never stored by the dashboard. */
  issueToken(
    namespace: string,
    request: { account: string; scopes: string[]; ttl?: number; description?: string },
  ): Promise<{ token: string; info: TokenInfo }>
  revokeToken(namespace: string, id: string): Promise<void>
  rules(namespace: string): Promise<Rule[]>
  /** May `account` call `service`/`endpoint`, and by which rule. */
  check(
    namespace: string,
    request: { account: string; service: string; endpoint: string },
  ): Promise<PolicyAnswer>
}

/** Everything the dashboard can show; a page appears only when its source is given. */
export interface DashboardSources {
  registry?: RegistrySource
  client?: CallSource
  traces?: TraceSource
  runtime?: RuntimeSource
  events?: EventsSource
  store?: Store
  config?: ConfigSource
  auth?: AuthSource
}

export type { EventRecord, PublishOptions }
