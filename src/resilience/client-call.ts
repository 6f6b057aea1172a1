import type { Codec } from '../codec/codec.js'
import { MicroError, timeout as timeoutError } from '../errors/errors.js'
import type { NodeRecord, ServiceRecord } from '../registry/registry.js'
import type { Headers, OutboundCall, Reply } from '../transport/transport.js'
import { isLost, lostError } from '../transport/transport-errors.js'
import { isRefusedHere, lostTheRace, refusedHere } from './codes.js'
import { race } from './hedging.js'
import type { OutboundPolicies } from './resilience.js'

/** What a client lends the policy layer, made once per client. */
export interface PolicyHost {
  /** Cached records of a service, without waiting. */
  peek(service: string, namespace: string): readonly ServiceRecord[] | undefined
  /** Records of a service, looked up when not cached. */
  lookup(service: string, namespace: string): Promise<readonly ServiceRecord[]>
  select(
    records: readonly ServiceRecord[],
    version: string | undefined,
    exclude: ReadonlySet<string> | undefined,
  ): NodeRecord | undefined
  /** The end of an attempt on a node the selector picked (every select needs one). */
  mark(node: NodeRecord, error?: unknown): void
  /** Send one attempt to `node` of `service` (found in `namespace`: a TLS client checks that identity). */
  send(node: NodeRecord, call: OutboundCall, service: string, namespace: string): Promise<Reply>
  decode(reply: Reply, codec: Codec, explicit: boolean): unknown
  /** Whether the endpoint is idempotent on `nodeId`, from the records the call was routed with. */
  idempotent(records: readonly ServiceRecord[] | undefined, nodeId: string, endpoint: string): boolean
  /** Wait before the next attempt; rejects with 499 when `signal` aborts. */
  pause(ms: number, signal: AbortSignal | undefined, endpoint: string): Promise<void>
}

/** The retry decision a call follows: its retry policy, or the client's default rule. */
export interface RetryDecider {
  shouldRetry(error: unknown, attempt: number, idempotent: boolean): boolean
  backoff(attempt: number, error: unknown): number
}

const CLIENT = 'micro.client'

/** The request side of a call: what every attempt sends. */
export interface PolicyRequest {
  readonly service: string
  readonly endpoint: string
  /** The decoded request (for a fallback). */
  readonly request: unknown
  readonly namespace: string
  readonly version: string | undefined
  readonly headers: Headers
  readonly body: Uint8Array
  readonly codec: Codec
  /** Whether the caller gave the codec (it then decodes the reply too). */
  readonly explicitCodec: boolean
  readonly signal: AbortSignal | undefined
  /** The call's own deadline, epoch ms. */
  readonly deadline: number
  /** When the call started, epoch ms (the reading its deadline was worked out from). */
  readonly startedAt: number
}

/**
 * One call under its policies, outermost first: fallback (what a call that failed for good
 * returns), timeout (the deadline of every attempt together), bulkhead (calls in flight to
 * the endpoint), then attempts: the endpoint's breaker, a node outside the open node
 * breakers, a hedge to another node when an idempotent endpoint is slow, and retries as the
 * retry policy says. One object and one async frame per call: on a healthy call the
 * policies add a few checks to what the client does anyway.
 */
export class PolicyCall {
  readonly service: string
  readonly endpoint: string
  readonly request: unknown
  readonly #host: PolicyHost
  readonly #p: OutboundPolicies
  readonly #retry: RetryDecider
  readonly #call: PolicyRequest
  readonly #deadline: number
  /** When the call started (the first attempt's clock reading). */
  readonly #start: number
  /** Node ids tried by this call, once there is more than one attempt. */
  #tried: Set<string> | undefined
  #lastNode: string | undefined

