import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { test } from 'node:test'
import { deflateRawSync } from 'node:zlib'
import dnsPacket from 'dns-packet'
import { createLogger } from '../logger/logger.js'
import { registryConformance } from './conformance.js'
import {
  expectNotFound,
  iterate,
  nextEvent,
  node,
  serviceRecord,
  sleep,
  uniqueName,
} from './conformance-kit.js'
import { MdnsRegistry } from './mdns.js'
import { namespaceTypeName } from './mdns-names.js'
import { encodePayload } from './mdns-payload.js'

// Every test stays on loopback (the default interface): nothing leaves this machine.
registryConformance('mdns', () => new MdnsRegistry({ sweepInterval: 100 }), { settleMs: 50 })

async function pair(): Promise<[MdnsRegistry, MdnsRegistry]> {
  // Garbage other tests send on the group is reported at warn level; not worth a line here.
  const logger = createLogger({ level: 'silent' })
  const a = new MdnsRegistry({ sweepInterval: 100, logger })
  const b = new MdnsRegistry({ sweepInterval: 100, logger })
  await Promise.all([a.ready(), b.ready()])
  return [a, b]
}

test('mdns: a second instance discovers by getService and by watch, and sees the goodbye', async () => {
  const [a, b] = await pair()
  try {
    const namespace = `t-${randomUUID()}`
    const record = serviceRecord(uniqueName(), '1.0.0', [node('remote-1')])
    const events = iterate(b.watch({ namespace }))
    await a.register(record, { namespace })
    const created = await nextEvent(events, 2000)
    assert.equal(created.action, 'create')
    assert.deepEqual(created.service, record)
    assert.deepEqual(await b.getService(record.name, { namespace }), [record])
    assert.deepEqual(
      (await b.listServices({ namespace })).map((r) => r.name),
      [record.name],
    )

    await a.deregister(record, { namespace })
    const deleted = await nextEvent(events, 2000)
    assert.equal(deleted.action, 'delete')
    assert.deepEqual(
      deleted.service.nodes.map((n) => n.id),
      ['remote-1'],
    )
    await expectNotFound(b.getService(record.name, { namespace }))
  } finally {
    await Promise.all([a.close(), b.close()])
  }
})

test('mdns: a peer drops a remote node whose TTL runs out, and one whose process closed', async () => {
  const [a, b] = await pair()
  try {
    const namespace = `t-${randomUUID()}`
    const events = iterate(b.watch({ namespace }))
    await a.register(serviceRecord(uniqueName('short'), '1.0.0', [node('short-1')]), { namespace, ttl: 1000 })
    assert.equal((await nextEvent(events, 2000)).action, 'create')
    // Record TTL 1 s, never renewed: b's cache sweeps it without any goodbye.
    const expired = await nextEvent(events, 3000)
    assert.equal(expired.action, 'delete')
    assert.deepEqual(
      expired.service.nodes.map((n) => n.id),
      ['short-1'],
    )

    await a.register(serviceRecord(uniqueName('closing'), '1.0.0', [node('closing-1')]), { namespace })
    assert.equal((await nextEvent(events, 2000)).action, 'create')
    await a.close()
    const gone = await nextEvent(events, 2000)
    assert.equal(gone.action, 'delete')
    assert.deepEqual(
      gone.service.nodes.map((n) => n.id),
      ['closing-1'],
    )
  } finally {
    await Promise.all([a.close(), b.close()])
  }
})

/** A response packet whose TXT record is the given bytes, named like one of ours. */
function fakeResponse(namespace: string, txt: Buffer[]): Buffer {
  const name = `x-000000000000.${namespaceTypeName(namespace)}`
  return dnsPacket.encode({ type: 'response', answers: [{ type: 'TXT', name, ttl: 120, data: txt }] })
}

