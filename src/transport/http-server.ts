import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import {
  badRequest,
  MicroError,
  methodNotAllowed,
  payloadTooLarge,
  serviceUnavailable,
} from '../errors/errors.js'
import { type Headers, newHeaders, setHeader } from './frame.js'
import { crossSiteRefusal } from './http-cross-site.js'
import { HttpPeer } from './http-peer.js'
import { MESSAGE_OVERHEAD } from './micro-stream.js'
import { attachPeer, peerOfSocket } from './tls/peer.js'
import type { Dispatcher, InboundCall, ListenOptions } from './transport.js'

export interface HttpServerOptions {
  maxBodySize: number
  isDraining: () => boolean
  routes?: ListenOptions['routes']
  /** Origins allowed to call (exact, or `*`); any other `Origin` header is a 403. */
  allowedOrigins: readonly string[]
}

/**
 * HTTP/1.1 on the service port, for curl and other languages: `POST /` with a
 * `Micro-Endpoint` header (Go Micro's call), or `POST /Handler/Method`. Errors come back
 * as the error JSON with the error's status code and a `Micro-Error` header. Requests a
 * web page could make a browser send (a foreign `Origin`, form and text content types)
 * are refused before anything runs (http-cross-site.ts). Connection limits and timeouts
 * are the listener's (HttpPeer).
 */
export function createHttpServer(dispatcher: Dispatcher, options: HttpServerOptions): Server {
  // node:http is loaded when the first HTTP caller arrives, not at every service start.
  const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http')
  // No keep-alive timer per response: the listener's sweeper closes idle connections.
  const server = createServer({ keepAliveTimeout: 0 }, (req, res) => {
    handle(dispatcher, options, req, res).catch((error: unknown) => {
      writeError(res, MicroError.from(error, 'micro.server'))
    })
  })
  server.on('clientError', (_error, socket) => {
    if (socket.writable) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    } else {
      socket.destroy()
    }
  })
  return server
}

async function handle(
  dispatcher: Dispatcher,
  options: HttpServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const peer = HttpPeer.of(req.socket)
  let call: HttpCall | undefined
  let admitted = false
  let held = 0
  peer?.started()
  res.once('close', () => {
    peer?.ended(call, held, admitted)
    if (call !== undefined && !res.writableFinished)
      call.onCancel?.(new MicroError('micro.server', 'the HTTP caller went away', 499))
  })
  const refusal = crossSiteRefusal(req, options.allowedOrigins)
  if (refusal !== undefined) {
    drainAndReply(req, res, refusal)
    return
  }
  const route =
    req.method === 'GET' || req.method === 'HEAD'
      ? options.routes?.get((req.url ?? '/').split('?', 1)[0] as string)
      : undefined
  if (route) return void (await route(req, res))
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST')
    drainAndReply(req, res, methodNotAllowed('micro.server', `use POST, not ${req.method}`))
    return
  }
  const endpoint = endpointOf(req)
  if (typeof endpoint !== 'string') {
    drainAndReply(req, res, endpoint)
    return
  }
  if (options.isDraining()) {
    drainAndReply(req, res, serviceUnavailable('micro.server', 'server is shutting down'))
    return
  }
  const declared = Number(req.headers['content-length'] ?? 0) || 0
  if (declared > options.maxBodySize) {
    res.setHeader('Connection', 'close')
    drainAndReply(req, res, tooLarge(declared, options.maxBodySize))
    return
  }
  if (peer !== undefined) {
    admitted = peer.admit()
    if (!admitted) {
      const detail = `too many calls in flight on this connection (limit ${peer.bounds.maxCalls})`
      drainAndReply(req, res, serviceUnavailable('micro.server', detail))
      return
    }
    const room = peer.room()
    if (room !== undefined) {
      await room
      if (req.destroyed) return
    }
    // Reserve the declared length now: bodies of pipelined requests are read concurrently.
    held = declared + MESSAGE_OVERHEAD
    peer.hold(held)
  }
  const body = await readBody(req, options.maxBodySize)
  if (body === undefined) {
    res.setHeader('Connection', 'close')
    writeError(res, tooLarge(undefined, options.maxBodySize))
    return
  }
  if (res.destroyed) return
  call = new HttpCall(res, endpoint, headersOf(req), body, timeoutOf(req), options.isDraining)
  if (peer !== undefined) {
    peer.hold(body.byteLength + MESSAGE_OVERHEAD - held)
    held = body.byteLength + MESSAGE_OVERHEAD
    peer.dispatched(call)
  }
  dispatcher.unary(call)
}

