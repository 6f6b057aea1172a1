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

/** `features.metrics`: the service's own metrics, served with the built-in ones. */
export interface MetricsApi {
  counter(name: string, help: string): Counter
  gauge(name: string, help: string): Gauge
  histogram(name: string, help: string, buckets?: readonly number[]): Histogram
  /** Everything in the Prometheus text format (what /metrics serves). */
  text(): string
  /** Where the metrics listener serves, once started (undefined when they are on the http kind). */
  readonly address: string | undefined
}
