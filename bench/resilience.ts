/**
 * Phase 14 of `npm run bench`: resilience policies. (a) Their cost: the remote call bench
 * (micro-ts, 2 processes, TCP) with every policy on (timeout, retry, breaker, client and
 * server bulkheads, both rate limits, fallback, hedging; none of them ever acting) against
 * the same with none, interleaved in one run. (b) Hedged requests: three nodes of an
 * idempotent endpoint, one of them slow (50 ms on 10% of its calls), p99 with hedging at
 * the endpoint's p95 against without. The target compares them under random selection, so
 * the slow node gets its third of the calls as hedging alone would face it; the same under
 * the default least-in-flight selector, which already routes around a slow node, is shown
 * beside it.
 */
import { fileURLToPath } from 'node:url'
import { spawnFixture } from './children.js'
import type { LoadResult } from './load.js'
import {
  type RemoteResult,
  type RemoteSummary,
  remotePair,
  rowAt,
  runPair,
  summarizeRounds,
  uniqueName,
} from './remote.js'
import { check, remoteTable, type TargetCheck } from './report.js'
import { attempt, checkQuiet } from './session.js'
import { formatFixed } from './stats.js'
import { fmtX, ratio } from './targets.js'

/** Settings of phase 9 (durations in ms). */
export interface ResilienceConfig {
  concurrency: number[]
  warmupMs: number
  durationMs: number
  rounds: number
  /** Rounds of part (a): its target is 5%, and single rounds spread by more on shared cores. */
  policyRounds: number
  /** The hedging part: the slow node's share of slow calls and their delay. */
  slowShare: number
  slowMs: number
}

/** What phase 9 measured. */
export interface ResilienceResults {
  policies: RemoteSummary[]
  policiesRounds: RemoteResult[]
  hedging: RemoteSummary[]
  hedgingRounds: RemoteResult[]
}

const OFF = 'micro-ts'
const ON = 'micro-ts + policies'
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url))

/** Run phase 9 when selected. */
export async function runResilience(
  config: ResilienceConfig,
  phases: Set<number>,
): Promise<ResilienceResults> {
  const out: ResilienceResults = { policies: [], policiesRounds: [], hedging: [], hedgingRounds: [] }
  if (!phases.has(14)) return out
  const top = Math.max(...config.concurrency)
  console.log(
    `\n9. Resilience policies: (a) the remote call bench with every policy on vs none, (b) hedging with one of ` +
      `three nodes slow (${config.slowMs} ms on ${config.slowShare * 100}% of its calls); closed loop at ${top} in flight, ` +
      `${config.warmupMs / 1000} s warm-up + ${config.durationMs / 1000} s, ${config.policyRounds} and ${config.rounds} interleaved round(s), medians`,
  )
  await checkQuiet('phase 14')
  // (a) and (b) compare within themselves: each part interleaves its own rounds.
  for (let round = 1; round <= config.policyRounds; round++) {
    for (const [system, on] of [
      [OFF, '0'],
      [ON, '1'],
    ] as const) {
      const result = await attempt(`resilience ${system} round ${round}`, async () => {
        const pair = await remotePair('micro-ts')
        return runPair({ ...pair, system, env: { ...pair.env, BENCH_RESILIENCE: on } }, config)
      })
      if (result) out.policiesRounds.push(result)
    }
  }
  for (let round = 1; round <= config.rounds; round++) {
    for (const selector of ['random', 'least-in-flight'] as const) {
      for (const hedging of [false, true]) {
        const result = await attempt(`hedging ${hedging ? 'on' : 'off'} (${selector}) round ${round}`, () =>
          runHedged(hedging, selector, config),
        )
        if (result) out.hedgingRounds.push(result)
      }
    }
  }
  out.policies = summarizeRounds(out.policiesRounds)
  out.hedging = summarizeRounds(out.hedgingRounds)
  console.log(remoteTable(out.policies))
  const off = rowAt(out.policies, OFF, top)
  const on = rowAt(out.policies, ON, top)
  console.log(`  every policy on / none: ${fmtX(ratio(on?.rps, off?.rps))} req/s`)
  console.log(remoteTable(out.hedging, { roles: ['nodes', 'cli'] }))
  for (const selector of ['random', 'least-in-flight']) {
    const without = rowAt(out.hedging, hedgedName(false, selector), top)
    const withHedging = rowAt(out.hedging, hedgedName(true, selector), top)
    console.log(
      `  ${selector}: p99 without / with hedging: ${fmtX(ratio(without?.p99Ms, withHedging?.p99Ms))} ` +
        `(${formatFixed(without?.p99Ms ?? Number.NaN, 3)} vs ${formatFixed(withHedging?.p99Ms ?? Number.NaN, 3)} ms)`,
    )
  }
  return out
}

