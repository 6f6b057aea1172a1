/**
 * Phases 4 to 7 of `npm run bench`: pub/sub, durable streams, remote calls over NATS, and
 * the store. Each prints its table as it finishes; failures are recorded by `attempt` and
 * the other phases still run.
 */
import { type DurableRun, type DurableSummary, runDurable, summarizeDurable } from './durable.js'
import type { Engines } from './engines.js'
import { NATS_RPC_SYSTEMS, natsRpcPair, PUBSUB_SYSTEMS, pubsubPair } from './pairs.js'
import { peakOf, type RemoteResult, type RemoteSummary, rowAt, runPair, summarizeRounds } from './remote.js'
import { remoteTable } from './report.js'
import { durableTable, storeTable } from './report-messaging.js'
import { attempt, checkQuiet } from './session.js'
import { runStore, type StoreResult } from './store.js'
import { fmtX, ratio } from './targets.js'

/** Settings of phases 4-7 (durations in ms). */
export interface MessagingConfig {
  pubsub: { windows: number[]; warmupMs: number; durationMs: number; rounds: number }
  durable: { events: number; rounds: number }
  natsRpc: { concurrency: number[]; warmupMs: number; durationMs: number; rounds: number }
  store: { durationMs: number; rounds: number }
}

/** What phases 4-7 measured: summaries and every round. */
export interface MessagingResults {
  pubsub: RemoteSummary[]
  pubsubRounds: RemoteResult[]
  durable: DurableSummary[]
  natsRpc: RemoteSummary[]
  natsRpcRounds: RemoteResult[]
  store: StoreResult | undefined
}

/** Run the selected phases among 4-7, in order. */
export async function runMessaging(
  config: MessagingConfig,
  phases: Set<number>,
  engines: Engines,
): Promise<MessagingResults> {
  const results: MessagingResults = {
    pubsub: [],
    pubsubRounds: [],
    durable: [],
    natsRpc: [],
    natsRpcRounds: [],
    store: undefined,
  }
  console.log(
    engines.natsPid === undefined
      ? `\nNATS at ${engines.nats}; its process is not visible here, so its CPU counts as "other".`
      : `\nNATS at ${engines.nats} (pid ${engines.natsPid}, not pinned): its CPU is shown apart as "nats".`,
  )
  if (phases.has(4)) await pubsub(config.pubsub, engines, results)
  if (phases.has(5)) await durable(config.durable, engines, results)
  if (phases.has(6)) await natsRpc(config.natsRpc, engines, results)
  if (phases.has(7)) await store(config.store, engines, results)
  return results
}

async function pubsub(c: MessagingConfig['pubsub'], engines: Engines, out: MessagingResults): Promise<void> {
  console.log(
    `\n4. Pub/sub, publisher (core 1) and subscriber (core 0) in 2 processes: ${c.windows.join(' and ')} messages in flight, ` +
      `${c.warmupMs / 1000} s warm-up + ${c.durationMs / 1000} s each, ${c.rounds} interleaved round(s), medians`,
  )
  await checkQuiet('phase 4')
  for (let round = 1; round <= c.rounds; round++) {
    for (const system of PUBSUB_SYSTEMS) {
      const options = { concurrency: c.windows, warmupMs: c.warmupMs, durationMs: c.durationMs }
      const result = await attempt(`pub/sub ${system} round ${round}`, () =>
        runPair(pubsubPair(system, engines), options),
      )
      if (result) out.pubsubRounds.push(result)
    }
  }
  out.pubsub = summarizeRounds(out.pubsubRounds)
  console.log(remoteTable(out.pubsub, { rate: 'msg/s', roles: ['sub', 'pub'], engine: 'nats', lost: true }))
  const rate = (system: string, window: number) => rowAt(out.pubsub, system, window)?.rps
  const ratios = c.windows
    .filter((w) => w > 1)
    .map(
      (w) =>
        `${w}: default ${fmtX(ratio(rate('micro-ts default', w), rate('moleculer nats', w)))}, ` +
        `nats ${fmtX(ratio(rate('micro-ts nats', w), rate('moleculer nats', w)))}`,
    )
  const best = (s: string) => peakOf(out.pubsub, s)?.rps
  console.log(
    `  micro-ts/Moleculer by window in flight: ${ratios.join('; ')}; best window of each: ` +
      `default ${fmtX(ratio(best('micro-ts default'), best('moleculer nats')))}, nats ${fmtX(ratio(best('micro-ts nats'), best('moleculer nats')))}`,
  )
  console.log(
    '  latency: publish call to the subscriber handler (timestamp in the payload, one monotonic clock); "lost": published, never received',
  )
}

