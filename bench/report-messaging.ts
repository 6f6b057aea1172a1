/** Tables of the durable-stream and store phases. */
import type { DurableSummary } from './durable.js'
import { table } from './report.js'
import { formatFixed, formatInt, formatRatio } from './stats.js'
import type { StoreResult } from './store.js'

/**
 * One row per system: median publish and consume rates, CPU per event of the process and
 * of the engine, every round's consume rate, and what was left unacknowledged.
 */
export function durableTable(rows: DurableSummary[], engine = 'engine'): string {
  const us = (v: { client: number; engine: number }) =>
    `${formatFixed(v.client, 1)}/${formatFixed(v.engine, 1)}`
  return table(
    [
      'system',
      'publish ev/s',
      'consume+ack ev/s',
      'first event ms',
      `CPU µs/ev publish cli/${engine}`,
      `CPU µs/ev consume cli/${engine}`,
      'other CPU%',
      'consume ev/s per round',
      'unacked',
    ],
    rows.map((r) => [
      r.system,
      formatInt(r.publishRate),
      formatInt(r.consumeRate),
      formatFixed(r.firstMs, 1),
      us(r.publishUs),
      us(r.consumeUs),
      formatInt(100 * r.otherCpu),
      r.rounds.map((x) => formatInt(x.consume.rate)).join(' '),
      String(r.unacked),
    ]),
  )
}

/** One row per case: median ops/s, the ratio to bare ioredis where there is one, every round. */
export function storeTable(result: StoreResult): string {
  return table(
    ['case', 'ops/s', 'vs bare', 'ops/s per round'],
    result.rows.map((r) => [
      r.name,
      formatInt(r.opsPerSec),
      r.bare === undefined ? '' : formatRatio(r.opsPerSec / r.bare),
      r.rounds.map((x) => formatInt(x)).join(' '),
    ]),
  )
}