test('mdns: garbage on the group does not break discovery', async () => {
  const [a, b] = await pair()
  // From the group port, as responders send, so the port rule does not stop it before the decoder.
  const sender = createSocket({ type: 'udp4', reuseAddr: true })
  try {
    const namespace = `t-${randomUUID()}`
    const events = iterate(b.watch({ namespace }))
    const valid = serviceRecord('victim', '1.0.0', [node('v1')])
    const packets = [
      Buffer.from('not a dns packet at all'),
      Buffer.alloc(12, 0xff),
      fakeResponse(namespace, [Buffer.from('not deflated')]),
      fakeResponse(namespace, [deflateRawSync(Buffer.from('{not json'))]),
      fakeResponse(namespace, [
        deflateRawSync(Buffer.from(JSON.stringify({ v: 1, namespace, service: 'x' }))),
      ]),
      fakeResponse(namespace, [deflateRawSync(Buffer.from(JSON.stringify([1, 2, 3])))]),
      // A valid payload under another namespace's name must not be believed either.
      fakeResponse(`${namespace}-x`, encodePayload({ namespace, service: valid })),
    ]
    await new Promise<void>((resolve, reject) => {
      sender.once('error', reject)
      sender.bind(5353, '224.0.0.251', () => resolve())
    })
    // Loopback only: the group is reached through lo, never a LAN interface.
    sender.setMulticastInterface('127.0.0.1')
    sender.setMulticastLoopback(true)
    for (const packet of packets) {
      await new Promise<void>((resolve, reject) =>
        sender.send(packet, 5353, '224.0.0.251', (error) => (error ? reject(error) : resolve())),
      )
    }
    // Each was refused (not just lost): 4 payloads that do not decode, 2 headers not worth parsing.
    for (let waited = 0; waited < 5000; waited += 20) {
      const dropped = b.dropped()
      if (dropped['bad-record'] >= 4 && dropped['too-many-records'] >= 2) break
      await sleep(20)
    }
    assert.ok(b.dropped()['bad-record'] >= 4, JSON.stringify(b.dropped()))
    assert.ok(b.dropped()['too-many-records'] >= 2, JSON.stringify(b.dropped()))
    await expectNotFound(b.getService('victim', { namespace }))

    const record = serviceRecord(uniqueName(), '1.0.0', [node('survivor')])
    await a.register(record, { namespace })
    // The first event is the real registration: none of the garbage became an event.
    const first = await nextEvent(events, 2000)
    assert.equal(first.service.name, record.name)
    assert.deepEqual(await b.getService(record.name, { namespace }), [record])
  } finally {
    sender.close()
    await Promise.all([a.close(), b.close()])
  }
})

test('mdns: a record too large for one datagram is refused with a 413', async () => {
  const registry = new MdnsRegistry()
  try {
    const huge = serviceRecord(uniqueName(), '1.0.0', [node('big')])
    // Random bytes do not compress, so this cannot fit.
    huge.metadata.blob = randomBytes(70_000).toString('base64')
    await assert.rejects(registry.register(huge, { namespace: `t-${randomUUID()}` }), { code: 413 })
  } finally {
    await registry.close()
  }
})

test('mdns: operations after close are refused and watchers end at once', async () => {
  const registry = new MdnsRegistry()
  await registry.close()
  await assert.rejects(registry.getService('x'), { code: 503 })
  await assert.rejects(registry.register(serviceRecord('x', '1', [node('n')])), { code: 503 })
  assert.equal((await iterate(registry.watch()).next()).done, true)
})

test('mdns: a lookup of one service is answered by its nodes only, not by the whole namespace', async () => {
  const probe = createSocket('udp4')
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve))
  const port = probe.address().port
  probe.close()
  const logger = createLogger({ level: 'silent' })
  const a = new MdnsRegistry({ port, logger })
  // A long window: on a loaded machine the answers may come late; only how many is asserted.
  const b = new MdnsRegistry({ port, logger, queryTimeout: 1000 })
  const listener = createSocket({ type: 'udp4', reuseAddr: true })
  const answered: string[] = []
  listener.on('message', (message) => {
    const packet = dnsPacket.decode(message)
    for (const answer of packet.answers ?? []) if (answer.type === 'TXT') answered.push(answer.name)
  })
  try {
    await Promise.all([a.ready(), b.ready()])
    await new Promise<void>((resolve) => listener.bind(port, '224.0.0.251', () => resolve()))
    listener.addMembership('224.0.0.251', '127.0.0.1')
    const namespace = `t-${randomUUID()}`
    const wanted = serviceRecord(uniqueName('wanted'), '1.0.0', [node('w1')])
    const others = Array.from({ length: 5 }, (_, i) =>
      serviceRecord(uniqueName(`other${i}`), '1.0.0', [node(`o${i}`)]),
    )
    for (const record of [wanted, ...others]) await a.register(record, { namespace })
    await sleep(100) // the registrations' own announcements pass
    answered.length = 0
    assert.deepEqual(await b.getService(wanted.name, { namespace }), [wanted])
    assert.equal(answered.length, 1, answered.join(', '))
    assert.match(answered[0] as string, /^w1-/)
    answered.length = 0
    assert.equal((await b.listServices({ namespace })).length, 6)
    assert.equal(answered.length, 6)
  } finally {
    listener.close()
    await Promise.all([a.close(), b.close()])
  }
})
