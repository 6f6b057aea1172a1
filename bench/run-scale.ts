/**
 * Phase 10 of `npm run bench` (alone: BENCH_PHASES=10): how the registry scales. Lookups and
 * watch propagation at 10, 100 and 1,000 services (memory and NATS registries), a service's
 * idle CPU among 0, 10 and 50 mDNS peers, and call latency while forged mDNS packets arrive.
 * Prints a table per part and how each measure grows from the smallest size to the largest.
 */
import type { Engines } from './engines.js'
import { table } from './report.js'
import { measureScale, type ScaleConfig, type ScaleRegistry, type ScaleRow } from './scale.js'
import { type FloodRow, type IdleRow, type MdnsScaleConfig, measureFlood, measureIdle } from './scale-mdns.js'
import { attempt, checkQuiet } from './session.js'
import { formatFixed, formatInt } from './stats.js'

export interface ScaleResults {
  scale: ScaleRow[]
  idle: IdleRow[]
  flood: FloodRow[]
}

export type ScalePhaseConfig = ScaleConfig & MdnsScaleConfig

/** Run phase 10 when selected. */
export async function runScale(
  c: ScalePhaseConfig,
  phases: Set<number>,
  engines: Engines,
): Promise<ScaleResults> {
  const out: ScaleResults = { scale: [], idle: [], flood: [] }
  if (!phases.has(10)) return out
  console.log(
    `\n8. Scale: registry lookups and watch propagation at ${c.services.join(', ')} services of ${c.nodes} nodes ` +
      `(memory, and NATS at ${engines.nats}); idle CPU among ${c.peers.join(', ')} mDNS peers; calls under forged mDNS packets`,
  )
  await checkQuiet('phase 10')
  for (const kind of ['memory', 'nats'] as ScaleRegistry[]) {
    for (const services of c.services) {
      const row = await attempt(`scale ${kind} ${services}`, () =>
        measureScale(kind, services, c, engines.nats),
      )
      if (row) out.scale.push(row)
    }
  }
  console.log(scaleTable(out.scale))
  for (const kind of ['memory', 'nats'] as ScaleRegistry[]) console.log(growth(out.scale, kind))
  console.log(
    `  uncached: getService/listServices on the registry (NATS: one query, answers gathered until 50 ms pass without one); ` +
      `cached: RegistryCache.getService with all services cached (one watch each); ` +
      `watch: a node changes in the registrar (NATS: another process) until a watcher here sees it`,
  )

  for (const peers of c.peers) {
    const row = await attempt(`idle among ${peers} mdns peers`, () => measureIdle(peers, c))
    if (row) out.idle.push(row)
  }
  console.log(
    table(
      ['mDNS peers', 'idle CPU % of a core', 'RSS MB'],
      out.idle.map((r) => [String(r.peers), formatFixed(r.cpu * 100, 2), formatFixed(r.rssMb, 1)]),
    ),
  )
  console.log(
    `  one Greeter service idling ${c.idleMs / 1000} s among peers renewing every 10 s (${c.peersPerProcess} to a process, ` +
      `each with its own socket), on a private group port; CPU from /proc at 10 ms resolution`,
  )

  const flood = await attempt('calls under forged mdns packets', () => measureFlood(c))
  if (flood) {
    out.flood = flood
    console.log(
      table(
        ['window', 'forged packets', 'calls', 'p50 ms', 'p99 ms', 'max ms', 'errors'],
        flood.map((r) => [
          r.window,
          String(r.forged),
          formatInt(r.latency.samples),
          formatFixed(r.latency.p50Ms, 3),
          formatFixed(r.latency.p99Ms, 3),
          formatFixed(r.latency.maxMs, 1),
          String(r.errors),
        ]),
      ),
    )
    console.log(
      `  sequential calls from this process to a Greeter in another, both on the group; forged: 4 KiB deflating to ` +
        `4 MiB of "[", sent from the group port, then ${c.floodPerSecond}/s for ${c.floodSeconds} s`,
    )
  }
  return out
}

function scaleTable(rows: ScaleRow[]): string {
  const ms = (v: number) => formatFixed(v, 3)
  return table(
    [
      'registry',
      'services',
      'nodes',
      'register ms',
      'lookup p50/p99 ms',
      'list p50 ms',
      'cached p50/p99 ms',
      'watch p50/p99 ms',
      'stale',
      'missed',
    ],
    rows.map((r) => [
      r.registry,
      formatInt(r.services),
      formatInt(r.services * r.nodes),
      formatFixed(r.registerMs, 1),
      `${ms(r.lookup.p50Ms)}/${ms(r.lookup.p99Ms)}`,
      ms(r.list.p50Ms),
      `${ms(r.cached.p50Ms)}/${ms(r.cached.p99Ms)}`,
      `${ms(r.watch.p50Ms)}/${ms(r.watch.p99Ms)}`,
      String(r.stale),
      String(r.missed),
    ]),
  )
}

/** One line per registry: each measure at the largest size over the smallest. */
function growth(rows: ScaleRow[], kind: ScaleRegistry): string {
  const mine = rows.filter((r) => r.registry === kind).sort((a, b) => a.services - b.services)
  const first = mine[0]
  const last = mine[mine.length - 1]
  if (!first || !last || first === last) return `  ${kind}: not enough sizes measured to show growth`
  const x = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(1)}x` : 'n/a')
  return (
    `  ${kind}, ${first.services} -> ${last.services} services (${x(last.services, first.services)}): ` +
    `register ${x(last.registerMs, first.registerMs)}, lookup p50 ${x(last.lookup.p50Ms, first.lookup.p50Ms)}, ` +
    `list p50 ${x(last.list.p50Ms, first.list.p50Ms)}, cached p99 ${x(last.cached.p99Ms, first.cached.p99Ms)}, ` +
    `watch p50 ${x(last.watch.p50Ms, first.watch.p50Ms)}`
  )
}
