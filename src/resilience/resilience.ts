import { Bulkhead, BulkheadSettings } from './bulkhead.js'
import { BreakerSettings, CircuitBreaker } from './circuit-breaker.js'
import { durationOf } from './duration.js'
import { Fallback } from './fallback.js'
import { Hedging, HedgingSettings } from './hedging.js'
import type { InboundNames, OutboundNames, PolicySpecs, ResilienceSpec, ServiceTarget } from './policy.js'
import { RateLimiter, RateLimitSettings } from './rate-limit.js'
import { RetryRule } from './retry.js'

/** A resilience configuration that does not hold together; `problems` lists every mistake found. */
export class ResilienceConfigError extends TypeError {
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(`invalid resilience policies:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ResilienceConfigError'
    this.problems = problems
  }
}

/** The policies of calls to one endpoint (the client's side), with the state they keep. */
export interface OutboundPolicies {
  /** Whole-call timeout, ms. */
  readonly timeout: number | undefined
  readonly retry: RetryRule | undefined
  /** The endpoint's breaker (scope endpoint). */
  readonly breaker: CircuitBreaker | undefined
  /** Breakers by node id (scope node). */
  readonly nodeBreakers: NodeBreakers | undefined
  readonly bulkhead: Bulkhead | undefined
  readonly fallback: Fallback | undefined
  readonly hedging: Hedging | undefined
}

/** The policies of calls an endpoint serves (the server's side). */
export interface InboundPolicies {
  readonly bulkhead: Bulkhead | undefined
  readonly rateLimits: readonly RateLimiter[]
}

/** Per-node breakers of one endpoint, made as nodes are first seen. */
export class NodeBreakers {
  readonly #settings: BreakerSettings
  readonly #byNode = new Map<string, CircuitBreaker>()
  constructor(settings: BreakerSettings) {
    this.#settings = settings
  }
  get(nodeId: string): CircuitBreaker {
    let breaker = this.#byNode.get(nodeId)
    if (breaker === undefined) {
      breaker = new CircuitBreaker(this.#settings)
      this.#byNode.set(nodeId, breaker)
    }
    return breaker
  }
  /** Ids of nodes whose breaker refuses calls now. */
  open(now: number): Set<string> | undefined {
    let open: Set<string> | undefined
    for (const [id, breaker] of this.#byNode) {
      if (breaker.available(now)) continue
      open ??= new Set()
      open.add(id)
    }
    return open
  }
}

interface Named {
  timeouts: Map<string, number>
  retries: Map<string, RetryRule>
  breakers: Map<string, BreakerSettings>
  bulkheads: Map<string, BulkheadSettings>
  rateLimits: Map<string, RateLimitSettings>
  fallbacks: Map<string, Fallback>
  hedging: Map<string, HedgingSettings>
}

/**
 * Named resilience policies and the targets that use them, resolved per call target: one
 * place decides the policies of a call to `service`/`endpoint` (client) or of a call an
 * endpoint serves (server). Resolution is cached per endpoint, and so is the state the
 * policies keep (breakers, bulkheads, rate-limit buckets, latency histograms): a policy
 * named by two endpoints keeps separate state for each. A target without policies
 * resolves to undefined, so calls to it run as if there were none.
 */
export class Resilience {
  readonly #named: Named
  readonly #targets: Record<string, ServiceTarget>
  readonly #outbound = new Map<string, Map<string, OutboundPolicies | undefined>>()
  readonly #inbound = new Map<string, Map<string, InboundPolicies | undefined>>()

  constructor(spec: ResilienceSpec) {
    const problems: string[] = []
    if (typeof spec !== 'object' || spec === null)
      throw new ResilienceConfigError(['the spec must be an object'])
    this.#named = parsePolicies(spec.policies ?? {}, problems)
    this.#targets = spec.targets?.services ?? {}
    checkTargets(this.#targets, this.#named, problems)
    if (problems.length > 0) throw new ResilienceConfigError(problems)
  }

  /** A Resilience from a spec, or the one given. */
  static from(value: ResilienceSpec | Resilience): Resilience {
    return value instanceof Resilience ? value : new Resilience(value)
  }

  /** The policies of calls to `endpoint` of `service`; undefined when none apply. */
  outbound(service: string, endpoint: string): OutboundPolicies | undefined {
    let byEndpoint = this.#outbound.get(service)
    if (byEndpoint === undefined) {
      byEndpoint = new Map()
      this.#outbound.set(service, byEndpoint)
    } else if (byEndpoint.has(endpoint)) {
      return byEndpoint.get(endpoint)
    }
    const names = this.#outboundNames(service, endpoint)
    const where = `${service} ${endpoint}`
    const n = this.#named
    const pick = <T>(map: Map<string, T>, name: string | undefined) =>
      name === undefined ? undefined : map.get(name)
    const breaker = pick(n.breakers, names.circuitBreaker)
    const bulkhead = pick(n.bulkheads, names.bulkhead)
    const hedging = pick(n.hedging, names.hedging)
    const policies: OutboundPolicies = {
      timeout: pick(n.timeouts, names.timeout),
      retry: pick(n.retries, names.retry),
      breaker: breaker?.scope === 'endpoint' ? new CircuitBreaker(breaker) : undefined,
      nodeBreakers: breaker?.scope === 'node' ? new NodeBreakers(breaker) : undefined,
      bulkhead: bulkhead ? new Bulkhead(bulkhead, `bulkhead ${names.bulkhead} of ${where}`) : undefined,
      fallback: pick(n.fallbacks, names.fallback),
      hedging: hedging ? new Hedging(hedging) : undefined,
    }
    const any = Object.values(policies).some((p) => p !== undefined)
    byEndpoint.set(endpoint, any ? policies : undefined)
    return any ? policies : undefined
  }

  /** The policies of calls `service` serves on `endpoint`; undefined when none apply. */
  inbound(service: string, endpoint: string): InboundPolicies | undefined {
    let byEndpoint = this.#inbound.get(service)
    if (byEndpoint === undefined) {
      byEndpoint = new Map()
      this.#inbound.set(service, byEndpoint)
    } else if (byEndpoint.has(endpoint)) {
      return byEndpoint.get(endpoint)
    }
    const names = this.#inboundNames(service, endpoint)
    const where = `${service} ${endpoint}`
    const bulkhead = names.bulkhead === undefined ? undefined : this.#named.bulkheads.get(names.bulkhead)
    const limits =
      names.rateLimit === undefined
        ? []
        : Array.isArray(names.rateLimit)
          ? names.rateLimit
          : [names.rateLimit]
    const rateLimits = limits.map(
      (name) =>
        new RateLimiter(
          this.#named.rateLimits.get(name) as RateLimitSettings,
          `rate limit ${name} of ${where}`,
        ),
    )
    const policies: InboundPolicies | undefined =
      bulkhead === undefined && rateLimits.length === 0
        ? undefined
        : {
            bulkhead: bulkhead ? new Bulkhead(bulkhead, `bulkhead ${names.bulkhead} of ${where}`) : undefined,
            rateLimits,
          }
    byEndpoint.set(endpoint, policies)
    return policies
  }

  /** Whether any target names inbound policies (a server needs its wrapper). */
  get hasInbound(): boolean {
    return Object.values(this.#targets).some((t) => t.inbound !== undefined)
  }

  #outboundNames(service: string, endpoint: string): OutboundNames {
    const any = this.#targets['*']
    const own = this.#targets[service]
    return {
      ...pickOutbound(any),
      ...pickOutbound(any?.endpoints?.[endpoint]),
      ...pickOutbound(own),
      ...pickOutbound(own?.endpoints?.[endpoint]),
    }
  }

  #inboundNames(service: string, endpoint: string): InboundNames {
    const any = this.#targets['*']?.inbound
    const own = this.#targets[service]?.inbound
    return {
      ...pickInbound(any),
      ...pickInbound(any?.endpoints?.[endpoint]),
      ...pickInbound(own),
      ...pickInbound(own?.endpoints?.[endpoint]),
    }
  }
}

const OUTBOUND_KEYS = ['timeout', 'retry', 'circuitBreaker', 'bulkhead', 'fallback', 'hedging'] as const
const INBOUND_KEYS = ['bulkhead', 'rateLimit'] as const

function pickOutbound(names: OutboundNames | undefined): OutboundNames {
  const out: OutboundNames = {}
  if (names) for (const key of OUTBOUND_KEYS) if (names[key] !== undefined) out[key] = names[key]
  return out
}

function pickInbound(names: InboundNames | undefined): InboundNames {
  const out: InboundNames = {}
  if (names)
    for (const key of INBOUND_KEYS)
      if (names[key] !== undefined) (out as Record<string, unknown>)[key] = names[key]
  return out
}

function parsePolicies(policies: PolicySpecs, problems: string[]): Named {
  const parse = <S, T>(
    group: Record<string, S> | undefined,
    kind: string,
    make: (spec: S, where: string) => T,
  ) => {
    const out = new Map<string, T>()
    if (group === undefined) return out
    if (typeof group !== 'object' || group === null) {
      problems.push(`policies.${kind} must be a table of named policies`)
      return out
    }
    for (const [name, spec] of Object.entries(group)) {
      try {
        out.set(name, make(spec, `policies.${kind}.${name}`))
      } catch (error) {
        problems.push((error as Error).message)
      }
    }
    return out
  }
  return {
    timeouts: parse(policies.timeouts, 'timeouts', (d, where) => durationOf(d, 0, where)),
    retries: parse(policies.retries, 'retries', (s, where) => new RetryRule(s, where)),
    breakers: parse(policies.circuitBreakers, 'circuitBreakers', (s, where) => new BreakerSettings(s, where)),
    bulkheads: parse(policies.bulkheads, 'bulkheads', (s, where) => new BulkheadSettings(s, where)),
    rateLimits: parse(policies.rateLimits, 'rateLimits', (s, where) => new RateLimitSettings(s, where)),
    fallbacks: parse(policies.fallbacks, 'fallbacks', (s, where) => new Fallback(s, where)),
    hedging: parse(policies.hedging, 'hedging', (s, where) => new HedgingSettings(s, where)),
  }
}

/** Every policy a target names must exist (with the kind it is named as). */
function checkTargets(targets: Record<string, ServiceTarget>, named: Named, problems: string[]): void {
  const outboundKinds: Record<(typeof OUTBOUND_KEYS)[number], [Map<string, unknown>, string]> = {
    timeout: [named.timeouts, 'timeouts'],
    retry: [named.retries, 'retries'],
    circuitBreaker: [named.breakers, 'circuitBreakers'],
    bulkhead: [named.bulkheads, 'bulkheads'],
    fallback: [named.fallbacks, 'fallbacks'],
    hedging: [named.hedging, 'hedging'],
  }
  const check = (where: string, map: Map<string, unknown>, kind: string, name: unknown) => {
    if (typeof name !== 'string' || !map.has(name)) {
      const known = [...map.keys()]
      problems.push(
        `${where}: no ${kind} policy named ${JSON.stringify(name)}${known.length ? ` (known: ${known.join(', ')})` : ''}`,
      )
    }
  }
  const outbound = (where: string, names: OutboundNames | undefined) => {
    if (names === undefined) return
    for (const key of OUTBOUND_KEYS) {
      if (names[key] !== undefined)
        check(`${where}.${key}`, outboundKinds[key][0], outboundKinds[key][1], names[key])
    }
  }
  const inbound = (where: string, names: InboundNames | undefined) => {
    if (names === undefined) return
    if (names.bulkhead !== undefined) check(`${where}.bulkhead`, named.bulkheads, 'bulkheads', names.bulkhead)
    const limits =
      names.rateLimit === undefined
        ? []
        : Array.isArray(names.rateLimit)
          ? names.rateLimit
          : [names.rateLimit]
    for (const limit of limits) check(`${where}.rateLimit`, named.rateLimits, 'rateLimits', limit)
  }
  if (typeof targets !== 'object' || targets === null) {
    problems.push('targets.services must be a table of services')
    return
  }
  for (const [service, target] of Object.entries(targets)) {
    const where = `targets.services.${service}`
    outbound(where, target)
    for (const [endpoint, names] of Object.entries(target.endpoints ?? {}))
      outbound(`${where}.endpoints.${endpoint}`, names)
    inbound(`${where}.inbound`, target.inbound)
    for (const [endpoint, names] of Object.entries(target.inbound?.endpoints ?? {})) {
      inbound(`${where}.inbound.endpoints.${endpoint}`, names)
    }
  }
}