/** A unary call that arrived over HTTP; answering it writes the HTTP response. */
class HttpCall implements InboundCall {
  onCancel: ((reason: MicroError) => void) | undefined = undefined
  readonly protocol = 'http'
  readonly remote: string

  constructor(
    readonly res: ServerResponse,
    readonly endpoint: string,
    readonly headers: Headers,
    readonly body: Uint8Array,
    readonly timeout: number | undefined,
    readonly isDraining: () => boolean,
  ) {
    this.remote = `${res.req.socket.remoteAddress}:${res.req.socket.remotePort}`
  }

  respond(body: Uint8Array, headers?: Headers): void {
    const res = this.res
    if (res.headersSent || res.destroyed) return
    const contentType = headers?.['content-type'] ?? this.headers['content-type'] ?? 'application/json'
    if (this.isDraining()) res.setHeader('Connection', 'close')
    res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': body.byteLength })
    res.end(body)
  }

  fail(error: MicroError): void {
    if (this.res.destroyed) return
    writeError(this.res, error)
  }
}

/** The endpoint a request names, or the 400 saying why it names none. */
function endpointOf(req: IncomingMessage): string | MicroError {
  const header =
    req.headers['micro-endpoint'] ?? req.headers['x-micro-endpoint'] ?? req.headers['micro-method']
  if (typeof header === 'string' && header !== '') return header
  const path = (req.url ?? '/').split('?')[0] ?? '/'
  const parts = path.split('/').filter((p) => p !== '')
  try {
    if (parts.length === 2)
      return `${decodeURIComponent(parts[0] as string)}.${decodeURIComponent(parts[1] as string)}`
    if (parts.length === 1 && (parts[0] as string).includes('.'))
      return decodeURIComponent(parts[0] as string)
  } catch {
    return badRequest('micro.server', 'malformed URL: a %-escape in the path is not valid UTF-8')
  }
  return badRequest('micro.server', 'no endpoint: set the Micro-Endpoint header or POST to /Handler/Method')
}

function headersOf(req: IncomingMessage): Headers {
  const headers = newHeaders()
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    setHeader(headers, key, Array.isArray(value) ? value.join(', ') : value)
  }
  const peer = peerOfSocket(req.socket)
  if (peer !== undefined) attachPeer(headers, peer)
  return headers
}

/** Go Micro sends `Timeout` in nanoseconds; `Micro-Timeout` is milliseconds. */
function timeoutOf(req: IncomingMessage): number | undefined {
  const ms = Number(req.headers['micro-timeout'])
  if (req.headers['micro-timeout'] !== undefined && Number.isFinite(ms) && ms >= 0) return ms
  const ns = Number(req.headers.timeout)
  if (req.headers.timeout !== undefined && Number.isFinite(ns) && ns >= 0) return ns / 1e6
  return undefined
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (chunk: Buffer) => {
      if (over) return
      size += chunk.length
      if (size > max) {
        over = true
        chunks.length = 0
        resolve(undefined)
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (!over) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks))
    })
    req.on('error', reject)
  })
}

function tooLarge(size: number | undefined, max: number): MicroError {
  return payloadTooLarge(
    'micro.server',
    `body${size === undefined ? '' : ` of ${size} bytes`} is over the ${max}-byte limit`,
  )
}

/** Reply without reading a body we will not use; the rest is discarded. */
function drainAndReply(req: IncomingMessage, res: ServerResponse, error: MicroError): void {
  req.resume()
  writeError(res, error)
}

function writeError(res: ServerResponse, error: MicroError): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const json = JSON.stringify(error)
  const status = error.code >= 400 && error.code <= 599 ? error.code : 500
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(json),
    'Micro-Error': asciiOnly(json),
  })
  res.end(json)
}

/** Header values must be Latin-1; escape anything else the JSON way. */
function asciiOnly(json: string): string {
  return json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
