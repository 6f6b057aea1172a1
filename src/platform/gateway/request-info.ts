import { setMaxListeners } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { CallOptions } from '../../client/options.js'
import { badRequest } from '../../errors/errors.js'
import { NAMESPACE_NAME } from '../../registry/registry.js'
import { metadataOf } from './metadata.js'
import type { GatewaySettings } from './options.js'

const ID = 'micro.gateway'
const CONNECTION_SIGNAL = Symbol('micro.gateway.signal')

/**
 * A signal that aborts when the client's connection closes, shared by every call made for
 * requests on that connection: a client that goes away cancels what it asked for, and an
 * AbortController is made once per connection rather than once per request (making one
 * costs microseconds, a noticeable share of a gateway request).
 */
export function connectionSignal(req: IncomingMessage): AbortSignal {
  const socket = req.socket as IncomingMessage['socket'] & { [CONNECTION_SIGNAL]?: AbortController }
  let controller = socket[CONNECTION_SIGNAL]
  if (controller === undefined) {
    const made = new AbortController()
    // Pipelined requests share it: more than 10 calls in flight on one connection is fine.
    setMaxListeners(1000, made.signal)
    controller = made
    socket[CONNECTION_SIGNAL] = made
    socket.once('close', () => made.abort())
  }
  return controller.signal
}

/** A single-valued header, undefined when absent or empty; a 400 when absurdly long. */
export function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  if (typeof value !== 'string' || value === '') return undefined
  if (value.length > 128) throw badRequest(ID, `the ${name} header is too long`)
  return value
}

// Namespaces become registry domains, NATS subjects and store scopes: the platform's rule.

/** The namespace a request names with `Micro-Namespace`, undefined when none; a 400 for a bad name. */
export function namespaceOf(req: IncomingMessage): string | undefined {
  const value = req.headers['micro-namespace']
  if (value === undefined || value === '') return undefined
  if (typeof value !== 'string' || !NAMESPACE_NAME.test(value))
    throw badRequest(ID, 'the Micro-Namespace header must be 1-64 letters, digits, _ and -')
  return value
}

/** `Micro-Timeout` in ms (or Go Micro's `Timeout` in ns); undefined when absent or not a number. */
export function timeoutOf(req: IncomingMessage): number | undefined {
  const ms = Number(req.headers['micro-timeout'])
  if (req.headers['micro-timeout'] !== undefined && Number.isFinite(ms) && ms > 0) return ms
  const ns = Number(req.headers.timeout)
  if (req.headers.timeout !== undefined && Number.isFinite(ns) && ns > 0) return ns / 1e6
  return undefined
}

/** What a call made for a request carries besides its body. */
export interface CallShape {
  /** The registry namespace of the service called. */
  namespace: string
  version: string | undefined
  /** Metadata the auth hook added. */
  granted: Record<string, string> | undefined
  /** ms the request asked for; capped by the gateway's requestTimeout. Ignored for streams. */
  timeout: number | undefined
  contentType: string
  signal: AbortSignal | undefined
  /** Streams have no deadline (they live as long as their client). */
  stream: boolean
}

/** The client options of a call: deadline, version, allow-listed metadata, content type, signal. */
export function callOptionsOf(
  req: IncomingMessage,
  settings: GatewaySettings,
  shape: CallShape,
): CallOptions {
  const options: CallOptions = { signal: shape.signal, namespace: shape.namespace }
  if (!shape.stream) {
    const requested = shape.timeout ?? timeoutOf(req)
    options.timeout =
      requested === undefined ? settings.requestTimeout : Math.min(requested, settings.requestTimeout)
  }
  if (shape.version !== undefined) options.version = shape.version
  const metadata = metadataOf(req, settings.metadataHeaders)
  if (metadata !== undefined || shape.granted !== undefined)
    options.metadata = { ...metadata, ...shape.granted }
  if (shape.contentType !== 'application/json') options.contentType = shape.contentType
  return options
}

/** Streams open at once (WebSocket and SSE together), bounded by maxStreams. */
export class StreamSlots {
  #open = 0
  readonly #max: number

  constructor(max: number) {
    this.#max = max
  }

  get full(): boolean {
    return this.#open >= this.#max
  }

  /** Take a slot; false when none is free. */
  take(): boolean {
    if (this.#open >= this.#max) return false
    this.#open++
    return true
  }

  release(): void {
    this.#open--
  }
}