/** The row name of a hedging run. */
function hedgedName(hedging: boolean, selector: string): string {
  return `hedging ${hedging ? 'on' : 'off'}, ${selector}`
}

/** Three `hedged` nodes (the third one slow) and a client with hedging on or off. */
async function runHedged(
  hedging: boolean,
  selector: string,
  config: ResilienceConfig,
): Promise<RemoteResult> {
  const namespace = uniqueName('bench-hedge')
  const base = {
    BENCH_NAMESPACE: namespace,
    BENCH_CONCURRENCY: config.concurrency.join(','),
    BENCH_WARMUP_MS: String(config.warmupMs),
    BENCH_DURATION_MS: String(config.durationMs),
  }
  const servers = [0, 1, 2].map((i) =>
    spawnFixture(fixture('hedge-server'), {
      core: 0,
      env:
        i === 2
          ? { ...base, BENCH_SLOW_SHARE: String(config.slowShare), BENCH_SLOW_MS: String(config.slowMs) }
          : base,
    }),
  )
  try {
    await Promise.all(servers.map((s) => s.waitFor('ready', 15_000)))
    const client = spawnFixture(fixture('hedge-client'), {
      core: 1,
      env: { ...base, BENCH_HEDGING: hedging ? '1' : '0', MICRO_SELECTOR: selector },
    })
    try {
      const budget = config.concurrency.length * (config.warmupMs + config.durationMs) + 45_000
      const result = await client.waitFor('result', budget)
      if (result.data.hedging) {
        const { calls, hedges } = result.data.hedging as { calls: number; hedges: number }
        console.log(
          `  hedging: ${hedges} hedges for ${calls} calls (${((100 * hedges) / Math.max(1, calls)).toFixed(1)}%), delay now ${formatFixed(result.data.delayMs as number, 2)} ms`,
        )
      }
      const runs = (result.data.runs as LoadResult[]).map((run) => ({
        ...run,
        serverCpuMs: undefined,
        engineCpuMs: undefined,
        otherCpuMs: undefined,
      }))
      return { system: hedgedName(hedging, selector), runs }
    } finally {
      if (!(await client.exited(20_000))) await client.stop()
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
  }
}

/** The targets of phase 9. */
export function resilienceChecks({ policies, hedging }: ResilienceResults, level = 64): TargetCheck[] {
  const off = rowAt(policies, OFF, level)
  const on = rowAt(policies, ON, level)
  const without = rowAt(hedging, hedgedName(false, 'random'), level)
  const withHedging = rowAt(hedging, hedgedName(true, 'random'), level)
  const lifWithout = rowAt(hedging, hedgedName(false, 'least-in-flight'), level)
  const lifWith = rowAt(hedging, hedgedName(true, 'least-in-flight'), level)
  const ms = (v: number | undefined) => formatFixed(v ?? Number.NaN, 3)
  return [
    check(
      `every resilience policy on costs <= 5% (remote call, ${level} in flight)`,
      ratio(on?.rps, off?.rps),
      {
        min: 0.95,
      },
    ),
    check(
      'hedging cuts p99 >= 2x with one of three nodes slow (random selection)',
      ratio(without?.p99Ms, withHedging?.p99Ms),
      { min: 2 },
      (v) => `${ms(without?.p99Ms)} vs ${ms(withHedging?.p99Ms)} ms (${fmtX(v)})`,
    ),
    {
      target: 'the same under least-in-flight (it routes around the slow node itself)',
      measured: `${ms(lifWithout?.p99Ms)} vs ${ms(lifWith?.p99Ms)} ms (${fmtX(ratio(lifWithout?.p99Ms, lifWith?.p99Ms))})`,
      pass: undefined,
    },
  ].map((c) => ({ ...c, phase: 14 }))
}