  constructor(host: PolicyHost, policies: OutboundPolicies, retry: RetryDecider, call: PolicyRequest) {
    this.#host = host
    this.#p = policies
    this.#retry = retry
    this.#call = call
    this.service = call.service
    this.endpoint = call.endpoint
    this.request = call.request
    this.#start = call.startedAt
    this.#deadline =
      policies.timeout === undefined ? call.deadline : Math.min(call.deadline, this.#start + policies.timeout)
  }

  async run(): Promise<unknown> {
    const p = this.#p
    const host = this.#host
    const call = this.#call
    const bulkhead = p.bulkhead
    let holding = false
    try {
      if (bulkhead !== undefined) {
        const waiting = bulkhead.acquire(this.#deadline, CLIENT)
        if (waiting !== undefined) await waiting
        holding = true
      }
      for (let attempt = 1; ; attempt++) {
        const now = attempt === 1 ? this.#start : Date.now()
        if (now >= this.#deadline)
          throw timeoutError(CLIENT, `call to ${this.service} ${this.endpoint} timed out`)
        if (p.breaker !== undefined && !p.breaker.allow(now)) {
          throw refusedHere(
            CLIENT,
            `the circuit of ${this.service} ${this.endpoint} is open: calls fail fast until it lets a probe through`,
          )
        }
        const records =
          host.peek(this.service, call.namespace) ?? (await host.lookup(this.service, call.namespace))
        try {
          const node = this.#pick(records, now, true)
          let value: unknown
          if (p.hedging !== undefined && host.idempotent(records, node.id, this.endpoint)) {
            value = await this.#hedged(records, node, now)
          } else if (p.nodeBreakers !== undefined) {
            value = await this.#attempt(node, call.signal, now)
          } else {
            // The common attempt, inline: no node breaker, no latencies to keep.
            let reply: Reply
            try {
              reply = await host.send(
                node,
                {
                  endpoint: call.endpoint,
                  headers: call.headers,
                  body: call.body,
                  timeout: Math.max(1, this.#deadline - now),
                  signal: call.signal,
                },
                call.service,
                call.namespace,
              )
            } catch (error) {
              host.mark(node, error)
              throw error
            }
            host.mark(node)
            value = host.decode(reply, call.codec, call.explicitCodec)
          }
          p.breaker?.succeeded()
          return value
        } catch (error) {
          if (!isRefusedHere(error)) p.breaker?.record(error, Date.now())
          const last = this.#lastNode
          const idempotent = last !== undefined && host.idempotent(records, last, this.endpoint)
          if (!this.#retry.shouldRetry(error, attempt, idempotent))
            throw explained(error, idempotent, this.endpoint)
          const pause = Math.min(
            this.#retry.backoff(attempt, error),
            Math.max(0, this.#deadline - Date.now() - 1),
          )
          await host.pause(pause, call.signal, this.endpoint)
        }
      }
    } catch (error) {
      if (p.fallback?.covers(error)) return p.fallback.answer(error, this)
      throw error
    } finally {
      if (holding) bulkhead?.release()
    }
  }

  /**
   * A node outside those tried and those whose breaker is open (with `again`, a tried one
   * when every node was); its breaker (scope node) admits the call.
   */
  #pick(records: readonly ServiceRecord[], now: number, again: boolean): NodeRecord {
    const p = this.#p
    const host = this.#host
    const version = this.#call.version
    const open = p.nodeBreakers?.open(now)
    const last = this.#lastNode
    if (last !== undefined && this.#tried === undefined) this.#tried = new Set([last])
    const tried = this.#tried
    const node =
      host.select(records, version, union(tried, open)) ??
      // Every node was tried: go round again, still never to one whose breaker is open.
      (again && tried !== undefined ? host.select(records, version, open) : undefined)
    if (node === undefined) {
      if (open !== undefined) {
        throw refusedHere(CLIENT, `every node of ${this.service} has its circuit open for ${this.endpoint}`)
      }
      throw new MicroError(CLIENT, `no node of service ${this.service} is available`, 503)
    }
    if (p.nodeBreakers !== undefined && !p.nodeBreakers.get(node.id).allow(now)) {
      host.mark(node)
      throw refusedHere(CLIENT, `the circuit of node ${node.id} is open for ${this.endpoint}`)
    }
    tried?.add(node.id)
    this.#lastNode = node.id
    return node
  }

  /** One attempt on a node: its outcome goes to the selector, the node's breaker and the latency histogram. */
  async #attempt(
    node: NodeRecord,
    signal: AbortSignal | undefined,
    now: number,
    launchedAt?: number,
  ): Promise<unknown> {
    const p = this.#p
    const host = this.#host
    const call = this.#call
    const breaker = p.nodeBreakers?.get(node.id)
    const started = p.hedging === undefined ? 0 : (launchedAt ?? performance.now())
    let reply: Reply
    try {
      reply = await host.send(
        node,
        {
          endpoint: call.endpoint,
          headers: call.headers,
          body: call.body,
          timeout: Math.max(1, this.#deadline - now),
          signal,
        },
        call.service,
        call.namespace,
      )
    } catch (error) {
      host.mark(node, error)
      breaker?.record(error, Date.now())
      // An attempt cut short because another answered first took at least this long. Left
      // out, the histogram would learn only from the winners, its p95 would sink and hedges
      // feed on themselves (measured: 45% of calls hedged at "p95" instead of about 5%).
      if (p.hedging !== undefined && signal !== call.signal && signal?.aborted && !call.signal?.aborted) {
        p.hedging.latencies.record(performance.now() - started)
      }
      throw error
    }
    host.mark(node)
    breaker?.succeeded()
    if (p.hedging !== undefined) p.hedging.latencies.record(performance.now() - started)
    return host.decode(reply, call.codec, call.explicitCodec)
  }

  /** Attempts raced: another node gets the call when the first is slower than the hedging delay. */
  #hedged(records: readonly ServiceRecord[], first: NodeRecord, now: number): Promise<unknown> {
    const hedging = this.#p.hedging as NonNullable<OutboundPolicies['hedging']>
    hedging.counts.calls++
    let next: NodeRecord | undefined = first
    // The first attempt starts now (`now` is its clock reading); hedges read the clock.
    let startedAt: number | undefined = now
    return race(
      () => {
        let node = next
        next = undefined
        const at = startedAt ?? Date.now()
        startedAt = undefined
        if (node === undefined) {
          hedging.counts.hedges++
          try {
            node = this.#pick(records, at, false)
          } catch {
            return undefined // no other node now: the attempts in flight carry on
          }
        }
        const chosen = node
        return (signal, launchedAt) => this.#attempt(chosen, signal, at, launchedAt)
      },
      hedging.delay(),
      hedging.settings.maxAttempts,
      this.#call.signal,
      () => lostTheRace(this.endpoint),
    )
  }
}

function union(
  a: ReadonlySet<string> | undefined,
  b: ReadonlySet<string> | undefined,
): ReadonlySet<string> | undefined {
  if (b === undefined || b.size === 0) return a
  if (a === undefined || a.size === 0) return b
  return new Set([...a, ...b])
}

/** A lost call that is not retried says it may have run, as the client's own path does. */
function explained(error: unknown, idempotent: boolean, endpoint: string): unknown {
  if (!isLost(error) || idempotent) return error
  return lostError(
    `${(error as MicroError).detail}; ${endpoint} may have run (only idempotent endpoints are retried once the request was sent)`,
  )
}
