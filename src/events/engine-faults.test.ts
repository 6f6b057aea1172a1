import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, describe, test } from 'node:test'
import { removeNatsStreams, removeRedisKeys } from '../testing/cleanup.js'
import { testServer } from '../testing/servers.js'
import { TcpProxy } from '../testing/tcp-proxy.js'
import { importPeer } from '../util/optional-import.js'
import { reader, sleep, waitFor } from './conformance-kit.js'
import type { Events } from './events.js'
import { fixtureEvents } from './fixtures/consumer.js'
import { DEAD_LETTER_KEYS } from './source.js'

type NatsModule = typeof import('@nats-io/transport-node')
type RedisModule = typeof import('ioredis')

const servers = { nats: testServer('nats'), redis: testServer('redis') }

/** Prefixes no other run uses, for one test, and their clean-up. */
function isolate(kind: 'nats' | 'redis', address: string) {
  const id = randomUUID().slice(0, 8)
  const prefix = kind === 'nats' ? `test.fault${id}` : `test:fault:${id}:`
  return {
    prefix,
    namespace: 'faults',
    topic: `feed-${id}`,
    cleanup: () =>
      kind === 'nats' ? removeNatsStreams(address, `test_fault${id}_`) : removeRedisKeys(address, prefix),
  }
}

for (const kind of ['nats', 'redis'] as const) {
  const server = servers[kind]
  describe(`events (${kind}): engine faults`, { skip: server.skip }, () => {
    const address = server.address ?? ''
    const opened: Events[] = []
    const open = (at: string, prefix: string) => {
      const events = fixtureEvents({ kind, address: at, prefix })
      opened.push(events)
      return events
    }
    after(async () => {
      for (const events of opened) await events.close()
    })

    test('the connection is cut mid-stream: the consumer reconnects and resumes, nothing lost', async () => {
      const { prefix, namespace, topic, cleanup } = isolate(kind, address)
      const proxy = await TcpProxy.start(new URL(address).host)
      const publisher = open(address, prefix)
      const consuming = open(`${kind}://${proxy.address}`, prefix)
      try {
        const maxInFlight = 20
        const consumer = consuming.consume<{ n: number }>(topic, {
          namespace,
          group: 'cut',
          ackWait: 2000,
          maxInFlight,
        })
        await consumer.ready
        const counts = new Map<number, number>()
        const loop = (async () => {
          for await (const event of consumer)
            counts.set(event.payload.n, (counts.get(event.payload.n) ?? 0) + 1)
        })()
        const total = 300
        let cuts = 0
        for (let n = 0; n < total; n++) {
          await publisher.publish(topic, { n }, { namespace })
          if (n % 10 === 0) await sleep(5)
          if (n === 100) {
            proxy.cut()
            cuts++
          }
          if (n === 200) {
            // Down for a while: reconnects are refused, then it comes back.
            proxy.cut()
            proxy.refuse()
            cuts++
            await sleep(500)
            proxy.resume()
          }
        }
        await waitFor(() => counts.size === total, 30_000, `all ${total} events (have ${counts.size})`)
        await sleep(2500) // any redelivery after ackWait would show now
        consumer.stop()
        await loop
        const deliveries = [...counts.values()].reduce((a, b) => a + b, 0)
        assert.equal(counts.size, total)
        // At least once: only events in flight at a cut can come twice.
        assert.ok(deliveries - total <= cuts * maxInFlight, `${deliveries - total} duplicates`)
        assert.ok(proxy.accepted >= 2, 'the consumer never reconnected')
      } finally {
        await consuming.close()
        // Resetting proxied sockets that are still shutting down can leave Node spinning
        // on them (seen with ioredis' QUIT): let the closes finish first.
        await sleep(300)
        await proxy.close()
        await cleanup()
      }
    })

    test('an undecodable message written by another client goes to the dead letters, not to the consumer', async () => {
      const { prefix, namespace, topic, cleanup } = isolate(kind, address)
      const events = open(address, prefix)
      try {
        const dead = await reader(events.consume(`${topic}.dead`, { namespace, offset: 0 }))
        const r = await reader(events.consume<{ n: number }>(topic, { namespace, group: 'strict' }))
        await events.publish(topic, { n: 1 }, { namespace })
        await writeGarbage(kind, address, prefix, namespace, topic)
        await events.publish(topic, { n: 2 }, { namespace })
        assert.deepEqual(
          (await r.take(2)).map((e) => e.payload.n),
          [1, 2],
        )
        const letter = await dead.next()
        assert.match(letter.metadata[DEAD_LETTER_KEYS.reason] ?? '', /undecodable/)
        assert.equal(letter.metadata[DEAD_LETTER_KEYS.topic], topic)
        assert.equal(letter.metadata[DEAD_LETTER_KEYS.group], 'strict')
        await r.quiet(500)
      } finally {
        await cleanup()
      }
    })
  })
}

/** Write a message that is not a micro-ts event straight through the engine's client. */
async function writeGarbage(
  kind: 'nats' | 'redis',
  address: string,
  prefix: string,
  namespace: string,
  topic: string,
): Promise<void> {
  if (kind === 'nats') {
    const nats = await importPeer<NatsModule>('@nats-io/transport-node', 'test')
    const nc = await nats.connect({ servers: address })
    // The stream captures plain publishes on its subjects; this one has no headers.
    await nc.request(`${prefix}.${namespace}.${topic}`, new TextEncoder().encode('{not json'))
    await nc.close()
    return
  }
  const { Redis } = await importPeer<RedisModule>('ioredis', 'test')
  const redis = new Redis(address)
  await redis.xadd(`${prefix}${namespace}:${topic}`, '0-*', 'junk', 'yes')
  redis.disconnect()
}
