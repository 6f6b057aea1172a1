/**
 * Phase 13 of `npm run bench`: gRPC unary calls between two processes, micro-ts's gRPC
 * transport (server: a service with grpcHandler; client: the typed grpcClient through the
 * registry) against a bare @grpc/grpc-js server and client with their own stubs doing the
 * same work, in one run with interleaved rounds.
 */
import {
  type PairSpec,
  type RemoteResult,
  type RemoteSummary,
  rowAt,
  runPair,
  summarizeRounds,
  uniqueName,
} from './remote.js'
import { check, remoteTable, type TargetCheck } from './report.js'
import { attempt, checkQuiet } from './session.js'
import { formatFixed } from './stats.js'
import { fmtX, ratio } from './targets.js'

/** Settings of phase 8 (durations in ms). */
export interface GrpcConfig {
  concurrency: number[]
  warmupMs: number
  durationMs: number
  rounds: number
}

/** What phase 8 measured. */
export interface GrpcResults {
  grpc: RemoteSummary[]
  grpcRounds: RemoteResult[]
}

const SYSTEMS = ['micro-ts grpc', 'grpc-js'] as const

function pairOf(system: (typeof SYSTEMS)[number]): PairSpec {
  return system === 'micro-ts grpc'
    ? {
        system,
        server: 'grpc-micro-server',
        client: 'grpc-micro-client',
        env: { BENCH_NAMESPACE: uniqueName('bench-grpc') },
      }
    : { system, server: 'grpcjs-server', client: 'grpcjs-client', env: {} }
}

/** Run phase 8 when selected. */
export async function runGrpc(config: GrpcConfig, phases: Set<number>): Promise<GrpcResults> {
  const out: GrpcResults = { grpc: [], grpcRounds: [] }
  if (!phases.has(13)) return out
  console.log(
    `\n8. gRPC unary, 2 processes over loopback HTTP/2: micro-ts (gRPC transport, typed client) vs bare @grpc/grpc-js, ` +
      `closed loop at ${config.concurrency.join(' and ')} in flight, ${config.warmupMs / 1000} s warm-up + ` +
      `${config.durationMs / 1000} s, ${config.rounds} interleaved round(s), medians`,
  )
  await checkQuiet('phase 13')
  for (let round = 1; round <= config.rounds; round++) {
    for (const system of SYSTEMS) {
      const result = await attempt(`grpc ${system} round ${round}`, () => runPair(pairOf(system), config))
      if (result) out.grpcRounds.push(result)
    }
  }
  out.grpc = summarizeRounds(out.grpcRounds)
  console.log(remoteTable(out.grpc))
  const top = Math.max(...config.concurrency)
  const micro = rowAt(out.grpc, 'micro-ts grpc', top)
  const bare = rowAt(out.grpc, 'grpc-js', top)
  console.log(
    `  at ${top} in flight: micro-ts/grpc-js ${fmtX(ratio(micro?.rps, bare?.rps))} req/s, ` +
      `p99 ${formatFixed(micro?.p99Ms ?? Number.NaN, 3)} vs ${formatFixed(bare?.p99Ms ?? Number.NaN, 3)} ms`,
  )
  return out
}

/** The targets of phase 8. */
export function grpcChecks({ grpc }: GrpcResults, level = 64): TargetCheck[] {
  const micro = rowAt(grpc, 'micro-ts grpc', level)
  const bare = rowAt(grpc, 'grpc-js', level)
  const ms = (v: number | undefined) => formatFixed(v ?? Number.NaN, 3)
  return [
    check(`gRPC unary, ${level} in flight: micro-ts >= 0.9x bare grpc-js`, ratio(micro?.rps, bare?.rps), {
      min: 0.9,
    }),
    check(
      `gRPC unary, ${level} in flight: p99 micro-ts <= bare grpc-js`,
      ratio(micro?.p99Ms, bare?.p99Ms),
      { max: 1 },
      (v) => `${ms(micro?.p99Ms)} vs ${ms(bare?.p99Ms)} ms (${fmtX(v)})`,
    ),
  ].map((c) => ({ ...c, phase: 13 }))
}