async function durable(
  c: MessagingConfig['durable'],
  engines: Engines,
  out: MessagingResults,
): Promise<void> {
  console.log(
    `\n5. Durable streams, one process (core 1): publish ${c.events} events (64 in flight), then one group consumer ` +
      `acks each; ${c.rounds} interleaved round(s), medians`,
  )
  await checkQuiet('phase 5')
  const runs: DurableRun[] = []
  for (let round = 1; round <= c.rounds; round++) {
    for (const system of ['micro-ts nats', 'bare jetstream', 'micro-ts redis'] as const) {
      const run = await attempt(`durable ${system} round ${round}`, () =>
        runDurable(system, c.events, engines),
      )
      if (run) runs.push(run)
    }
  }
  out.durable = summarizeDurable(runs)
  console.log(durableTable(out.durable, 'srv'))
  const of = (s: string) => out.durable.find((r) => r.system === s)
  console.log(
    `  JetStream, micro-ts/bare: consume+ack ${fmtX(ratio(of('micro-ts nats')?.consumeRate, of('bare jetstream')?.consumeRate))}, ` +
      `publish ${fmtX(ratio(of('micro-ts nats')?.publishRate, of('bare jetstream')?.publishRate))}`,
  )
  console.log(
    '  consume+ack: first event to last ack; "srv" is the NATS or Redis server; "unacked": left pending on the server (should be 0)',
  )
}

async function natsRpc(
  c: MessagingConfig['natsRpc'],
  engines: Engines,
  out: MessagingResults,
): Promise<void> {
  const top = Math.max(...c.concurrency)
  console.log(
    `\n6. Remote call over NATS, 2 processes: closed loop at ${c.concurrency.join(' and ')} in flight, ` +
      `${c.warmupMs / 1000} s warm-up + ${c.durationMs / 1000} s, ${c.rounds} interleaved round(s), medians`,
  )
  await checkQuiet('phase 6')
  for (let round = 1; round <= c.rounds; round++) {
    for (const system of NATS_RPC_SYSTEMS) {
      const result = await attempt(`NATS remote ${system} round ${round}`, () =>
        runPair(natsRpcPair(system, engines), c),
      )
      if (result) out.natsRpcRounds.push(result)
    }
  }
  out.natsRpc = summarizeRounds(out.natsRpcRounds)
  console.log(remoteTable(out.natsRpc, { engine: 'nats' }))
  console.log(
    `  at ${top} in flight: micro-ts/Moleculer ${fmtX(ratio(rowAt(out.natsRpc, 'micro-ts nats', top)?.rps, rowAt(out.natsRpc, 'moleculer nats', top)?.rps))}`,
  )
}

async function store(c: MessagingConfig['store'], engines: Engines, out: MessagingResults): Promise<void> {
  console.log(
    `\n7. Store, one process (core 1): ${c.rounds} interleaved round(s) of ${c.durationMs / 1000} s per case, medians`,
  )
  await checkQuiet('phase 7')
  out.store = await attempt('store', () => runStore(c, engines.redis))
  if (!out.store) return
  console.log(storeTable(out.store))
  if (out.store.redisSkipped) console.log(`  redis skipped: ${out.store.redisSkipped}`)
}
