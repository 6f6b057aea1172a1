/**
 * What the app declares about itself: its endpoints (`GET /micro/endpoints`, or the
 * `--endpoints` flag) and its subscriptions (`GET /micro/subscribe`, Dapr's
 * `/dapr/subscribe` adapted). Everything the app sends is checked here, so a malformed
 * declaration is one clear error naming the entry, never a half-registered service.
 */

/** One endpoint the app serves. */
export interface AppEndpoint {
  /** `Handler.Method`, as callers name it. */
  name: string
  /** Where the sidecar POSTs calls to it on the app. Default `/<name>`. */
  path: string
  /** JSON Schemas published in the registry (the app validates; the sidecar does not). */
  request?: Record<string, unknown>
  response?: Record<string, unknown>
  /** Running it twice is harmless: callers may retry it on another node. */
  idempotent: boolean
}

/** One subscription the app asks for. */
export interface AppSubscription {
  topic: string
  /** Where deliveries are POSTed on the app. */
  route: string
  /** Queue group: instances of the app share the messages. */
  queue?: string
  /** Redeliveries after RETRY before the message is dead-lettered. Default 3. */
  retryLimit?: number
  /** Dead-letter topic (default `<topic>.dead`); false drops what runs out of retries, with a log line. */
  deadLetter?: string | false
  /** Deliveries in flight at once. Default: the sidecar's `deliveryConcurrency`. */
  concurrency?: number
  /** Milliseconds one delivery may take before it counts as RETRY. Default: the sidecar's. */
  timeout?: number
  /** `raw` (default): the message body as published. `cloudevent`: a CloudEvents 1.0 JSON envelope. */
  envelope: 'raw' | 'cloudevent'
}

export const MAX_ENDPOINTS = 1000
export const MAX_SUBSCRIPTIONS = 256
const ENDPOINT = /^[A-Za-z_$][\w$]*\.[A-Za-z_$][\w$]*$/
const PATH = /^\/[\x21-\x7e]{0,1023}$/
const TOPIC = /^[A-Za-z0-9_\-:/.]{1,255}$/
const QUEUE = /^[A-Za-z0-9_\-.]{1,128}$/

/** Endpoints from the flag: `Orders.Create,Orders.Get=/orders/get`. */
export function parseEndpointFlag(entries: readonly string[]): AppEndpoint[] {
  const list = entries.flatMap((e) => e.split(',')).map((e) => e.trim())
  return checkEndpoints(
    list.filter(Boolean).map((entry) => {
      const eq = entry.indexOf('=')
      return eq === -1 ? { name: entry } : { name: entry.slice(0, eq), path: entry.slice(eq + 1) }
    }),
    '--endpoints',
  )
}

/** Endpoints from the app's `GET /micro/endpoints` answer: a list, or `{endpoints: [...]}`. */
export function parseEndpoints(body: unknown): AppEndpoint[] {
  const list = Array.isArray(body) ? body : (body as { endpoints?: unknown } | null)?.endpoints
  if (!Array.isArray(list)) throw new TypeError('GET /micro/endpoints must answer a JSON list of endpoints')
  return checkEndpoints(
    list.map((entry) => (typeof entry === 'string' ? { name: entry } : entry)),
    'GET /micro/endpoints',
  )
}

function checkEndpoints(entries: unknown[], where: string): AppEndpoint[] {
  if (entries.length > MAX_ENDPOINTS) throw new TypeError(`${where}: more than ${MAX_ENDPOINTS} endpoints`)
  const seen = new Set<string>()
  return entries.map((entry, i) => {
    if (typeof entry !== 'object' || entry === null) throw new TypeError(`${where}[${i}]: not an object`)
    const e = entry as Record<string, unknown>
    const name = e.name
    if (typeof name !== 'string' || !ENDPOINT.test(name)) {
      throw new TypeError(`${where}[${i}]: name must be Handler.Method (got ${clip(name)})`)
    }
    if (seen.has(name)) throw new TypeError(`${where}: ${name} is declared twice`)
    seen.add(name)
    const path = e.path ?? `/${name}`
    if (typeof path !== 'string' || !PATH.test(path)) {
      throw new TypeError(`${where}: ${name}'s path must start with / and have no spaces (got ${clip(path)})`)
    }
    return {
      name,
      path,
      request: schema(e.request, `${where}: ${name}.request`),
      response: schema(e.response, `${where}: ${name}.response`),
      idempotent: e.idempotent === true,
    }
  })
}

