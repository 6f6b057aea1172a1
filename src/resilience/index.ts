/**
 * Resilience policies (timeouts, retries, circuit breakers, bulkheads, rate limits,
 * fallbacks, hedged requests), named and applied per target as Dapr's resiliency spec
 * does; declared in code, in a service.toml `[resilience]` table or in a platform file.
 * @module micro-ts/resilience
 */
export { Bulkhead } from './bulkhead.js'
export { CircuitBreaker } from './circuit-breaker.js'
export { isRefusedHere, retryAfterMs } from './codes.js'
export { LatencyHistogram } from './latency.js'
export { loadResiliencePolicies } from './load.js'
export type {
  BulkheadSpec,
  CircuitBreakerSpec,
  Duration,
  FallbackSpec,
  HedgingSpec,
  InboundNames,
  OutboundNames,
  PolicySpecs,
  RateLimitSpec,
  ResilienceSpec,
  RetrySpec,
  ServiceTarget,
  TargetSpecs,
} from './policy.js'
export {
  type InboundPolicies,
  type OutboundPolicies,
  Resilience,
  ResilienceConfigError,
} from './resilience.js'
export { resilienceWrapper } from './server-wrapper.js'
