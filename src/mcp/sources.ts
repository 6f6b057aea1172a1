import type { CallOptions } from '../client/options.js'
import type { SpanRecord, TraceFilter, TraceSummary } from '../dashboard/api/types.js'
import type { Events } from '../events/events.js'
import type { EventsInspector } from '../events/inspector.js'
import type { LogRecord, LogsOptions } from '../platform/runtime/types.js'
import type { Registry, ServiceRecord } from '../registry/registry.js'
import type { Store } from '../store/store.js'

// What the MCP server reads and calls, as small interfaces: the server's own blocks, a CLI
// session (this machine or a platform), or test doubles made of real implementations. The
// dashboard's sources (src/dashboard/sources.ts) fit these where they overlap.

/** Where tools come from: the services of a namespace, and news of their changes. */
export interface ServiceSource {
  /** Every service version in `namespace`, with endpoints and nodes. */
  listServices(namespace: string): Promise<ServiceRecord[]>
  /**
   * Something each time a service of `namespace` registers, changes or goes, until `signal`
   * aborts. Optional: without it the list is read again every `pollInterval`.
   */
  watch?(namespace: string, signal: AbortSignal): AsyncIterable<unknown>
}

/** How tools call endpoints: a Client, or a CLI Session (direct or through a platform). */
export interface CallSource {
  /** Call an endpoint; resolves with the reply. */
  call(service: string, endpoint: string, request: unknown, options: CallOptions): Promise<unknown>
}

/** Recorded traces (the platform's trace store; the dashboard's TraceSource fits). */
export interface TraceReader {
  /** Trace summaries, newest first, matching the filter. */
  list(filter: TraceFilter): Promise<TraceSummary[]>
  /** Every span of a trace, or undefined when the trace is unknown. */
  get(traceId: string): Promise<SpanRecord[] | undefined>
}

/** Service output kept by a runtime (`LocalRuntime` fits; so does the platform's `Runtime.Logs`). */
export interface LogReader {
  /** A service's output lines, oldest first. */
  logs(service: { namespace?: string; name: string }, options?: LogsOptions): AsyncIterable<LogRecord>
}

/** Durable events and, when the engine has one, its inspector (topics, groups, dead letters). */
export interface EventsReader {
  events: Pick<Events, 'read'>
  inspector?: Pick<EventsInspector, 'listTopics' | 'listGroups'>
}

/** Publishing a JSON message on the broker (platform tool `micro_broker_publish`). */
export interface Publisher {
  /** Publish and resolve with the message id. */
  publish(topic: string, message: unknown, options: { namespace: string }): Promise<string>
}

/** The blocks the developer tools (`micro mcp serve --dev`) read; each one is optional. */
export interface DevSources {
  traces?: TraceReader
  logs?: LogReader
  store?: Pick<Store, 'read' | 'list'>
  events?: EventsReader
}

/** The blocks the admin-only platform tools use (off unless given). */
export interface PlatformSources {
  store?: Pick<Store, 'read' | 'list'>
  publisher?: Publisher
}

/** A Registry as a ServiceSource: its listing, and its watch. */
export function registrySource(registry: Registry): ServiceSource {
  return {
    listServices: (namespace) => registry.listServices({ namespace }),
    watch: (namespace, signal) => registry.watch({ namespace, signal }),
  }
}
