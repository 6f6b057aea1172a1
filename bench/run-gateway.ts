/**
 * Phase 11 of `npm run bench`: the gateway (HTTP -> RPC -> service) against moleculer-web and
 * a bare node:http server, interleaved rounds, medians. Prints its table as it finishes.
 */
import { GATEWAY_SYSTEMS, runGateway } from './gateway.js'
import { type RemoteResult, type RemoteSummary, rowAt, summarizeRounds } from './remote.js'
import { remoteTable } from './report.js'
import { attempt, checkQuiet } from './session.js'
import { formatFixed } from './stats.js'
import { fmtX, ratio } from './targets.js'

/** Settings of phase 11 (durations in ms). */
export interface GatewayConfig {
  connections: number
  warmupMs: number
  durationMs: number
  rounds: number
}

/** What phase 11 measured. */
export interface GatewayResults {
  gateway: RemoteSummary[]
  gatewayRounds: RemoteResult[]
}

/** Run phase 11 when selected. */
export async function runGatewayPhase(config: GatewayConfig, phases: Set<number>): Promise<GatewayResults> {
  const results: GatewayResults = { gateway: [], gatewayRounds: [] }
  if (!phases.has(11)) return results
  console.log(
    `\n8. Gateway, HTTP -> RPC -> service: autocannon (own process, core 1) with ${config.connections} keep-alive connections, ` +
      `${config.warmupMs / 1000} s warm-up + ${config.durationMs / 1000} s, ${config.rounds} interleaved round(s), medians. ` +
      'Gateway and service (or the bare server) on core 0.',
  )
  await checkQuiet('phase 11')
  for (let round = 1; round <= config.rounds; round++) {
    for (const system of GATEWAY_SYSTEMS) {
      const result = await attempt(`gateway ${system} round ${round}`, () => runGateway(system, config))
      if (result) results.gatewayRounds.push(result)
    }
  }
  results.gateway = summarizeRounds(results.gatewayRounds)
  const [micro, moleculer, bare] = GATEWAY_SYSTEMS.map((s) => rowAt(results.gateway, s, config.connections))
  console.log(remoteTable(results.gateway, { roles: ['srv', 'load'], level: 'connections' }))
  console.log(
    `  micro-ts/moleculer-web ${fmtX(ratio(micro?.rps, moleculer?.rps))}, micro-ts/bare ${fmtX(ratio(micro?.rps, bare?.rps))}, ` +
      `p99 micro-ts ${formatFixed(micro?.p99Ms ?? Number.NaN, 3)} ms vs bare ${formatFixed(bare?.p99Ms ?? Number.NaN, 3)} ms`,
  )
  return results
}
