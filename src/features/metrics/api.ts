/** Label values by label name. */
export type Labels = Record<string, string | number>

/** A value that only goes up (requests, errors). */
export interface Counter {
  inc(labels?: Labels, value?: number): void
}

/** A value that goes up and down (in flight, queue length). */
export interface Gauge {
  set(labels: Labels, value: number): void
  inc(labels?: Labels, value?: number): void
  dec(labels?: Labels, value?: number): void
}

/** Observations counted in buckets (latencies, sizes). */
export interface Histogram {
  /** Record one observation (seconds, for durations). */
  observe(labels: Labels, value: number): void
}

/**
 * `features.metrics`: the service's own metrics, served with the built-in ones. A metric's
 * label names are `labelNames` when given, else the names of the labels its first update
 * passes (none: a metric without labels); a later update with another name throws.
 */
export interface MetricsApi {
  counter(name: string, help: string, labelNames?: readonly string[]): Counter
  gauge(name: string, help: string, labelNames?: readonly string[]): Gauge
  /** `buckets`: upper bounds, Prometheus' defaults (5 ms to 10 s) when not given. */
  histogram(
    name: string,
    help: string,
    buckets?: readonly number[],
    labelNames?: readonly string[],
  ): Histogram
  /** Everything in the Prometheus text format (what /metrics serves). */
  text(): Promise<string>
  /** Where the metrics listener serves, once started (undefined when they are on the http kind). */
  readonly address: string | undefined
}
