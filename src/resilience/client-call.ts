import { MicroError, timeout as timeoutError } from '../errors/errors.js'
import type { NodeRecord } from '../registry/registry.js'
import { isLost, lostError } from '../transport/transport-errors.js'
import { isRefusedHere, lostTheRace, refusedHere } from './codes.js'
import { race } from './hedging.js'
import type { OutboundPolicies } from './resilience.js'

/** What the client gives the policy layer for one call: how to pick nodes and run attempts. */
export interface CallSite {
  readonly service: string
  readonly endpoint: string
  readonly request: unknown
  /** A node for an attempt outside `exclude` (registry looked up if needed), or undefined when none is. */
  pick(exclude: ReadonlySet<string> | undefined): Promise<NodeRecord | undefined>
  /** The same from what is known now (a hedge does not wait for the registry). */
  pickNow(exclude: ReadonlySet<string> | undefined): NodeRecord | undefined
  /** A picked node that will not be called after all. */
  unpick(node: NodeRecord): void
  /** One attempt on `node`; resolves with the decoded reply. Marks the node's outcome with the selector. */
  attempt(node: NodeRecord, timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown>
  /** Whether the endpoint is idempotent on `nodeId` (its registry record says so). */
  idempotent(nodeId: string | undefined): boolean
  /** Wait before the next attempt; rejects with 499 when the call is aborted meanwhile. */
  pause(ms: number): Promise<void>
}

/** The retry decision a call follows: its retry policy, or the client's default rule. */
export interface RetryDecider {
  shouldRetry(error: unknown, attempt: number, idempotent: boolean): boolean
  backoff(attempt: number, error: unknown): number
}

const CLIENT = 'micro.client'

/**
 * A call under its policies, outermost first: fallback (what a call that failed for good
 * returns), timeout (the deadline of every attempt together), bulkhead (calls in flight to
 * the endpoint), then attempts: the endpoint's breaker, a node outside open node breakers,
 * a hedge to another node when an idempotent endpoint is slow, and retries as the retry
 * policy says.
 */
export async function callWithPolicies(
  site: CallSite,
  p: OutboundPolicies,
  retry: RetryDecider,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  const until = p.timeout === undefined ? deadline : Math.min(deadline, Date.now() + p.timeout)
  try {
    const bulkhead = p.bulkhead
    if (bulkhead === undefined) return await attempts(site, p, retry, until, signal)
    const waiting = bulkhead.acquire(until, CLIENT)
    if (waiting !== undefined) await waiting
    try {
      return await attempts(site, p, retry, until, signal)
    } finally {
      bulkhead.release()
    }
  } catch (error) {
    if (p.fallback?.covers(error)) return p.fallback.answer(error, site)
    throw error
  }
}

async function attempts(
  site: CallSite,
  p: OutboundPolicies,
  retry: RetryDecider,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  const tried = new Set<string>()
  const last: { node: NodeRecord | undefined } = { node: undefined }
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - Date.now()
    if (remaining <= 0) throw timeoutError(CLIENT, `call to ${site.service} ${site.endpoint} timed out`)
    if (p.breaker !== undefined && !p.breaker.allow(Date.now())) {
      throw refusedHere(
        CLIENT,
        `the circuit of ${site.service} ${site.endpoint} is open: calls fail fast until it lets a probe through`,
      )
    }
    try {
      const value = await once(site, p, tried, last, deadline, signal)
      p.breaker?.record(undefined, Date.now())
      return value
    } catch (error) {
      if (!isRefusedHere(error)) p.breaker?.record(error, Date.now())
      const idempotent = site.idempotent(last.node?.id)
      if (!retry.shouldRetry(error, attempt, idempotent)) throw explained(error, idempotent, site.endpoint)
      await site.pause(Math.min(retry.backoff(attempt, error), Math.max(0, deadline - Date.now() - 1)))
    }
  }
}

/** One attempt (or one hedged race) on nodes outside those tried and those whose breaker is open. */
async function once(
  site: CallSite,
  p: OutboundPolicies,
  tried: Set<string>,
  last: { node: NodeRecord | undefined },
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  const open = p.nodeBreakers?.open(Date.now())
  const node =
    (await site.pick(union(tried, open))) ??
    // Every node was tried: go round again, still never to one whose breaker is open.
    (tried.size > 0 ? await site.pick(open) : undefined)
  if (node === undefined) {
    if (open !== undefined) {
      throw refusedHere(CLIENT, `every node of ${site.service} has its circuit open for ${site.endpoint}`)
    }
    throw new MicroError(CLIENT, `no node of service ${site.service} is available`, 503)
  }
  const admitted = admit(site, p, node)
  last.node = node
  tried.add(node.id)
  const hedging = p.hedging
  if (hedging === undefined || !site.idempotent(node.id)) {
    return measured(site, p, admitted, deadline, signal)
  }
  let next: NodeRecord | undefined = admitted
  return race(
    () => {
      const chosen = next ?? hedgeNode(site, p, tried)
      next = undefined
      if (chosen === undefined) return undefined
      return (attemptSignal) => measured(site, p, chosen, deadline, attemptSignal)
    },
    hedging.delay(),
    hedging.settings.maxAttempts,
    signal,
    () => lostTheRace(site.endpoint),
  )
}

/** Let the node's breaker (scope node) admit the call, or give the node back and refuse. */
function admit(site: CallSite, p: OutboundPolicies, node: NodeRecord): NodeRecord {
  if (p.nodeBreakers === undefined || p.nodeBreakers.get(node.id).allow(Date.now())) return node
  site.unpick(node)
  throw refusedHere(CLIENT, `the circuit of node ${node.id} is open for ${site.endpoint}`)
}

/** A node for a hedge: another one, known now, whose breaker admits it. */
function hedgeNode(site: CallSite, p: OutboundPolicies, tried: Set<string>): NodeRecord | undefined {
  const node = site.pickNow(union(tried, p.nodeBreakers?.open(Date.now())))
  if (node === undefined) return undefined
  if (p.nodeBreakers !== undefined && !p.nodeBreakers.get(node.id).allow(Date.now())) {
    site.unpick(node)
    return undefined
  }
  tried.add(node.id)
  return node
}

/** One attempt, its outcome told to the node's breaker and its latency to the hedging histogram. */
async function measured(
  site: CallSite,
  p: OutboundPolicies,
  node: NodeRecord,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  const breaker = p.nodeBreakers?.get(node.id)
  const started = performance.now()
  try {
    const value = await site.attempt(node, Math.max(1, deadline - Date.now()), signal)
    breaker?.record(undefined, Date.now())
    p.hedging?.latencies.record(performance.now() - started)
    return value
  } catch (error) {
    breaker?.record(error, Date.now())
    throw error
  }
}

function union(a: ReadonlySet<string>, b: ReadonlySet<string> | undefined): ReadonlySet<string> | undefined {
  if (b === undefined || b.size === 0) return a.size === 0 ? undefined : a
  if (a.size === 0) return b
  return new Set([...a, ...b])
}

/** A lost call that is not retried says it may have run, as the client's own path does. */
function explained(error: unknown, idempotent: boolean, endpoint: string): unknown {
  if (!isLost(error) || idempotent) return error
  return lostError(
    `${(error as MicroError).detail}; ${endpoint} may have run (only idempotent endpoints are retried once the request was sent)`,
  )
}
