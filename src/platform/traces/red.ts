import { LatencyHistogram } from './histogram.js'
import { endOf, endpointOf, isEntry } from './span-view.js'
import type { RedPoint, RedQuery, RedSeries, SpanRecord } from './types.js'

/** One bucket of one series. */
interface Cell {
  count: number
  errors: number
  latency: LatencyHistogram
}

interface Series {
  service: string
  endpoint: string
  cells: Map<number, Cell>
}

export interface RedOptions {
  /** Bucket width, ms. Default 10 s. */
  bucket?: number
  /** How much history is kept, ms. Default 15 min. */
  window?: number
  /** Distinct (service, endpoint) series kept; past it, new endpoints count as `(other)`. Default 2000. */
  maxSeries?: number
  now?: () => number
}

const OTHER = '(other)'

/**
 * Request rate, error rate and latency per service and endpoint, in fixed time buckets,
 * from the server and consumer spans as they arrive. Kept apart from the span buffer so
 * sparklines cover the whole window even when traffic evicts spans faster.
 */
export class RedAggregator {
  readonly bucket: number
  readonly window: number
  readonly #maxSeries: number
  readonly #now: () => number
  readonly #series = new Map<string, Series>()
  /** Spans not counted: too old, or past the series bound. */
  dropped = 0

  constructor(options: RedOptions = {}) {
    this.bucket = options.bucket ?? 10_000
    this.window = options.window ?? 15 * 60_000
    this.#maxSeries = options.maxSeries ?? 2000
    this.#now = options.now ?? Date.now
  }

  add(span: SpanRecord): void {
    if (!isEntry(span)) return
    const end = endOf(span)
    const oldest = this.#index(this.#now() - this.window)
    const index = this.#index(end)
    if (index < oldest) {
      this.dropped++
      return
    }
    const series = this.#seriesFor(span.service, endpointOf(span))
    if (!series) {
      this.dropped++
      return
    }
    let cell = series.cells.get(index)
    if (!cell) {
      cell = { count: 0, errors: 0, latency: new LatencyHistogram() }
      series.cells.set(index, cell)
      for (const old of series.cells.keys()) if (old < oldest) series.cells.delete(old)
    }
    cell.count++
    if (span.status === 'error') cell.errors++
    cell.latency.add(span.duration)
  }

  /** Series for the window, oldest bucket first, empty buckets included. */
  query(query: RedQuery = {}): RedSeries[] {
    const window = Math.min(query.window ?? this.window, this.window)
    const last = this.#index(this.#now())
    const first = this.#index(this.#now() - window) + 1
    this.#prune()
    const groups = new Map<string, { service: string; endpoint?: string; members: Series[] }>()
    for (const series of this.#series.values()) {
      if (query.service !== undefined && series.service !== query.service) continue
      const key = query.byEndpoint ? `${series.service}\u0000${series.endpoint}` : series.service
      let group = groups.get(key)
      if (!group) {
        group = { service: series.service, members: [] }
        if (query.byEndpoint) group.endpoint = series.endpoint
        groups.set(key, group)
      }
      group.members.push(series)
    }
    const out: RedSeries[] = []
    for (const group of groups.values()) {
      const points: RedPoint[] = []
      const all = { count: 0, errors: 0, latency: new LatencyHistogram() }
      for (let index = first; index <= last; index++) {
        const cell = { count: 0, errors: 0, latency: new LatencyHistogram() }
        for (const series of group.members) {
          const c = series.cells.get(index)
          if (!c) continue
          cell.count += c.count
          cell.errors += c.errors
          cell.latency.merge(c.latency)
        }
        all.count += cell.count
        all.errors += cell.errors
        all.latency.merge(cell.latency)
        points.push(point(index * this.bucket, cell, this.bucket))
      }
      const series: RedSeries = {
        service: group.service,
        points,
        total: point(first * this.bucket, all, (last - first + 1) * this.bucket),
      }
      if (group.endpoint !== undefined) series.endpoint = group.endpoint
      out.push(series)
    }
    return out.sort(
      (a, b) => a.service.localeCompare(b.service) || (a.endpoint ?? '').localeCompare(b.endpoint ?? ''),
    )
  }

  clear(): void {
    this.#series.clear()
    this.dropped = 0
  }

  /** Forget buckets past the window, and series left with none (a service long gone). */
  #prune(): void {
    const oldest = this.#index(this.#now() - this.window)
    for (const [key, series] of this.#series) {
      for (const index of series.cells.keys()) if (index < oldest) series.cells.delete(index)
      if (series.cells.size === 0) this.#series.delete(key)
    }
  }

  #index(time: number): number {
    return Math.floor(time / this.bucket)
  }

  #seriesFor(service: string, endpoint: string): Series | undefined {
    const key = `${service}\u0000${endpoint}`
    const found = this.#series.get(key)
    if (found) return found
    if (this.#series.size < this.#maxSeries) return this.#create(key, service, endpoint)
    // Full: the endpoint joins its service's (other); a flood of new services is bounded too.
    const otherKey = `${service}\u0000${OTHER}`
    const other = this.#series.get(otherKey)
    if (other) return other
    if (this.#series.size < this.#maxSeries + this.#maxSeries / 10)
      return this.#create(otherKey, service, OTHER)
    return undefined
  }

  #create(key: string, service: string, endpoint: string): Series {
    const series: Series = { service, endpoint, cells: new Map() }
    this.#series.set(key, series)
    return series
  }
}

function point(time: number, cell: Cell, span: number): RedPoint {
  return {
    time,
    count: cell.count,
    errors: cell.errors,
    rate: cell.count / (span / 1000),
    errorRate: cell.count === 0 ? 0 : cell.errors / cell.count,
    p50: cell.latency.quantile(0.5),
    p95: cell.latency.quantile(0.95),
    p99: cell.latency.quantile(0.99),
  }
}
