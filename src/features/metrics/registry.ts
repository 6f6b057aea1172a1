import {
  type Metric,
  Counter as PromCounter,
  Gauge as PromGauge,
  Histogram as PromHistogram,
  Registry,
} from 'prom-client'
import type { Counter, Gauge, Histogram, Labels } from './api.js'
import { processMetrics } from './process-metrics.js'

/** Prometheus' default buckets, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** The Prometheus text format (0.0.4) that `text()` writes. */
export const METRICS_CONTENT_TYPE: string = Registry.PROMETHEUS_CONTENT_TYPE

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/

type Type = 'counter' | 'gauge' | 'histogram'

interface Declared {
  type: Type
  labelNames: readonly string[] | undefined
  api: Counter | Gauge | Histogram
}

/**
 * One service's metrics on prom-client: the service's own counters, gauges and histograms
 * and the built-in request metrics (`add`), written out with the process metrics every
 * service of the process shares. Names and label names are checked once, when a metric is
 * made; an update costs what prom-client's costs.
 */
export class MetricsRegistry {
  readonly #own = new Registry()
  readonly #process = processMetrics()
  readonly #declared = new Map<string, Declared>()

  counter(name: string, help: string, labelNames?: readonly string[]): Counter {
    return this.#declare(name, 'counter', labelNames, () => {
      const metric = this.#lazy(name, labelNames, (names) => new PromCounter(this.#config(name, help, names)))
      return { inc: (labels = {}, value = 1) => metric.for(labels).inc(labels, value) }
    }) as Counter
  }

  gauge(name: string, help: string, labelNames?: readonly string[]): Gauge {
    return this.#declare(name, 'gauge', labelNames, () => {
      const metric = this.#lazy(name, labelNames, (names) => new PromGauge(this.#config(name, help, names)))
      return {
        set: (labels, value) => metric.for(labels).set(labels, value),
        inc: (labels = {}, value = 1) => metric.for(labels).inc(labels, value),
        dec: (labels = {}, value = 1) => metric.for(labels).dec(labels, value),
      }
    }) as Gauge
  }

  histogram(
    name: string,
    help: string,
    buckets: readonly number[] = DEFAULT_BUCKETS,
    labelNames?: readonly string[],
  ): Histogram {
    const bounds = upperBounds(name, buckets)
    return this.#declare(name, 'histogram', labelNames, () => {
      const metric = this.#lazy(
        name,
        labelNames,
        (names) => new PromHistogram({ ...this.#config(name, help, names), buckets: bounds }),
      )
      return { observe: (labels, value) => metric.for(labels).observe(labels, value) }
    }) as Histogram
  }

  /**
   * A metric micro-ts keeps (the request metrics), made with prom-client by `make` with the
   * `registers` it is given; its name is then taken.
   */
  add<M extends Metric>(name: string, make: (registers: Registry[]) => M): M {
    this.#checkFree(name)
    return make([this.#own])
  }

  /** Every metric, the process ones first, in the Prometheus text format. */
  async text(): Promise<string> {
    const [process, own] = await Promise.all([this.#process.metrics(), this.#own.metrics()])
    return own.trim() === '' ? process : `${process}\n${own}`
  }

  #declare(
    name: string,
    type: Type,
    labelNames: readonly string[] | undefined,
    make: () => Declared['api'],
  ): Declared['api'] {
    const existing = this.#declared.get(name)
    if (existing) {
      if (existing.type !== type) throw new TypeError(`metric ${name} is already a ${existing.type}`)
      if (labelNames && existing.labelNames && labelNames.join() !== existing.labelNames.join())
        throw new TypeError(`metric ${name} already has the labels ${existing.labelNames.join(', ')}`)
      return existing.api
    }
    if (!NAME.test(name)) throw new TypeError(`${name} is not a valid metric name`)
    for (const label of labelNames ?? []) checkLabel(label)
    this.#checkFree(name)
    const api = make()
    this.#declared.set(name, { type, labelNames, api })
    return api
  }

  #checkFree(name: string): void {
    if (this.#process.getSingleMetric(name) || this.#own.getSingleMetric(name))
      throw new TypeError(`metric ${name} is already served by micro-ts`)
  }

  #config(name: string, help: string, labelNames: readonly string[]) {
    return { name, help, labelNames: [...labelNames], registers: [this.#own] }
  }

  /**
   * A metric whose label names are fixed by its first update when they were not declared:
   * until then it is served without labels (a counter reads 0), then it is made again
   * with the names of that update's labels.
   */
  #lazy<M extends Metric>(
    name: string,
    declared: readonly string[] | undefined,
    make: (names: readonly string[]) => M,
  ) {
    let metric = make(declared ?? [])
    let open = declared === undefined
    const registry = this.#own
    return {
      for(labels: Labels): M {
        if (!open) return metric
        open = false
        const names = Object.keys(labels)
        if (names.length === 0) return metric
        for (const label of names) checkLabel(label)
        registry.removeSingleMetric(name)
        metric = make(names)
        return metric
      },
    }
  }
}

function checkLabel(label: string): void {
  if (!LABEL.test(label) || label.startsWith('__')) throw new TypeError(`${label} is not a valid label name`)
}

function upperBounds(name: string, buckets: readonly number[]): number[] {
  for (const bound of buckets) {
    if (!Number.isFinite(bound))
      throw new TypeError(`histogram ${name}: bucket ${bound} is not a finite number`)
  }
  return [...new Set(buckets)].sort((a, b) => a - b)
}
