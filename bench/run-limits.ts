/**
 * Phases 8 and 9 of `npm run bench`, run only when BENCH_PHASES names them:
 *
 * 8. What the port limits cost: phase 2's micro-ts remote call with the limits on (the
 *    defaults) and off (`MICRO_SERVER_LIMITS=off` in the server), rounds interleaved; the
 *    target is on/off >= 0.97 at 64 in flight.
 * 9. Server memory under two attacks on one connection (many streams, many pending calls),
 *    limits on and off.
 */
import { type AttackResult, runAttack } from './attacks.js'
import { type RemoteResult, type RemoteSummary, remotePair, runPair, summarizeRounds } from './remote.js'
import { check, remoteTable, type TargetCheck, table } from './report.js'
import { attempt, checkQuiet } from './session.js'
import { formatFixed, formatInt } from './stats.js'
import { at64, fmtX, ratio } from './targets.js'

export interface LimitsConfig {
  limitsCost: { concurrency: number[]; warmupMs: number; durationMs: number; rounds: number }
}

export interface LimitsResults {
  limitsCost: RemoteSummary[]
  attacks: AttackResult[]
}

const ON = 'micro-ts limits on'
const OFF = 'micro-ts limits off'

export async function runLimits(config: LimitsConfig, phases: Set<number>): Promise<LimitsResults> {
  const results: LimitsResults = { limitsCost: [], attacks: [] }
  if (phases.has(8)) results.limitsCost = await costPhase(config.limitsCost)
  if (phases.has(9)) results.attacks = await attackPhase()
  return results
}

/** The limits-cost target, when phase 8 ran. */
export function limitsChecks(results: LimitsResults): TargetCheck[] {
  if (results.limitsCost.length === 0) return []
  const cost = ratio(at64(results.limitsCost, ON)?.rps, at64(results.limitsCost, OFF)?.rps)
  return [{ ...check('remote, 64 in flight: limits on >= 0.97x limits off', cost, { min: 0.97 }), phase: 8 }]
}

/** The largest share of a core other processes used in a measured window of phase 8. */
export function limitsNoise(results: LimitsResults): Record<string, number> {
  if (results.limitsCost.length === 0) return {}
  const finite = (v: number) => (Number.isFinite(v) ? v : 0)
  return { 'limits cost': Math.max(0, ...results.limitsCost.map((r) => finite(r.otherCpu))) }
}

async function costPhase(c: LimitsConfig['limitsCost']): Promise<RemoteSummary[]> {
  console.log(
    `\n8. Cost of the port limits: micro-ts remote call with the server's limits on (defaults) and off, ` +
      `${c.concurrency.join(' and ')} in flight, ${c.rounds} interleaved round(s), medians`,
  )
  await checkQuiet('phase 8')
  const rounds: RemoteResult[] = []
  for (let round = 1; round <= c.rounds; round++) {
    for (const [system, off] of [
      [ON, false],
      [OFF, true],
    ] as const) {
      const result = await attempt(`${system} round ${round}`, async () => {
        const pair = await remotePair('micro-ts')
        if (off) pair.env.MICRO_SERVER_LIMITS = 'off'
        return runPair({ ...pair, system }, c)
      })
      if (result) rounds.push(result)
    }
  }
  const rows = summarizeRounds(rounds)
  console.log(remoteTable(rows))
  for (const level of c.concurrency) {
    const on = rows.find((r) => r.system === ON && r.concurrency === level)
    const off = rows.find((r) => r.system === OFF && r.concurrency === level)
    console.log(`  at ${level} in flight: limits on/off ${fmtX(ratio(on?.rps, off?.rps))}`)
  }
  return rows
}

async function attackPhase(): Promise<AttackResult[]> {
  console.log(
    '\n9. Server memory under attack on one connection: 40 streams x 255 messages of 64 KiB to a handler ' +
      'that never reads; 100 000 unary calls to a handler that never answers. Limits on (defaults) and off.',
  )
  await checkQuiet('phase 9')
  const results: AttackResult[] = []
  for (const attack of ['many streams', 'pending calls'] as const) {
    for (const limits of ['on', 'off'] as const) {
      const result = await attempt(`attack ${attack}, limits ${limits}`, () => runAttack(attack, limits))
      if (result) results.push(result)
    }
  }
  console.log(
    table(
      ['attack', 'limits', 'server took MiB', 'server RSS growth MiB', 'refused calls'],
      results.map((r) => [
        r.attack,
        r.limits,
        formatFixed(r.sentMiB, 1),
        formatFixed(r.rssGrowthMiB, 1),
        formatInt(r.refused),
      ]),
    ),
  )
  return results
}
