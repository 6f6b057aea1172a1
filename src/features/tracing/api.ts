/** A carrier of trace context: call metadata, HTTP headers, message headers. */
export type Carrier = Record<string, string | undefined>

/**
 * `features.tracing`: W3C trace context for the current request, and the seam for
 * transports the feature does not wrap itself (publishes, other protocols).
 */
export interface TracingApi {
  /** The trace id of the current request, if one is being traced. */
  traceId(): string | undefined
  /** The `traceparent` of the current span, if any. */
  traceparent(): string | undefined
  /** Write the current context (`traceparent`, `tracestate`) into `carrier` and return it: call it before publishing. */
  inject<C extends Carrier>(carrier: C): C
  /** Run `fn` in a new span that continues the context found in `carrier` (a received message's headers). */
  continueFrom<T>(carrier: Carrier, name: string, fn: () => T): T
  /** Run `fn` in a new child span of the current one (or a new trace). */
  span<T>(name: string, fn: () => T): T
}
