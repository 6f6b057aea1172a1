/** How the gateway reports what it serves. Swap in another implementation (prom-client) through the options. */
export interface GatewayMetrics {
  /**
   * One request answered. `service` and `endpoint` are the resolved target when it exists
   * in the registry, `-` otherwise (so unknown paths cannot grow the label set).
   */
  request(service: string, endpoint: string, status: number, seconds: number): void
  /** A WebSocket or SSE stream opened (+1) or closed (-1). */
  streams(kind: 'websocket' | 'sse', delta: number): void
  /** Everything in the Prometheus text format, for `/metrics`. */
  text(): string
}

/** Latency buckets, seconds. */
const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

interface Series {
  codes: Map<number, number>
  /** Per-bucket counts (not cumulative); the last is +Inf. */
  buckets: Float64Array
  sum: number
  count: number
}

/**
 * The gateway's built-in metrics: a request counter by service, endpoint and status code,
 * a latency histogram by service and endpoint, and open streams by kind. Recording costs
 * two map lookups on strings the route already holds, and no allocation once a series
 * exists.
 */
export class BuiltinGatewayMetrics implements GatewayMetrics {
  readonly #series = new Map<string, Map<string, Series>>()
  readonly #streams = { websocket: 0, sse: 0 }

  request(service: string, endpoint: string, status: number, seconds: number): void {
    let byEndpoint = this.#series.get(service)
    if (byEndpoint === undefined) {
      byEndpoint = new Map()
      this.#series.set(service, byEndpoint)
    }
    let series = byEndpoint.get(endpoint)
    if (series === undefined) {
      series = { codes: new Map(), buckets: new Float64Array(BOUNDS.length + 1), sum: 0, count: 0 }
      byEndpoint.set(endpoint, series)
    }
    series.codes.set(status, (series.codes.get(status) ?? 0) + 1)
    let i = 0
    while (i < BOUNDS.length && seconds > (BOUNDS[i] as number)) i++
    series.buckets[i] = (series.buckets[i] as number) + 1
    series.sum += seconds
    series.count++
  }

  streams(kind: 'websocket' | 'sse', delta: number): void {
    this.#streams[kind] += delta
  }

  text(): string {
    const counts: string[] = []
    const histogram: string[] = []
    for (const [service, byEndpoint] of this.#series) {
      for (const [endpoint, series] of byEndpoint) {
        const labels = `service="${labelValue(service)}",endpoint="${labelValue(endpoint)}"`
        for (const [code, n] of series.codes)
          counts.push(`micro_gateway_requests_total{${labels},code="${code}"} ${n}`)
        let cumulative = 0
        for (let i = 0; i <= BOUNDS.length; i++) {
          cumulative += series.buckets[i] as number
          const le = i < BOUNDS.length ? String(BOUNDS[i]) : '+Inf'
          histogram.push(`micro_gateway_request_duration_seconds_bucket{${labels},le="${le}"} ${cumulative}`)
        }
        histogram.push(`micro_gateway_request_duration_seconds_sum{${labels}} ${series.sum}`)
        histogram.push(`micro_gateway_request_duration_seconds_count{${labels}} ${series.count}`)
      }
    }
    return [
      '# HELP micro_gateway_requests_total Requests the gateway answered, by target and HTTP status.',
      '# TYPE micro_gateway_requests_total counter',
      ...counts,
      '# HELP micro_gateway_request_duration_seconds Time from request to answer, by target.',
      '# TYPE micro_gateway_request_duration_seconds histogram',
      ...histogram,
      '# HELP micro_gateway_streams_open WebSocket and SSE streams open now.',
      '# TYPE micro_gateway_streams_open gauge',
      `micro_gateway_streams_open{kind="websocket"} ${this.#streams.websocket}`,
      `micro_gateway_streams_open{kind="sse"} ${this.#streams.sse}`,
      '',
    ].join('\n')
  }
}

function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}
