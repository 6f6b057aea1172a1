import { randomBytes, randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { CallOptions } from '../../client/options.js'
import { badRequest, MicroError, newError, notFound, serviceUnavailable } from '../../errors/errors.js'
import type { CallSource, CallStream } from '../sources.js'
import { DASHBOARD_ID, intParam, optionalString, type Sse, stringField, stringMap } from './http.js'
import { checkNamespace } from './router.js'

/** A call as the API explorer sends it. */
export interface CallPlan {
  service: string
  endpoint: string
  /** The request message (`{}` when none is given). */
  request: unknown
  options: CallOptions
  traceId: string
}

/** Check an explorer request and make its call options, with a new trace for the call. */
export function planCall(
  body: Record<string, unknown>,
  defaultNamespace: string,
  token: string | undefined,
): CallPlan {
  const service = stringField(body, 'service', 256)
  const endpoint = stringField(body, 'endpoint', 256)
  const metadata = { ...stringMap(body.metadata, 'metadata') }
  // The call is a trace of its own, so the explorer can link to it.
  const traceId = randomBytes(16).toString('hex')
  metadata.traceparent ??= `00-${traceId}-${randomBytes(8).toString('hex')}-01`
  const given = /^00-([0-9a-f]{32})-/.exec(metadata.traceparent)
  // The caller's own login travels with the call, so the service's rules apply to them.
  if (token !== undefined) metadata.authorization = `Bearer ${token}`
  const options: CallOptions = {
    metadata,
    namespace: checkNamespace(optionalString(body, 'namespace', 64) ?? defaultNamespace),
    timeout: intParam(body.timeout, 'timeout', 30_000, 600_000, 1),
    retries: 0,
  }
  const address = optionalString(body, 'address', 256)
  if (address !== undefined) options.address = address
  const version = optionalString(body, 'version', 128)
  if (version !== undefined) options.version = version
  return { service, endpoint, request: body.request ?? {}, options, traceId: given?.[1] ?? traceId }
}

/** Make a unary call; resolves with the reply and how long it took (ms), or rejects with the MicroError. */
export async function callOnce(
  client: CallSource,
  plan: CallPlan,
): Promise<{ reply: unknown; duration: number }> {
  const started = performance.now()
  try {
    const reply = await client.call(plan.service, plan.endpoint, plan.request, plan.options)
    return { reply, duration: performance.now() - started }
  } catch (error) {
    throw Object.assign(MicroError.from(error, DASHBOARD_ID), { duration: performance.now() - started })
  }
}

interface StreamEvent {
  event: 'message' | 'error' | 'end'
  data: unknown
}

interface Session {
  id: string
  owner: string | undefined
  stream: CallStream
  /** Events seen before a reader attached (bounded), replayed to it. */
  backlog: StreamEvent[]
  reader: Sse | undefined
  ended: boolean
  touched: number
  timer: NodeJS.Timeout
}

/** Limits of the explorer's streams. */
export interface StreamLimits {
  /** Open streams at once. Default 16. */
  max?: number
  /** A stream nobody watches is canceled after this many ms. Default 60 s. */
  idle?: number
  /** Messages kept for a stream nobody watches yet. Default 1000. */
  backlog?: number
}

/**
 * The explorer's streaming calls: opened by a POST, watched over SSE, fed by POSTs of
 * messages. Each belongs to the identity that opened it. Streams are bounded in number,
 * in what they buffer, and in how long they live unwatched.
 */
export class StreamSessions {
  readonly #sessions = new Map<string, Session>()
  readonly #max: number
  readonly #idle: number
  readonly #backlog: number

  constructor(limits: StreamLimits = {}) {
    this.#max = limits.max ?? 16
    this.#idle = limits.idle ?? 60_000
    this.#backlog = limits.backlog ?? 1000
  }

  get size(): number {
    return this.#sessions.size
  }

  /** Open a stream; resolves with its id. */
  open(client: CallSource, plan: CallPlan, owner: string | undefined): string {
    if (this.#sessions.size >= this.#max)
      throw newError(DASHBOARD_ID, `${this.#max} streams are open: close one first`, 429)
    const id = randomUUID()
    const stream = client.stream(plan.service, plan.endpoint, plan.options)
    const session: Session = {
      id,
      owner,
      stream,
      backlog: [],
      reader: undefined,
      ended: false,
      touched: Date.now(),
      timer: setInterval(() => this.#sweep(session), Math.min(this.#idle, 5000)),
    }
    session.timer.unref()
    this.#sessions.set(id, session)
    void this.#pump(session)
    return id
  }

  /** A 404 unless the stream exists and belongs to `owner`. */
  assertOwned(id: string, owner: string | undefined): void {
    this.#get(id, owner)
  }

  /** Attach an SSE reader: it gets the backlog, then live events. */
  watch(id: string, owner: string | undefined, sse: Sse): void {
    const session = this.#get(id, owner)
    session.reader?.end()
    session.reader = sse
    for (const e of session.backlog.splice(0)) sse.send(e.event, e.data)
    if (session.ended) {
      sse.end()
      this.#remove(session)
      return
    }
    sse.signal.addEventListener('abort', () => {
      if (session.reader === sse) session.reader = undefined
      session.touched = Date.now()
    })
  }

  async send(id: string, owner: string | undefined, message: unknown): Promise<void> {
    const session = this.#get(id, owner)
    if (session.ended) throw badRequest(DASHBOARD_ID, 'the stream has ended')
    session.touched = Date.now()
    await session.stream.send(message)
  }

  async closeSend(id: string, owner: string | undefined): Promise<void> {
    const session = this.#get(id, owner)
    session.touched = Date.now()
    if (!session.ended) await session.stream.closeSend()
  }

  cancel(id: string, owner: string | undefined): void {
    const session = this.#get(id, owner)
    session.stream.cancel('canceled from the dashboard')
    this.#remove(session)
  }

  /** Cancel every stream (the dashboard is closing). */
  closeAll(): void {
    for (const session of [...this.#sessions.values()]) {
      session.stream.cancel('the dashboard is closing')
      session.reader?.end()
      this.#remove(session)
    }
  }

  #get(id: string, owner: string | undefined): Session {
    const session = this.#sessions.get(id)
    // Another identity's stream is as good as missing: its id says nothing.
    if (!session || session.owner !== owner) throw notFound(DASHBOARD_ID, 'no such stream')
    return session
  }

  async #pump(session: Session): Promise<void> {
    try {
      for await (const message of session.stream) this.#emit(session, { event: 'message', data: message })
      this.#emit(session, { event: 'end', data: {} })
    } catch (error) {
      this.#emit(session, { event: 'error', data: MicroError.from(error, DASHBOARD_ID).toJSON() })
    }
    session.ended = true
    if (session.reader) {
      session.reader.end()
      this.#remove(session)
    }
  }

  #emit(session: Session, event: StreamEvent): void {
    if (session.reader) {
      session.reader.send(event.event, event.data)
      return
    }
    if (session.backlog.length < this.#backlog) session.backlog.push(event)
  }

  #sweep(session: Session): void {
    if (session.reader || Date.now() - session.touched < this.#idle) return
    session.stream.cancel('nobody watched the stream')
    this.#remove(session)
  }

  #remove(session: Session): void {
    clearInterval(session.timer)
    this.#sessions.delete(session.id)
  }
}

/** The 503 when no client is configured. */
export function noClient(): Error {
  return serviceUnavailable(DASHBOARD_ID, 'no client is configured to call services')
}
