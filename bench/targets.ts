/** The performance targets of DESIGN.md, checked against one run's results. */
import type { InProcessCase, InProcessSummary } from './inprocess.js'
import type { RemoteSummary } from './remote.js'
import { check, type TargetCheck } from './report.js'
import type { StartupResult, StartupSystem } from './startup.js'
import { formatFixed } from './stats.js'

export interface Results {
  inProcess: InProcessSummary[]
  remote: RemoteSummary[]
  startup: StartupResult[]
}

/** `a / b`, undefined when either is missing. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b
}

/** A ratio as `1.23x`, `n/a` when missing. */
export function fmtX(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? 'n/a' : `${v.toFixed(2)}x`
}

/** The remote row of a system at 64 in flight, the level the targets are set at. */
export function at64(remote: RemoteSummary[], system: string): RemoteSummary | undefined {
  return remote.find((r) => r.system === system && r.concurrency === 64)
}

/** In-process ops/s of a case. */
export function opsOf(inProcess: InProcessSummary[], which: InProcessCase): number | undefined {
  return inProcess.find((r) => r.case === which)?.opsPerSec
}

/**
 * Every target with its measured value and verdict. Informational lines (pass undefined)
 * sit next to the targets they explain.
 */
export function targetChecks({ inProcess, remote, startup }: Results): TargetCheck[] {
  const micro = at64(remote, 'micro-ts')
  const moleculer = at64(remote, 'moleculer')
  const bare = at64(remote, 'bare')
  const start = (s: StartupSystem) => startup.find((r) => r.system === s)?.median
  const ms = (v: number | undefined) => formatFixed(v ?? Number.NaN, 3)
  const mb = (v: number | undefined) => formatFixed(v ?? Number.NaN, 1)
  const phases = [1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
  const checks: TargetCheck[] = [
    check(
      'in-process call: micro-ts >= 2x Moleculer',
      ratio(opsOf(inProcess, 'micro-call'), opsOf(inProcess, 'moleculer')),
      { min: 2 },
    ),
    {
      ...check(
        'in-process typed proxy vs Moleculer',
        ratio(opsOf(inProcess, 'micro-proxy'), opsOf(inProcess, 'moleculer')),
        {},
      ),
      pass: undefined,
    },
    check('remote, 64 in flight: micro-ts >= 2x Moleculer TCP', ratio(micro?.rps, moleculer?.rps), {
      min: 2,
    }),
    check('remote, 64 in flight: micro-ts >= 0.8x bare TCP', ratio(micro?.rps, bare?.rps), { min: 0.8 }),
    check('remote, 64 in flight: micro-ts p99 <= 2 ms', micro?.p99Ms, { max: 2 }, (v) => `${ms(v)} ms`),
    {
      ...check(
        'remote, 64 in flight: p99 micro-ts vs bare TCP, Moleculer',
        micro?.p99Ms,
        {},
        (v) => `${ms(v)} vs ${ms(bare?.p99Ms)}, ${ms(moleculer?.p99Ms)} ms`,
      ),
      pass: undefined,
    },
    check('idle RSS <= 50 MB', start('micro-ts')?.rssMb, { max: 50 }, (v) => `${mb(v)} MB`),
    {
      ...check(
        'idle RSS: micro-ts vs Moleculer',
        ratio(start('micro-ts')?.rssMb, start('moleculer')?.rssMb),
        {},
        (v) => `${mb(start('micro-ts')?.rssMb)} vs ${mb(start('moleculer')?.rssMb)} MB (${fmtX(v)})`,
      ),
      pass: undefined,
    },
    check(
      'start to serving < 150 ms (performance.now() when serving)',
      start('micro-ts')?.servingMs,
      { below: 150 },
      (v) => `${v.toFixed(1)} ms`,
    ),
    {
      ...check(
        'start to serving, spawn to ready line (wall)',
        start('micro-ts')?.wallMs,
        {},
        (v) => `${v.toFixed(1)} ms`,
      ),
      pass: undefined,
    },
  ]
  return checks.map((line, i) => ({ ...line, phase: phases[i] }))
}

/** Worst share of a core other processes used in any measured window, per phase. */
export function noiseOf({ inProcess, remote, startup }: Results): Record<string, number> {
  const finite = (v: number) => (Number.isFinite(v) ? v : 0)
  return {
    'in-process': Math.max(0, ...inProcess.map((r) => finite(r.otherCpu))),
    remote: Math.max(0, ...remote.map((r) => finite(r.otherCpu))),
    startup: Math.max(0, ...startup.map((r) => finite(r.median.otherCpu))),
  }
}
