import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { deflateRawSync } from 'node:zlib'
import dnsPacket from 'dns-packet'
import { createLogger } from '../logger/logger.js'
import { node, serviceRecord } from './conformance-kit.js'
import { InboundGuard } from './mdns-guard.js'
import { namespaceTypeName } from './mdns-names.js'
import { encodePayload } from './mdns-payload.js'
import { AnnouncementReader, MAX_TXT_PER_PACKET } from './mdns-reader.js'
import { announcementAnswers } from './mdns-records.js'

/** A guard on a hand-driven clock whose log lines are collected. */
function guarded(limits: ConstructorParameters<typeof InboundGuard>[0] = {}) {
  const clock = { now: 1_000_000 }
  const lines: Record<string, unknown>[] = []
  const logger = createLogger({ level: 'warn', write: (line) => lines.push(JSON.parse(line)) })
  const guard = new InboundGuard(limits, logger, () => clock.now)
  return { guard, clock, lines }
}

describe('mdns inbound guard', () => {
  test('a source spends its burst, then only its rate; other sources keep their own budget', () => {
    const { guard, clock } = guarded({ sourceRate: 1000, sourceBurst: 2000, totalRate: 1e9, totalBurst: 1e9 })
    assert.equal(guard.admit('10.0.0.1:5353', 1500), true)
    assert.equal(guard.admit('10.0.0.1:5353', 1500), true, 'admitted while any budget is left')
    assert.equal(guard.admit('10.0.0.1:5353', 1), false, 'then refused')
    assert.equal(guard.admit('10.0.0.2:5353', 1500), true, 'another source is not affected')
    clock.now += 500 // +500 bytes: back to -500
    assert.equal(guard.admit('10.0.0.1:5353', 1), false)
    clock.now += 1000 // +1000: 500 left
    assert.equal(guard.admit('10.0.0.1:5353', 1), true)
    assert.equal(guard.dropped()['over-budget'], 2)
  })

  test('the total budget caps every source together', () => {
    const { guard } = guarded({ sourceRate: 1e9, sourceBurst: 1e9, totalRate: 1, totalBurst: 3000 })
    assert.equal(guard.admit('10.0.0.1:1', 2000), true)
    assert.equal(guard.admit('10.0.0.2:2', 2000), true)
    assert.equal(guard.admit('10.0.0.3:3', 1), false)
  })

  test('work charged after admission (what a record inflated to) comes out of the budget', () => {
    const { guard } = guarded({ sourceRate: 1, sourceBurst: 100_000, totalRate: 1e9, totalBurst: 1e9 })
    assert.equal(guard.admit('10.0.0.1:5353', 10), true)
    guard.charge('10.0.0.1:5353', 100_000)
    assert.equal(guard.admit('10.0.0.1:5353', 10), false)
  })

  test('drops are logged at most once per address per interval, with the counts since the last line', () => {
    const { guard, clock, lines } = guarded({ logInterval: 60_000 })
    for (let i = 0; i < 1000; i++) guard.drop(`10.0.0.1:${40000 + (i % 50)}`, 'bad-record')
    guard.drop('10.0.0.1:5353', 'malformed')
    assert.equal(lines.length, 1, 'one line however many packets and ports')
    assert.deepEqual(lines[0]?.dropped, { 'bad-record': 1 })
    guard.drop('10.0.0.2:5353', 'wrong-port')
    assert.equal(lines.length, 2, 'another address gets its own line')
    clock.now += 60_000
    guard.drop('10.0.0.1:5353', 'malformed')
    assert.equal(lines.length, 3)
    assert.deepEqual(lines[2]?.dropped, { 'bad-record': 999, malformed: 2 })
    assert.equal(lines[2]?.address, '10.0.0.1')
    assert.deepEqual(guard.dropped(), {
      'over-budget': 0,
      malformed: 2,
      'wrong-port': 1,
      'too-many-records': 0,
      'bad-record': 1000,
      'too-many-nodes': 0,
    })
  })
})

describe('mdns announcement reader', () => {
  const namespace = 'reader-test'
  const announcement = { namespace, service: serviceRecord('svc', '1.0.0', [node('n1')]) }
  const payload = encodePayload(announcement)
  const response = (answers: dnsPacket.Answer[]) =>
    dnsPacket.decode(dnsPacket.encode({ type: 'response', answers }))

  test('a renewal (the same bytes again) is not decoded again, so it needs no budget', () => {
    // Budget for one decode only: the second read must come from memory.
    const { guard } = guarded({ sourceRate: 1, sourceBurst: 1, totalRate: 1e9, totalBurst: 1e9 })
    const reader = new AnnouncementReader(guard)
    const packet = response(announcementAnswers(announcement, payload, 120))
    assert.deepEqual(
      reader.read(packet, '127.0.0.1:5353').map((r) => r.announcement),
      [announcement],
    )
    assert.deepEqual(
      reader.read(packet, '127.0.0.1:5353').map((r) => r.announcement),
      [announcement],
    )
    assert.equal(guard.dropped()['over-budget'], 0)
  })

  test('a refused payload sent again is refused again without decoding', () => {
    const { guard } = guarded({ sourceRate: 1, sourceBurst: 1, totalRate: 1e9, totalBurst: 1e9 })
    const reader = new AnnouncementReader(guard)
    const name = `x-000000000000.${namespaceTypeName(namespace)}`
    const bomb = deflateRawSync(Buffer.alloc(1024 * 1024, 0x5b))
    const chunks = Array.from({ length: Math.ceil(bomb.length / 255) }, (_, i) =>
      bomb.subarray(i * 255, (i + 1) * 255),
    )
    const packet = response([{ type: 'TXT', name, ttl: 120, data: chunks }])
    assert.deepEqual(reader.read(packet, '127.0.0.1:5353'), [])
    assert.deepEqual(reader.read(packet, '127.0.0.1:5353'), [])
    assert.deepEqual(
      { bad: guard.dropped()['bad-record'], budget: guard.dropped()['over-budget'] },
      { bad: 2, budget: 0 },
    )
  })

  test(`at most ${MAX_TXT_PER_PACKET} records of ours are read from one packet`, () => {
    const { guard } = guarded()
    const reader = new AnnouncementReader(guard)
    const answers = Array.from({ length: MAX_TXT_PER_PACKET + 3 }, (_, i) => {
      const one = { namespace, service: serviceRecord('svc', '1.0.0', [node(`n${i}`)]) }
      return announcementAnswers(one, encodePayload(one), 120)[4] as dnsPacket.Answer
    })
    assert.equal(reader.read(response(answers), '127.0.0.1:5353').length, MAX_TXT_PER_PACKET)
    assert.equal(guard.dropped()['too-many-records'], 1)
  })

  test('a payload under a name of another namespace is not believed', () => {
    const { guard } = guarded()
    const reader = new AnnouncementReader(guard)
    const name = `x-000000000000.${namespaceTypeName('other')}`
    assert.deepEqual(
      reader.read(response([{ type: 'TXT', name, ttl: 120, data: payload }]), '127.0.0.1:5353'),
      [],
    )
  })
})
