/**
 * Phase 5: durable streams. One process (pinned to core 1) publishes N events and then
 * consumes them in one group with an ack each: micro-ts `events` on JetStream, a bare
 * @nats-io/jetstream program doing the same, and micro-ts on Redis Streams. Afterwards the
 * orchestrator checks that every event was acknowledged and removes the stream.
 */
import { fileURLToPath } from 'node:url'
import { type Line, spawnFixture } from './children.js'
import { settleAndDeleteKeys, settleAndDeleteStreams } from './cleanup.js'
import type { Engines } from './engines.js'
import type { ConsumeResult, StepResult } from './fixtures/events-common.js'
import { machineBusyMs, readCpuMs, WindowCpu } from './proc.js'
import { uniqueName } from './remote.js'
import { median } from './stats.js'

/** The three cases: micro-ts on JetStream, bare @nats-io/jetstream, micro-ts on Redis Streams. */
export type DurableSystem = 'micro-ts nats' | 'bare jetstream' | 'micro-ts redis'

/** A step as measured, with the engine's and the rest of the machine's CPU time in it. */
export interface DurableStep extends StepResult {
  engineCpuMs: number | undefined
  otherCpuMs: number | undefined
}

/** One case as measured once, with what it left unacknowledged. */
export interface DurableRun {
  system: DurableSystem
  publish: DurableStep
  consume: DurableStep & Pick<ConsumeResult, 'firstMs'>
  /** Events the server still counted as unacknowledged after the run (should be 0). */
  unacked: number
}

const script = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url))

/** Run one system once; its stream (or keys) are removed whatever happens. */
export async function runDurable(
  system: DurableSystem,
  events: number,
  engines: Engines,
): Promise<DurableRun> {
  const namespace = uniqueName('bench-events')
  const stream = uniqueName('BENCH').replaceAll('-', '_')
  const redis = system === 'micro-ts redis'
  const env: Record<string, string> = {
    BENCH_EVENTS: String(events),
    BENCH_NAMESPACE: namespace,
    BENCH_STREAM: stream,
    BENCH_NATS: engines.nats,
    MICRO_EVENTS: redis ? 'redis' : 'nats',
    MICRO_EVENTS_ADDRESS: redis ? engines.redis : engines.nats,
  }
  const enginePid = redis ? engines.redisPid : engines.natsPid
  const engineCpu = new WindowCpu(() => (enginePid === undefined ? Number.NaN : readCpuMs(enginePid)))
  const machineCpu = new WindowCpu(machineBusyMs)
  const onLine = ({ data }: Line) => {
    if (data.mark === undefined) return
    for (const counter of [engineCpu, machineCpu]) {
      try {
        counter.mark(data.step as string, data.mark === 'start')
      } catch {
        // the engine went away: its share stays unknown
      }
    }
  }
  let cleaned = false
  const cleanUp = async (): Promise<number> => {
    cleaned = true
    if (redis) return (await settleAndDeleteKeys(engines.redis, `micro:events:${namespace}:*`)).pending
    const names = system === 'bare jetstream' ? [stream] : [`MICRO_EVENTS_${namespace}`]
    const left = await settleAndDeleteStreams(engines.nats, names)
    return Object.values(left).reduce((a, b) => a + b, 0)
  }
  const step = <S extends StepResult>(name: string, result: S): S & DurableStep => {
    const engine = engineCpu.used(name)
    const engineCpuMs = engine !== undefined && Number.isFinite(engine) ? engine : undefined
    const machine = machineCpu.used(name)
    const otherCpuMs =
      machine === undefined ? undefined : Math.max(0, machine - result.cpuMs - (engineCpuMs ?? 0))
    return { ...result, engineCpuMs, otherCpuMs }
  }
  const child = spawnFixture(script(system === 'bare jetstream' ? 'events-bare' : 'events-micro'), {
    env,
    core: 1,
    onLine,
  })
  try {
    const line = await child.waitFor('result', 60_000)
    // The fixture sends its last acks as it closes: look at the server once it has exited.
    await child.exited(10_000)
    const { publish, consume } = line.data as unknown as { publish: StepResult; consume: ConsumeResult }
    return {
      system,
      publish: step('publish', publish),
      consume: step('consume', consume),
      unacked: await cleanUp(),
    }
  } finally {
    await child.stop()
    if (!cleaned) await cleanUp().catch(() => {})
  }
}

/** One system over all rounds: medians, and every round. */
export interface DurableSummary {
  system: DurableSystem
  publishRate: number
  consumeRate: number
  firstMs: number
  /** CPU time per event, µs, of the process and of the engine (NaN when not visible). */
  publishUs: { client: number; engine: number }
  consumeUs: { client: number; engine: number }
  /** Worst share of a core other processes used in any step. */
  otherCpu: number
  unacked: number
  rounds: DurableRun[]
}

/** Fold rounds into one row per system (medians: one bad round does not move it). */
export function summarizeDurable(runs: DurableRun[]): DurableSummary[] {
  const systems = [...new Set(runs.map((r) => r.system))]
  return systems.map((system) => {
    const rounds = runs.filter((r) => r.system === system)
    const of = (f: (r: DurableRun) => number) => median(rounds.map(f))
    const perEvent = (step: DurableStep, ms: number | undefined) => ((ms ?? Number.NaN) * 1000) / step.events
    const other = (step: DurableStep) => (step.otherCpuMs ?? 0) / (step.seconds * 1000)
    return {
      system,
      publishRate: of((r) => r.publish.rate),
      consumeRate: of((r) => r.consume.rate),
      firstMs: of((r) => r.consume.firstMs),
      publishUs: {
        client: of((r) => perEvent(r.publish, r.publish.cpuMs)),
        engine: of((r) => perEvent(r.publish, r.publish.engineCpuMs)),
      },
      consumeUs: {
        client: of((r) => perEvent(r.consume, r.consume.cpuMs)),
        engine: of((r) => perEvent(r.consume, r.consume.engineCpuMs)),
      },
      otherCpu: Math.max(0, ...rounds.flatMap((r) => [other(r.publish), other(r.consume)])),
      unacked: rounds.reduce((sum, r) => sum + r.unacked, 0),
      rounds,
    }
  })
}
