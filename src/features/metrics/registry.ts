import type { Counter, Gauge, Histogram, Labels } from './api.js'

type Type = 'counter' | 'gauge' | 'histogram'

interface Series {
  labels: string
  value: number
  /** Histogram only: counts per bucket (not cumulative), then sum. */
  buckets?: number[]
  sum?: number
}

interface Family {
  name: string
  help: string
  type: Type
  bounds: readonly number[]
  series: Map<string, Series>
}

/** Prometheus' default buckets, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/**
 * Counters, gauges and histograms held in memory, written out in the Prometheus text
 * exposition format (version 0.0.4). Series are kept per distinct label set.
 */
export class MetricsRegistry {
  readonly #families = new Map<string, Family>()

  counter(name: string, help: string): Counter {
    const family = this.#family(name, help, 'counter')
    return {
      inc: (labels = {}, value = 1) => {
        if (value < 0) throw new RangeError(`counter ${name} cannot decrease`)
        this.#series(family, labels).value += value
      },
    }
  }

  gauge(name: string, help: string): Gauge {
    const family = this.#family(name, help, 'gauge')
    return {
      set: (labels, value) => {
        this.#series(family, labels).value = value
      },
      inc: (labels = {}, value = 1) => {
        this.#series(family, labels).value += value
      },
      dec: (labels = {}, value = 1) => {
        this.#series(family, labels).value -= value
      },
    }
  }

  histogram(name: string, help: string, buckets: readonly number[] = DEFAULT_BUCKETS): Histogram {
    const bounds = [...buckets].sort((a, b) => a - b)
    const family = this.#family(name, help, 'histogram', bounds)
    return {
      observe: (labels, value) => {
        const series = this.#series(family, labels)
        const i = family.bounds.findIndex((bound) => value <= bound)
        const slot = i === -1 ? family.bounds.length : i
        const counts = series.buckets as number[]
        counts[slot] = (counts[slot] ?? 0) + 1
        series.sum = (series.sum ?? 0) + value
        series.value++
      },
    }
  }

  /** Every metric in the Prometheus text format. */
  text(): string {
    const lines: string[] = []
    for (const family of this.#families.values()) {
      lines.push(`# HELP ${family.name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`)
      lines.push(`# TYPE ${family.name} ${family.type}`)
      for (const series of family.series.values()) {
        if (family.type !== 'histogram') {
          lines.push(`${family.name}${braces(series.labels)} ${number(series.value)}`)
          continue
        }
        let cumulative = 0
        const bounds = [...family.bounds, Number.POSITIVE_INFINITY]
        bounds.forEach((bound, i) => {
          cumulative += series.buckets?.[i] ?? 0
          const le = `le="${number(bound)}"`
          lines.push(
            `${family.name}_bucket${braces(series.labels ? `${series.labels},${le}` : le)} ${cumulative}`,
          )
        })
        lines.push(`${family.name}_sum${braces(series.labels)} ${number(series.sum ?? 0)}`)
        lines.push(`${family.name}_count${braces(series.labels)} ${series.value}`)
      }
    }
    return `${lines.join('\n')}\n`
  }

  #family(name: string, help: string, type: Type, bounds: readonly number[] = []): Family {
    if (!NAME.test(name)) throw new TypeError(`${name} is not a valid metric name`)
    const existing = this.#families.get(name)
    if (existing) {
      if (existing.type !== type) throw new TypeError(`metric ${name} is already a ${existing.type}`)
      return existing
    }
    const family: Family = { name, help, type, bounds, series: new Map() }
    this.#families.set(name, family)
    return family
  }

  #series(family: Family, labels: Labels): Series {
    const key = labelText(labels)
    let series = family.series.get(key)
    if (!series) {
      series = { labels: key, value: 0 }
      if (family.type === 'histogram') series.buckets = new Array(family.bounds.length + 1).fill(0)
      family.series.set(key, series)
    }
    return series
  }
}

function labelText(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((name) => {
      if (!LABEL.test(name)) throw new TypeError(`${name} is not a valid label name`)
      const value = String(labels[name]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
      return `${name}="${value}"`
    })
    .join(',')
}

function braces(labels: string): string {
  return labels ? `{${labels}}` : ''
}

function number(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return Number.isNaN(value) ? 'NaN' : String(value)
}
