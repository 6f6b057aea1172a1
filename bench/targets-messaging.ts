/** The messaging targets (pub/sub, durable streams, NATS transport, store) checked against one run. */

import { peakOf, type RemoteSummary, rowAt } from './remote.js'
import { check, type TargetCheck } from './report.js'
import type { MessagingResults } from './run-messaging.js'
import { formatFixed, formatInt, formatRatio } from './stats.js'
import { storeOps } from './store.js'
import { ratio } from './targets.js'

/** `83,512 msg/s @100`. */
function peakText(row: RemoteSummary | undefined): string {
  return row ? `${formatInt(row.rps)} msg/s @${row.concurrency}` : 'n/a'
}

/** An informational line: measured and shown, no verdict. */
function info(line: TargetCheck): TargetCheck {
  return { ...line, pass: undefined }
}

/** Every messaging target with its measured value and verdict, tagged with its phase. */
export function messagingChecks(results: MessagingResults, rpcLevel: number): TargetCheck[] {
  const { pubsub, durable, natsRpc, store } = results
  const moleculer = peakOf(pubsub, 'moleculer nats')
  const throughput = (system: string, label: string): TargetCheck => {
    const mine = peakOf(pubsub, system)
    return check(
      `pub/sub throughput (best window): ${label} >= 2x Moleculer events over NATS`,
      ratio(mine?.rps, moleculer?.rps),
      { min: 2 },
      (v) => `${formatRatio(v)} (${peakText(mine)} vs ${peakText(moleculer)})`,
    )
  }
  const events = (system: string) => durable.find((r) => r.system === system)
  const file = (name: string) => storeOps(store, name)
  const vsBare = (name: string, bare: string) => ratio(file(name), file(bare))
  const ms = (v: number | undefined) => formatFixed(v ?? Number.NaN, 3)
  const p50 = (system: string) => rowAt(pubsub, system, 1)?.p50Ms
  const p99 = (system: string) => rowAt(pubsub, system, 1)?.p99Ms
  const latency = (system: string) =>
    info(
      check(`pub/sub latency at 1 in flight, ${system} vs Moleculer (p50/p99)`, p50(system), {}, () =>
        [
          `${ms(p50(system))}/${ms(p99(system))}`,
          `vs ${ms(p50('moleculer nats'))}/${ms(p99('moleculer nats'))} ms`,
        ].join(' '),
      ),
    )
  const tag = (phase: number, lines: TargetCheck[]) => lines.map((line) => ({ ...line, phase }))
  return [
    ...tag(4, [
      throughput('micro-ts default', 'default broker'),
      throughput('micro-ts nats', 'NATS broker'),
      latency('micro-ts default'),
      latency('micro-ts nats'),
    ]),
    ...tag(5, [
      check(
        'JetStream consume+ack: micro-ts events >= 0.5x bare @nats-io/jetstream',
        ratio(events('micro-ts nats')?.consumeRate, events('bare jetstream')?.consumeRate),
        { min: 0.5 },
      ),
      info(
        check(
          'JetStream publish: micro-ts events vs bare',
          ratio(events('micro-ts nats')?.publishRate, events('bare jetstream')?.publishRate),
          {},
        ),
      ),
      info(
        check(
          'Redis Streams consume+ack (micro-ts events)',
          events('micro-ts redis')?.consumeRate,
          {},
          (v) => `${formatInt(v)} ev/s`,
        ),
      ),
    ]),
    ...tag(6, [
      check(
        `remote over NATS, ${rpcLevel} in flight: micro-ts >= 2x Moleculer NATS transporter`,
        ratio(
          rowAt(natsRpc, 'micro-ts nats', rpcLevel)?.rps,
          rowAt(natsRpc, 'moleculer nats', rpcLevel)?.rps,
        ),
        { min: 2 },
      ),
    ]),
    ...tag(7, [
      ...['1', '32'].flatMap((n) => [
        check(
          `redis store read >= 0.8x bare ioredis GET (${n} in flight)`,
          vsBare(`redis store read (${n} in flight)`, `redis bare GET (${n} in flight)`),
          { min: 0.8 },
        ),
        check(
          `redis store write >= 0.8x bare ioredis SET (${n} in flight)`,
          vsBare(`redis store write (${n} in flight)`, `redis bare SET (${n} in flight)`),
          { min: 0.8 },
        ),
      ]),
      check('file store >= 50k reads/s', file('file store read (1 at a time)'), { min: 50_000 }, (v) =>
        formatInt(v),
      ),
      check(
        'file store >= 10k durable writes/s',
        file('file store durable write (256 in flight)'),
        { min: 10_000 },
        (v) => formatInt(v),
      ),
    ]),
  ]
}

/** Worst share of a core other processes used in any measured window, per messaging phase. */
export function messagingNoise({ pubsub, durable, natsRpc }: MessagingResults): Record<string, number> {
  const finite = (v: number) => (Number.isFinite(v) ? v : 0)
  return {
    'pub/sub': Math.max(0, ...pubsub.map((r) => finite(r.otherCpu))),
    durable: Math.max(0, ...durable.map((r) => finite(r.otherCpu))),
    'NATS remote': Math.max(0, ...natsRpc.map((r) => finite(r.otherCpu))),
  }
}
