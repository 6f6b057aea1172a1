/** The targets of phase 10 (scale), checked against one run's results. */
import { check, type TargetCheck } from './report.js'
import type { ScaleResults } from './run-scale.js'
import { formatFixed } from './stats.js'

/** Stands for "some calls failed" where a latency is expected (a finite number, so it fails). */
const FAILED_CALLS = 1e12

/** The largest size measured for a registry. */
function largest(results: ScaleResults, registry: string) {
  return results.scale.filter((r) => r.registry === registry).sort((a, b) => b.services - a.services)[0]
}

/** Every phase 10 target with its measured value and verdict. */
export function scaleChecks(results: ScaleResults): TargetCheck[] {
  const ms = (v: number) => `${formatFixed(v, 3)} ms`
  const checks: TargetCheck[] = []
  for (const registry of ['memory', 'nats']) {
    const row = largest(results, registry)
    const at = row ? `${row.services.toLocaleString('en-US')} services` : '1,000 services'
    checks.push(
      check(`${registry} registry, ${at}: cached lookup p99 <= 1 ms`, row?.cached.p99Ms, { max: 1 }, ms),
    )
    checks.push({
      ...check(`${registry} registry, ${at}: uncached lookup p50`, row?.lookup.p50Ms, {}, ms),
      pass: undefined,
    })
    checks.push({
      ...check(`${registry} registry, ${at}: watch propagation p99`, row?.watch.p99Ms, {}, ms),
      pass: undefined,
    })
    checks.push(
      check(
        `${registry} registry, ${at}: every change reaches the watcher and the cache`,
        row === undefined ? undefined : row.stale + row.missed,
        { max: 0 },
        (v) => (v === 0 ? 'all' : `${v} missed or stale`),
      ),
    )
  }
  const idle = results.idle.find((r) => r.peers === Math.max(...results.idle.map((x) => x.peers)))
  checks.push({
    ...check(
      `mDNS: idle service CPU among ${idle?.peers ?? 50} peers`,
      idle?.cpu,
      {},
      (v) => `${formatFixed(v * 100, 2)}% of a core`,
    ),
    pass: undefined,
  })
  const window = (name: string) => results.flood.find((r) => r.window === name)
  const one = window('one forged packet')
  const flood = window('flood')
  checks.push(
    check('mDNS: one forged 4 KiB packet: slowest call < 300 ms', one?.latency.maxMs, { below: 300 }, ms),
  )
  checks.push(
    check(
      `mDNS: ${flood?.forged ?? 50} forged packets at 10/s: no call stalls (slowest < 300 ms, no errors)`,
      flood === undefined ? undefined : flood.errors > 0 ? FAILED_CALLS : flood.latency.maxMs,
      { below: 300 },
      (v) => (v === FAILED_CALLS ? `${flood?.errors} calls failed` : ms(v)),
    ),
  )
  return checks.map((c) => ({ ...c, phase: 10 }))
}
