import type { Codec } from '../codec/codec.js'
import type { ServiceRecord } from '../registry/registry.js'
import {
  PolicyCall,
  type PolicyHost,
  type PolicyRequest,
  type RetryDecider,
} from '../resilience/client-call.js'
import type { OutboundPolicies } from '../resilience/resilience.js'
import type { Selector } from '../selector/selector.js'
import type { Reply } from '../transport/transport.js'
import type { ServiceLookup } from './lookup.js'
import type { CallOptions } from './options.js'
import { pauseBeforeRetry, type RetryPolicy } from './retry.js'
import type { TransportSet } from './transports.js'

/** What a client's policy host is made of. */
export interface PolicyHostParts {
  lookup: ServiceLookup
  lookupService: (service: string, namespace: string) => Promise<readonly ServiceRecord[]>
  selector: Selector
  transports: TransportSet
  decode: (reply: Reply, codec: Codec, explicit: boolean) => unknown
}

/** What the resilience layer uses of a client (made once per client, on its first call with policies). */
export function policyHost(parts: PolicyHostParts): PolicyHost {
  const { lookup, selector, transports } = parts
  return {
    peek: (service, namespace) => lookup.peek(service, namespace),
    lookup: parts.lookupService,
    select: (records, version, exclude) =>
      selector.select(
        records,
        version === undefined && exclude === undefined ? undefined : { version, exclude },
      ),
    mark: (node, error) => selector.mark(node, error),
    send: (node, call, service, namespace) =>
      transports.for(node, service, namespace).call(node.address, call),
    decode: parts.decode,
    idempotent: idempotentNodes(),
    pause: pauseBeforeRetry,
  }
}

/**
 * Run a call under its policies. Its retries follow the target's retry policy, else the
 * client's own rule; a call's `retries` option caps either.
 */
export function callWithPolicies(
  host: PolicyHost,
  policies: OutboundPolicies,
  clientRetry: RetryPolicy,
  options: CallOptions,
  call: PolicyRequest,
): Promise<unknown> {
  const rule: RetryDecider = policies.retry ?? clientRule(clientRetry, call.service, call.endpoint)
  const retries = options.retries
  const retry: RetryDecider =
    retries === undefined
      ? rule
      : {
          shouldRetry: (error, attempt, idempotent) =>
            attempt <= retries && rule.shouldRetry(error, attempt, idempotent),
          backoff: (attempt, error) => rule.backoff(attempt, error),
        }
  return new PolicyCall(host, policies, retry, call).run()
}

/** The client's own retry rule as a policy decision (targets with policies but no retry policy). */
function clientRule(policy: RetryPolicy, service: string, endpoint: string): RetryDecider {
  return {
    shouldRetry: (error, attempt, idempotent) =>
      attempt <= policy.retries && policy.shouldRetry(error, attempt, { service, endpoint, idempotent }),
    backoff: (attempt) => policy.backoff(attempt),
  }
}

/**
 * `idempotentOn`, remembered per records array (a registry update makes a new one) and
 * endpoint: a hedging policy asks it on every call.
 */
function idempotentNodes(): (
  records: readonly ServiceRecord[] | undefined,
  nodeId: string,
  endpoint: string,
) => boolean {
  const cache = new WeakMap<readonly ServiceRecord[], Map<string, ReadonlySet<string>>>()
  return (records, nodeId, endpoint) => {
    if (records === undefined) return false
    let byEndpoint = cache.get(records)
    if (byEndpoint === undefined) {
      byEndpoint = new Map()
      cache.set(records, byEndpoint)
    }
    let nodes = byEndpoint.get(endpoint)
    if (nodes === undefined) {
      const ids = new Set<string>()
      for (const record of records) {
        if (!record.endpoints.some((e) => e.name === endpoint && e.metadata.idempotent === 'true')) continue
        for (const node of record.nodes) ids.add(node.id)
      }
      nodes = ids
      byEndpoint.set(endpoint, nodes)
    }
    return nodes.has(nodeId)
  }
}
