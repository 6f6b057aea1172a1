import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { type Child, spawnNode } from '../../test/support/process.js'
import { removeNatsStreams, removeRedisKeys } from '../testing/cleanup.js'
import { testServer } from '../testing/servers.js'
import { sleep, waitFor } from './conformance-kit.js'
import type { ReceivedEvent } from './events.js'
import { type ConsumerFixture, fixtureEvents } from './fixtures/consumer.js'

const FIXTURE = 'src/events/fixtures/consumer.ts'

/** A fixture run against `kind`, with a private prefix, directory and topic, and its clean-up. */
function setup(
  kind: ConsumerFixture['kind'],
  address: string,
): { f: ConsumerFixture; cleanup: () => Promise<void> } {
  const id = randomUUID().slice(0, 8)
  const directory = kind === 'file' ? mkdtempSync(join(tmpdir(), 'micro-events-kill-')) : ''
  const f: ConsumerFixture = {
    kind,
    address: kind === 'file' ? directory : address,
    prefix: kind === 'nats' ? `test.kill${id}` : `test:kill:${id}:`,
    namespace: 'faults',
    topic: `jobs-${id}`,
    group: 'workers',
    ackWait: 1500,
    maxInFlight: 5,
    ack: 2,
  }
  const cleanup = async () => {
    if (kind === 'file') rmSync(directory, { recursive: true, force: true })
    if (kind === 'nats') await removeNatsStreams(address, `test_kill${id}_`)
    if (kind === 'redis') await removeRedisKeys(address, f.prefix)
  }
  return { f, cleanup }
}

function start(f: ConsumerFixture): Child {
  return spawnNode(['--import', 'tsx', FIXTURE, JSON.stringify(f)])
}

/** `n`s the child printed for `word` lines (`event <n> <attempt>`, `acked <n>`). */
function printed(child: Child, word: 'event' | 'acked'): number[] {
  return [...child.stdout().matchAll(new RegExp(`^${word} (\\d+)`, 'gm'))].map((m) => Number(m[1]))
}

const servers = {
  file: { address: '', skip: false as const },
  nats: testServer('nats'),
  redis: testServer('redis'),
}

for (const kind of ['file', 'nats', 'redis'] as const) {
  const server = servers[kind]
  describe(`events (${kind}): a group member killed with SIGKILL`, { skip: server.skip }, () => {
    test('the events it held unacked go to another member; none is lost, none delivered twice', async () => {
      const { f, cleanup } = setup(kind, server.address ?? '')
      const events = fixtureEvents(f)
      const child = start(f)
      try {
        await child.waitFor(/^ready$/m, 20_000)
        const received = new Map<number, ReceivedEvent<{ n: number }>>()
        let deliveries = 0
        const member = events.consume<{ n: number }>(f.topic, {
          namespace: f.namespace,
          group: f.group,
          ack: 'manual',
          ackWait: f.ackWait,
          maxInFlight: 2,
        })
        await member.ready
        const loop = (async () => {
          for await (const event of member) {
            deliveries++
            received.set(event.payload.n, event)
            // Slow enough that the child gets its share first.
            await sleep(20)
            await event.ack()
          }
        })()
        for (let n = 0; n < 20; n++) await events.publish(f.topic, { n }, { namespace: f.namespace })
        // Its two acks are printed before its fourth event.
        await waitFor(() => printed(child, 'event').length >= 4, 20_000, 'the child to take 4 events')
        child.process.kill('SIGKILL')
        await child.exited
        const acked = printed(child, 'acked')
        const held = printed(child, 'event').filter((n) => !acked.includes(n))
        assert.deepEqual(acked.length, 2)
        assert.ok(held.length >= 2, `the child held ${held.length} events`)
        await waitFor(() => received.size + acked.length >= 20, 20_000, 'every event to be delivered')
        await sleep(f.ackWait + 500)
        member.stop()
        await loop
        const all = [...received.keys(), ...acked].sort((a, b) => a - b)
        assert.deepEqual(
          all,
          Array.from({ length: 20 }, (_, n) => n),
        )
        for (const n of acked) assert.ok(!received.has(n), `acked event ${n} was delivered again`)
        for (const n of held)
          assert.ok((received.get(n)?.attempt ?? 0) >= 2, `event ${n} was not a redelivery`)
        assert.equal(deliveries, received.size, 'an event reached the surviving member twice')
      } finally {
        child.process.kill('SIGKILL')
        await events.close()
        await cleanup()
      }
    })
  })
}

for (const kind of ['file', 'nats', 'redis'] as const) {
  const server = servers[kind]
  describe(`events (${kind}): a consumer killed the moment its acks resolve`, { skip: server.skip }, () => {
    test('no event whose ack resolved is delivered again; the ones it held come back', async () => {
      const { f, cleanup } = setup(kind, server.address ?? '')
      const events = fixtureEvents(f)
      try {
        for (let n = 0; n < 10; n++) await events.publish(f.topic, { n }, { namespace: f.namespace })
        // It takes up to 5 events ahead, acks 3 and kills itself as the third ack resolves.
        const child = start({ ...f, ack: 3, maxInFlight: 5, ackWait: 1000, killAfterAck: true })
        assert.equal(await child.exited, 'SIGKILL')
        const acked = printed(child, 'acked')
        assert.equal(acked.length, 3, child.stdout())
        const received = new Map<number, number>()
        const member = events.consume<{ n: number }>(f.topic, {
          namespace: f.namespace,
          group: f.group,
          ack: 'manual',
          ackWait: 1000,
          maxInFlight: 10,
        })
        await member.ready
        const loop = (async () => {
          for await (const event of member) {
            received.set(event.payload.n, (received.get(event.payload.n) ?? 0) + 1)
            await event.ack()
          }
        })()
        // The events it held unacked come back after its ackWait, in sequence order with
        // anything it acked whose ack was lost: once they are all in, a lost ack would show.
        await waitFor(() => received.size >= 7, 20_000, `the 7 events not acked (have ${received.size})`)
        await sleep(500)
        member.stop()
        await loop
        for (const n of acked) assert.ok(!received.has(n), `event ${n} came back after its ack resolved`)
        assert.deepEqual(
          [...received.keys(), ...acked].sort((a, b) => a - b),
          Array.from({ length: 10 }, (_, n) => n),
        )
      } finally {
        await events.close()
        await cleanup()
      }
    })
  })
}

describe('events (file): a consumer restarted after a crash', () => {
  test('resumes from its group position: acked events never return, the unacked one does', async () => {
    const { f, cleanup } = setup('file', '')
    const events = fixtureEvents(f)
    try {
      for (let n = 0; n < 10; n++) await events.publish(f.topic, { n }, { namespace: f.namespace })
      const first = start({ ...f, ack: 5, maxInFlight: 1, ackWait: 1000 })
      await first.waitFor(/^event 5 1$/m, 20_000)
      first.process.kill('SIGKILL')
      await first.exited
      assert.deepEqual(printed(first, 'acked'), [0, 1, 2, 3, 4])
      const second = start({ ...f, ack: 100, maxInFlight: 10 })
      try {
        await waitFor(() => printed(second, 'acked').length >= 5, 20_000, 'the restarted consumer to take 5')
        await sleep(500)
        assert.deepEqual(
          printed(second, 'event').sort((a, b) => a - b),
          [5, 6, 7, 8, 9],
        )
        assert.match(second.stdout(), /^event 5 2$/m)
      } finally {
        second.process.kill('SIGKILL')
      }
    } finally {
      await events.close()
      await cleanup()
    }
  })
})
