// Shapes the dashboard API sends and the UI reads. Types only, and no Node imports: the
// browser bundle imports this file too.

/** An attribute value as OpenTelemetry has them. */
export type AttributeValue = string | number | boolean | string[] | number[] | boolean[]

/** One finished span. Times are ms since the epoch (fractions allowed). */
export interface SpanRecord {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: 'server' | 'client' | 'internal' | 'producer' | 'consumer'
  /** The service that recorded the span. */
  service: string
  start: number
  duration: number
  status: 'ok' | 'error'
  statusMessage?: string
  attributes: Record<string, AttributeValue>
  events: { name: string; time: number; attributes?: Record<string, AttributeValue> }[]
  /** Links to other spans (a consume linked to its publish). */
  links?: { traceId: string; spanId: string }[]
}

/** A trace as the list shows it. */
export interface TraceSummary {
  traceId: string
  /** The root span's name (e.g. `Greeter.Hello`), or the earliest span's. */
  name: string
  service: string
  start: number
  duration: number
  spans: number
  errors: number
  services: string[]
}

/** Filters of the trace list. */
export interface TraceFilter {
  service?: string
  /** Matches any span's name (an endpoint, `METHOD /path`, a topic). */
  endpoint?: string
  status?: 'ok' | 'error'
  /** ms */
  minDuration?: number
  maxDuration?: number
  /** Only traces started at or after this time (ms since the epoch). */
  since?: number
  limit: number
}

/** Rate, errors and p99 of one service, per time slice (oldest first). */
export interface ServiceRed {
  service: string
  /** Start of the first slice (ms since the epoch) and the width of each. */
  start: number
  step: number
  requests: number[]
  errors: number[]
  /** ms; 0 when the slice had no requests. */
  p99: number[]
}

/** Calls from one service to another. */
export interface TopologyEdge {
  from: string
  to: string
  /** What flows: `rpc`, or `event` for publish -> consume. */
  via: 'rpc' | 'event'
  requests: number
  errors: number
  /** requests per second over the window */
  rate: number
  p99: number
}

/** A failed call, for the home page. */
export interface ErrorSample {
  traceId: string
  spanId: string
  service: string
  name: string
  time: number
  message: string
  code?: number
}

/** A service the runtime runs. */
export interface RuntimeService {
  name: string
  namespace: string
  version?: string
  status: 'starting' | 'running' | 'stopped' | 'crashed' | 'restarting'
  pid?: number
  /** When the current process started (ms since the epoch). */
  startedAt?: number
  restarts: number
  lastExitCode?: number | null
  /** Restarting again and again: the runtime backs off. */
  crashLoop: boolean
  /** Where the source lives (a folder). */
  source?: string
}

/** One line of a service's output. */
export interface LogLine {
  service: string
  /** ms since the epoch */
  time: number
  stream?: 'stdout' | 'stderr'
  text: string
  /** Set by the API from JSON log lines (pino levels) when the source does not. */
  level?: string
  traceId?: string
}

export interface Account {
  id: string
  type: string
  scopes: string[]
  metadata?: Record<string, string>
  created?: number
}

export interface TokenInfo {
  id: string
  account: string
  scopes: string[]
  created: number
  expires?: number
  description?: string
}

export interface Rule {
  id: string
  scope: string
  resource: { type: string; name: string; endpoint: string }
  access: 'granted' | 'denied'
  priority: number
}

export interface PolicyAnswer {
  allowed: boolean
  rule?: Rule
  reason: string
}

/** Who is looking, as the authorizer says. */
export interface Identity {
  id: string
  /** May reveal secrets and change auth. */
  admin: boolean
  scopes?: string[]
}

/** `GET /dashboard/api/info`: what the UI may show. */
export interface DashboardInfo {
  version: string
  namespace: string
  readOnly: boolean
  auth: { enabled: boolean; identity?: Identity }
  features: {
    registry: boolean
    calls: boolean
    traces: boolean
    runtime: boolean
    events: boolean
    inspector: boolean
    store: boolean
    config: boolean
    auth: boolean
  }
}

/** A service as the home page lists it. */
export interface ServiceSummary {
  name: string
  versions: string[]
  nodes: number
  endpoints: number
  subscribers: number
  /** `up` when it has nodes; `crashed`/`stopped` from the runtime; `down` otherwise. */
  health: 'up' | 'down' | 'starting' | 'crash-loop'
}

/** One entry of the catalog's search index. */
export interface EndpointEntry {
  service: string
  version: string
  name: string
  stream: boolean
  description?: string
  scopes?: string[]
}

/** A topic with its consumer groups, for the events page. */
export interface TopicView {
  topic: string
  events: number
  lastSequence: number
  lastTime?: number
  dead: boolean
}

export interface GroupView {
  group: string
  position: number
  pending: number
  lag: number
  retrying: number
  private: boolean
}

/** An event as the events page shows it. */
export interface EventView {
  id: string
  topic: string
  sequence: number
  timestamp: number
  metadata: Record<string, string>
  contentType: string
  payload: unknown
  decodeError?: string
}

/** A store record as the store page shows it. */
export interface RecordView {
  key: string
  value: unknown
  metadata: Record<string, unknown>
  /** ms left */
  expiry?: number
  /** The value was bytes: shown as base64. */
  bytes?: boolean
}
