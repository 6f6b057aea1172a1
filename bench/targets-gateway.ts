/** The gateway targets of DESIGN.md and the issue, checked against one run's phase 11. */
import { rowAt } from './remote.js'
import { check, type TargetCheck } from './report.js'
import type { GatewayResults } from './run-gateway.js'
import { formatFixed, formatInt, formatRatio } from './stats.js'
import { ratio } from './targets.js'

/** Every gateway target with its measured value and verdict (phase 11). */
export function gatewayChecks({ gateway }: GatewayResults, connections: number): TargetCheck[] {
  const micro = rowAt(gateway, 'micro-ts', connections)
  const moleculer = rowAt(gateway, 'moleculer-web', connections)
  const bare = rowAt(gateway, 'bare', connections)
  const rps = (v: number | undefined) => `${formatInt(v ?? Number.NaN)} req/s`
  const ms = (v: number | undefined) => formatFixed(v ?? Number.NaN, 3)
  const lines: TargetCheck[] = [
    check(
      `gateway, ${connections} connections: micro-ts >= 3x moleculer-web`,
      ratio(micro?.rps, moleculer?.rps),
      { min: 3 },
      (v) => `${formatRatio(v)} (${rps(micro?.rps)} vs ${rps(moleculer?.rps)})`,
    ),
    check(
      `gateway, ${connections} connections: micro-ts >= 0.5x bare node:http (one hop)`,
      ratio(micro?.rps, bare?.rps),
      { min: 0.5 },
      (v) => `${formatRatio(v)} (vs ${rps(bare?.rps)})`,
    ),
    check(
      `gateway, ${connections} connections: p99 micro-ts <= 2x bare node:http`,
      ratio(micro?.p99Ms, bare?.p99Ms),
      { max: 2 },
      (v) => `${ms(micro?.p99Ms)} vs ${ms(bare?.p99Ms)} ms (${formatRatio(v)})`,
    ),
  ]
  return lines.map((line) => ({ ...line, phase: 11 }))
}

/** Worst share of a core other processes used in a measured window of phase 11. */
export function gatewayNoise({ gateway }: GatewayResults): Record<string, number> {
  const shares = gateway.map((r) => (Number.isFinite(r.otherCpu) ? r.otherCpu : 0))
  return { gateway: Math.max(0, ...shares) }
}
