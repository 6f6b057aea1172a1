import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { deflateRawSync } from 'node:zlib'
import dnsPacket from 'dns-packet'
import { createLogger } from '../logger/logger.js'
import { node, serviceRecord } from './conformance-kit.js'
import { InboundGuard } from './mdns-guard.js'
import { instanceName, isInstanceName, namespaceLabel, namespaceTypeName, srvData } from './mdns-names.js'
import { decodePayload, encodePayload } from './mdns-payload.js'
import { AnnouncementReader } from './mdns-reader.js'
import { type Announcement, announcementAnswers } from './mdns-records.js'

function readAnnouncements(packet: dnsPacket.Packet) {
  const reader = new AnnouncementReader(new InboundGuard({}, createLogger({ level: 'silent' })))
  return reader.read(packet, '127.0.0.1:5353')
}

const announcement: Announcement = {
  namespace: 'Tenant One/α',
  service: serviceRecord('greeter', '1.2.3', [node('greeter-1')]),
}

describe('mdns names', () => {
  test('safe namespaces are used as they are; others are encoded into one safe label', () => {
    assert.equal(namespaceLabel('micro'), 'micro')
    assert.equal(namespaceLabel('t-123'), 't-123')
    assert.equal(namespaceLabel('Micro'), `x--${Buffer.from('Micro').toString('hex')}`)
    assert.equal(namespaceLabel('a.b'), `x--${Buffer.from('a.b').toString('hex')}`)
    // A raw name must never look like an encoded one, or two namespaces could share a label.
    assert.notEqual(namespaceLabel('x--6d'), 'x--6d')
    const long = namespaceLabel('n'.repeat(200))
    assert.match(long, /^h--[0-9a-f]{40}$/)
    for (const ns of ['Micro', 'a.b', 'x--6d', 'n'.repeat(200), '*', '']) {
      assert.match(namespaceLabel(ns), /^[a-z0-9-]{1,63}$/)
    }
  })

  test('instance names are valid DNS names, unique per service, version and node', () => {
    const a = instanceName('micro', 'greeter', '1', 'Node.With Dots_and*stars'.repeat(5))
    assert.ok(isInstanceName(a), a)
    for (const label of a.split('.')) assert.ok(label.length > 0 && label.length <= 63, label)
    assert.notEqual(a, instanceName('micro', 'greeter', '2', 'Node.With Dots_and*stars'.repeat(5)))
    assert.ok(a.endsWith(`.${namespaceTypeName('micro')}`))
    assert.equal(isInstanceName('something.else.local'), false)
  })

  test('SRV data comes from the address, with safe fallbacks', () => {
    assert.deepEqual(srvData('127.0.0.1:8080'), { port: 8080, target: '127.0.0.1' })
    assert.deepEqual(srvData('[::1]:9000'), { port: 9000, target: '::1' })
    assert.deepEqual(srvData('host.example:70000'), { port: 0, target: 'host.example' })
    assert.deepEqual(srvData('bad host!:1'), { port: 1, target: 'localhost' })
  })
})

describe('mdns records', () => {
  test('a payload survives encoding, in TXT strings of at most 255 bytes', () => {
    const big = structuredClone(announcement)
    big.service.metadata.notes = Array.from({ length: 400 }, (_, i) => `note ${i} ${i * 7919}`).join(';')
    const chunks = encodePayload(big)
    assert.ok(chunks.length > 1)
    for (const chunk of chunks) assert.ok(chunk.length <= 255)
    assert.deepEqual(decodePayload(chunks), big)
  })

  test('announcements round-trip through a DNS packet, with their TTL', () => {
    const answers = announcementAnswers(announcement, encodePayload(announcement), 42)
    const packet = dnsPacket.decode(dnsPacket.encode({ type: 'response', answers }))
    assert.deepEqual(readAnnouncements(packet), [{ announcement, ttl: 42 }])
    const goodbye = dnsPacket.decode(
      dnsPacket.encode({
        type: 'response',
        answers: announcementAnswers(announcement, encodePayload(announcement), 0),
      }),
    )
    assert.equal(readAnnouncements(goodbye)[0]?.ttl, 0)
  })

  test('anything but a valid payload decodes to nothing', () => {
    const deflated = (value: unknown) => [deflateRawSync(Buffer.from(JSON.stringify(value)))]
    const valid = JSON.parse(
      JSON.stringify({
        v: 1,
        namespace: 'micro',
        service: { name: 's', version: '1', metadata: {}, endpoints: [] },
        node: { id: 'n', address: 'a:1', metadata: {} },
      }),
    )
    assert.ok(decodePayload(deflated(valid)))
    const broken = [
      [],
      ['a string'],
      [Buffer.from('not deflated')],
      [deflateRawSync(Buffer.from('{"v":1,'))],
      deflated(null),
      deflated([valid]),
      deflated({ ...valid, v: 2 }),
      deflated({ ...valid, namespace: 7 }),
      deflated({ ...valid, service: { ...valid.service, name: '' } }),
      deflated({ ...valid, service: { ...valid.service, metadata: { k: 1 } } }),
      deflated({ ...valid, service: { ...valid.service, endpoints: [{ name: 'x' }] } }),
      deflated({
        ...valid,
        service: { ...valid.service, endpoints: [{ name: 'x', metadata: {}, request: 'no' }] },
      }),
      deflated({ ...valid, node: { ...valid.node, id: 5 } }),
      deflated({ ...valid, node: { id: 'n', metadata: {} } }),
      // A deflate bomb: tiny on the wire, larger than we are willing to inflate.
      [deflateRawSync(Buffer.alloc(8 * 1024 * 1024, 0x20))],
    ]
    for (const data of broken) assert.equal(decodePayload(data), undefined, JSON.stringify(data).slice(0, 80))
  })
})