/** Subscriptions from the app's `GET /micro/subscribe` answer: a list, or `{subscriptions: [...]}`. */
export function parseSubscriptions(body: unknown): AppSubscription[] {
  const list = Array.isArray(body) ? body : (body as { subscriptions?: unknown } | null)?.subscriptions
  const where = 'GET /micro/subscribe'
  if (!Array.isArray(list)) throw new TypeError(`${where} must answer a JSON list of subscriptions`)
  if (list.length > MAX_SUBSCRIPTIONS)
    throw new TypeError(`${where}: more than ${MAX_SUBSCRIPTIONS} subscriptions`)
  const seen = new Set<string>()
  return list.map((entry, i) => {
    if (typeof entry !== 'object' || entry === null) throw new TypeError(`${where}[${i}]: not an object`)
    const s = entry as Record<string, unknown>
    const topic = s.topic
    if (typeof topic !== 'string' || !TOPIC.test(topic)) {
      throw new TypeError(`${where}[${i}]: topic must be 1-255 of A-Z a-z 0-9 _ - : / . (got ${clip(topic)})`)
    }
    // Dapr's shape: `routes: {default: "/path"}` works too.
    const route = s.route ?? (s.routes as { default?: unknown } | undefined)?.default
    if (typeof route !== 'string' || !PATH.test(route)) {
      throw new TypeError(`${where}: ${topic}: route must be a path starting with / (got ${clip(route)})`)
    }
    const queue = optional<string>(
      s.queue,
      (q) => typeof q === 'string' && QUEUE.test(q),
      `${where}: ${topic}: queue`,
    )
    const key = `${topic}\u0000${queue ?? ''}`
    if (seen.has(key))
      throw new TypeError(`${where}: ${topic}${queue ? ` (queue ${queue})` : ''} is declared twice`)
    seen.add(key)
    const dead = s.deadLetter ?? s.deadLetterTopic
    const deadLetter =
      dead === false || dead === ''
        ? false
        : optional<string>(
            dead,
            (d) => typeof d === 'string' && TOPIC.test(d),
            `${where}: ${topic}: deadLetter`,
          )
    const envelope = s.envelope ?? 'raw'
    if (envelope !== 'raw' && envelope !== 'cloudevent') {
      throw new TypeError(
        `${where}: ${topic}: envelope must be "raw" or "cloudevent" (got ${clip(envelope)})`,
      )
    }
    return {
      topic,
      route,
      queue,
      retryLimit: optional<number>(s.retryLimit, isCount(0, 1000), `${where}: ${topic}: retryLimit`),
      deadLetter,
      concurrency: optional<number>(s.concurrency, isCount(1, 1024), `${where}: ${topic}: concurrency`),
      timeout: optional<number>(s.timeout, isCount(1, 3_600_000), `${where}: ${topic}: timeout (ms)`),
      envelope,
    }
  })
}

function schema(value: unknown, where: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value))
    throw new TypeError(`${where} must be a JSON Schema object`)
  return value as Record<string, unknown>
}

function optional<T>(value: unknown, ok: (v: unknown) => boolean, what: string): T | undefined {
  if (value === undefined || value === null) return undefined
  if (!ok(value)) throw new TypeError(`${what} is invalid (got ${clip(value)})`)
  return value as T
}

function isCount(min: number, max: number): (v: unknown) => boolean {
  return (v) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max
}

/** A value as shown in an error: JSON, at most 80 characters. */
function clip(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}
