import type { MicroError } from '../errors/errors.js'

/**
 * Resilience policies, named and applied to targets, in the shape of Dapr's resiliency
 * spec: `policies` declares them by kind and name, `targets` says which service (and
 * endpoint) uses which. The same object comes from code, from a service.toml `[resilience]`
 * table or from a platform file (`loadResiliencePolicies`). Durations are milliseconds or
 * strings (`"500ms"`, `"2s"`).
 */
export interface ResilienceSpec {
  policies?: PolicySpecs
  targets?: TargetSpecs
}

/** A duration: milliseconds, or a string such as `"250ms"`, `"5s"`, `"1m"`. */
export type Duration = number | string

/** Named policies (timeouts, retries, circuit breakers, bulkheads, rate limits, fallbacks, hedging), referred to by name from the targets. */
export interface PolicySpecs {
  /** Whole-call timeouts (the call's deadline, retries and hedges included), by name. */
  timeouts?: Record<string, Duration>
  retries?: Record<string, RetrySpec>
  circuitBreakers?: Record<string, CircuitBreakerSpec>
  bulkheads?: Record<string, BulkheadSpec>
  rateLimits?: Record<string, RateLimitSpec>
  fallbacks?: Record<string, FallbackSpec>
  hedging?: Record<string, HedgingSpec>
}

/** Retries (Dapr's `retries`): constant or exponential back-off, bounded, matching on codes. */
export interface RetrySpec {
  /** `exponential` (default: doubling with full jitter) or `constant`. */
  policy?: 'constant' | 'exponential'
  /** The constant interval, or the first exponential one. Default 50 ms. */
  duration?: Duration
  /** Longest exponential interval. Default 2 s. */
  maxInterval?: Duration
  /** Attempts after the first; -1 retries until the deadline. Default 3. */
  maxRetries?: number
  /**
   * Errors to retry: micro codes (`503`, or ranges `"500-599"`) and gRPC status names
   * (`UNAVAILABLE`). Default 429, 502, 503, 504. A call is retried only when it is known not
   * to have run (never sent, or refused with 429/503) or its endpoint is idempotent.
   */
  matching?: { codes?: (number | string)[]; grpcCodes?: (number | string)[] }
}

/** A circuit breaker (Dapr's `circuitBreakers`), per endpoint or per node. */
export interface CircuitBreakerSpec {
  /** `endpoint` (default): one breaker per service endpoint; `node`: one per node of the service. */
  scope?: 'endpoint' | 'node'
  /** Trip after this many failures in a row. Default 5 (when no ratio is set). */
  consecutiveFailures?: number
  /** Or trip when this share of calls in `interval` failed (with at least `minRequests`). */
  failureRatio?: number
  minRequests?: number
  /** The window the ratio counts over. Default 10 s. */
  interval?: Duration
  /** Dapr's condition, e.g. `"consecutiveFailures > 5"` (an alternative to `consecutiveFailures`). */
  trip?: string
  /** How long it stays open before letting probes through. Default 5 s (Dapr: `timeout`). */
  timeout?: Duration
  /** Probes let through half-open; that many successes close it. Default 1 (Dapr: `maxRequests`). */
  maxRequests?: number
  /** What counts as a failure: codes (default 408, 500, 502, 503, 504, and calls that never arrived or were lost). */
  codes?: (number | string)[]
}

/** A bulkhead: at most `maxConcurrent` calls at once, `maxQueue` waiting, 503 beyond. */
export interface BulkheadSpec {
  maxConcurrent: number
  /** Calls that may wait for a slot. Default 0. */
  maxQueue?: number
  /** Longest wait in the queue (also bounded by the call's deadline). Default 1 s. */
  queueTimeout?: Duration
}

/** A token bucket: `rate` calls per `per`, bursts up to `burst`; 429 beyond. */
export interface RateLimitSpec {
  rate: number
  /** Default 1 s. */
  per?: Duration
  /** Default `rate`. */
  burst?: number
  /** `endpoint` (default): one bucket for all callers; `caller`: one per caller (`micro-caller`, else the address). */
  scope?: 'endpoint' | 'caller'
}

/**
 * What a failed call returns instead of its error. In code a function; in a file a fixed
 * `value`. `codes` limits it to those errors (default: any).
 */
export interface FallbackSpec {
  /** Returns what the call answers instead of the error. */
  fn?: (error: MicroError, call: { service: string; endpoint: string; request: unknown }) => unknown
  value?: unknown
  codes?: (number | string)[]
}

/** Hedged requests: for idempotent endpoints, a second attempt to another node when the first is slow. */
export interface HedgingSpec {
  /**
   * When to send the next attempt: `"p95"` (default; the endpoint's observed 95th
   * percentile latency, or `initialDelay` until enough calls were seen), another
   * percentile (`"p99"`), or a fixed duration.
   */
  delay?: Duration
  /** The delay before enough latencies are known. Default 10 ms. */
  initialDelay?: Duration
  /** Attempts in flight at most, the first included. Default 2. */
  maxAttempts?: number
}

/** Policy names for calls to a service or endpoint (outbound, in the client). */
export interface OutboundNames {
  timeout?: string
  retry?: string
  circuitBreaker?: string
  bulkhead?: string
  fallback?: string
  hedging?: string
}

/** Policy names for calls a service serves (inbound, a server wrapper). */
export interface InboundNames {
  bulkhead?: string
  /** One limit, or several (an endpoint-wide one and a per-caller one, say). */
  rateLimit?: string | string[]
}

/** One target service: its outbound policies, per endpoint overrides, and what it applies to calls it serves. */
export interface ServiceTarget extends OutboundNames {
  endpoints?: Record<string, OutboundNames>
  inbound?: InboundNames & { endpoints?: Record<string, InboundNames> }
}

/** Which named policies apply where: by service, endpoint, and inbound (calls the service serves). */
export interface TargetSpecs {
  /** By service name; `"*"` applies to every service without its own entry. */
  services?: Record<string, ServiceTarget>
}
