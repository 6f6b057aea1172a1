// Forged mDNS traffic against a live service. Everything runs on a private group port on
// loopback (never 5353, which other processes on this machine use), and every attack is
// bounded: one packet, a 10/s flood for 5 s, one burst of queries.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import { after, before, describe, test } from 'node:test'
import { deflateRawSync } from 'node:zlib'
import dnsPacket from 'dns-packet'
import { createLogger } from '../../src/logger/logger.js'
import { MdnsRegistry } from '../../src/registry/mdns.js'
import { namespaceTypeName, serviceTypeName } from '../../src/registry/mdns-names.js'
import { decodePayloadChecked, MAX_JSON_DEPTH, MAX_RECORD_BYTES } from '../../src/registry/mdns-payload.js'
import type { WatchEvent } from '../../src/registry/registry.js'
import { createService, type Service } from '../../src/service/service.js'
import { type Child, spawnNode } from '../support/process.js'

const GROUP = '224.0.0.251'
const VICTIM = 'mdns-victim'
/** 4 MiB of `[`: about 4 KiB deflated, and JSON.parse chews on it for a second or more. */
const BOMB_JSON = Buffer.alloc(4 * 1024 * 1024, 0x5b)
const BOMB = deflateRawSync(BOMB_JSON, { level: 9 })

/** Cut bytes into TXT character-strings (at most 255 bytes each). */
function txt(bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = []
  for (let i = 0; i < bytes.length; i += 255) chunks.push(bytes.subarray(i, i + 255))
  return chunks
}

/** A response that looks like one of ours: PTR records and a TXT under an instance name. */
function forgedResponse(namespace: string, label: string, payload: Buffer, service = VICTIM): Buffer {
  const instance = `${label}.${namespaceTypeName(namespace)}`
  return dnsPacket.encode({
    type: 'response',
    flags: dnsPacket.AUTHORITATIVE_ANSWER,
    answers: [
      { type: 'PTR', name: namespaceTypeName(namespace), ttl: 120, data: instance },
      { type: 'PTR', name: serviceTypeName(namespace, service), ttl: 120, data: instance },
      { type: 'TXT', name: instance, ttl: 120, data: txt(payload) },
    ],
  })
}

/** A record of the right shape for `service` whose node points at the attacker. */
function forgedRecord(namespace: string, extra: Record<string, string> = {}): Record<string, unknown> {
  return {
    v: 1,
    namespace,
    service: { name: VICTIM, version: 'latest', metadata: extra, endpoints: [] },
    node: { id: `forged-${randomUUID()}`, address: '127.0.0.1:1', metadata: {} },
  }
}

function deflatedJson(value: unknown): Buffer {
  return deflateRawSync(Buffer.from(JSON.stringify(value)))
}

async function freeUdpPort(): Promise<number> {
  const probe = createSocket('udp4')
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve))
  const { port } = probe.address()
  await new Promise<void>((resolve) => probe.close(resolve))
  return port
}

/** A socket sending from the group port, as a real responder (or a determined attacker) does. */
async function attackerSocket(port: number): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true })
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(port, GROUP, () => resolve())
  })
  socket.setMulticastInterface('127.0.0.1')
  socket.setMulticastLoopback(true)
  return socket
}

function send(socket: Socket, packet: Buffer, port: number): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(packet, port, GROUP, (error) => (error ? reject(error) : resolve())),
  )
}

/** Wait (bounded) until `check` holds; fails with `what` otherwise. */
async function waitUntil(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('mdns decoder: a forged record is refused before it costs anything', () => {
  test('a deflate bomb stops inflating at the cap: 4 MiB never exists in memory', () => {
    assert.ok(BOMB.length < 8 * 1024, `the bomb is small on the wire (${BOMB.length} bytes)`)
    const outcome = decodePayloadChecked(txt(BOMB))
    assert.ok('refused' in outcome && outcome.refused === 'too-large', JSON.stringify(outcome))
    // What zlib handed the decoder: nothing, since zlib itself stopped at the cap. Were the cap
    // not passed to zlib, this would be the whole 4 MiB (refused afterwards, too late).
    assert.ok(outcome.inflated <= MAX_RECORD_BYTES, `inflated ${outcome.inflated}`)
  })

  test('a record of exactly the cap is inflated in full, one byte more is refused by zlib', () => {
    const exact = Buffer.alloc(MAX_RECORD_BYTES, 0x20)
    assert.deepEqual(decodePayloadChecked([deflateRawSync(exact)]), {
      refused: 'not-json',
      inflated: exact.length,
    })
    const over = Buffer.alloc(MAX_RECORD_BYTES + 1, 0x20)
    assert.deepEqual(decodePayloadChecked([deflateRawSync(over)]), { refused: 'too-large', inflated: 0 })
  })

  test('nesting deeper than the limit is refused before JSON.parse, whatever its size', () => {
    const deep = Buffer.from(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`)
    const outcome = decodePayloadChecked([deflateRawSync(deep)])
    // Valid JSON, so only the depth check can refuse it.
    assert.deepEqual(outcome, { refused: 'too-deep', inflated: deep.length })
    const open = Buffer.alloc(60 * 1024, 0x5b)
    assert.deepEqual(decodePayloadChecked(txt(deflateRawSync(open))), {
      refused: 'too-deep',
      inflated: open.length,
    })
  })

  test('compressed bytes over the datagram limit are refused without inflating at all', () => {
    const outcome = decodePayloadChecked(txt(Buffer.alloc(61_000, 1)))
    assert.deepEqual(outcome, { refused: 'compressed-too-large', inflated: 0 })
  })

  test('a well-formed record just over the cap is refused; one under it decodes', () => {
    const pad = (bytes: number) => 'x'.repeat(bytes)
    const base = Buffer.byteLength(JSON.stringify(forgedRecord('ns', { pad: '' })))
    const over = decodePayloadChecked([
      deflatedJson(forgedRecord('ns', { pad: pad(MAX_RECORD_BYTES - base + 1) })),
    ])
    assert.ok('refused' in over && over.refused === 'too-large')
    const under = decodePayloadChecked([
      deflatedJson(forgedRecord('ns', { pad: pad(MAX_RECORD_BYTES - base) })),
    ])
    assert.ok('announcement' in under, JSON.stringify(under).slice(0, 200))
    assert.equal(under.inflated, MAX_RECORD_BYTES)
  })
})

describe('mdns under forged traffic: a live service keeps answering lookups and calls', () => {
  const namespace = `abuse-${randomUUID().slice(0, 8)}`
  let port = 0
  let victim: Child
  let victimAddress = ''
  let observer: MdnsRegistry
  let caller: Service
  let attacker: Socket
  const observerLog: string[] = []
  const events: WatchEvent[] = []
  const watchAbort = new AbortController()

  before(async () => {
    port = await freeUdpPort()
    victim = spawnNode(['--import', 'tsx', 'test/fixtures/mdns-victim.ts'], {
      MICRO_REGISTRY: 'mdns',
      MICRO_REGISTRY_ADDRESS: `${GROUP}:${port}`,
      MICRO_NAMESPACE: namespace,
      VICTIM_NAME: VICTIM,
      // Its registry reports drops at warn level; the test counts those lines.
      MICRO_LOG_LEVEL: 'warn',
    })
    victimAddress = (await victim.waitFor(/serving on (\S+)/, 30_000))[1] as string
    // Lookups wait 1 s for answers (not 100 ms): on a loaded machine the victim may take a while
    // to be scheduled, and a slow answer is not what these tests are about.
    observer = new MdnsRegistry({
      port,
      queryTimeout: 1000,
      logger: createLogger({ level: 'warn', write: (line) => observerLog.push(line) }),
    })
    caller = createService({
      name: 'abuse-caller',
      namespace,
      registry: new MdnsRegistry({ port, queryTimeout: 1000, logger: createLogger({ level: 'silent' }) }),
      logger: createLogger({ level: 'silent' }),
      handleSignals: false,
    })
    attacker = await attackerSocket(port)
    await observer.ready()
    void (async () => {
      for await (const event of observer.watch({ namespace, signal: watchAbort.signal })) events.push(event)
    })()
    await waitUntil('the victim to be discoverable', async () => {
      try {
        return (await observer.getService(VICTIM, { namespace })).length > 0
      } catch {
        return false
      }
    })
  })

  after(async () => {
    watchAbort.abort()
    attacker?.close()
    await caller?.stop().catch(() => {})
    await caller?.registry.close()
    await observer?.close()
    victim?.process.kill('SIGTERM')
    await victim?.exited
  })

  /** The victim as looked up now: its one real node, nothing forged. */
  async function assertOnlyTheVictim(): Promise<void> {
    const records = await observer.getService(VICTIM, { namespace })
    assert.deepEqual(
      records.flatMap((r) => r.nodes.map((n) => n.address)),
      [victimAddress],
    )
    const all = await observer.listServices({ namespace })
    assert.deepEqual(
      all.map((r) => r.name),
      [VICTIM],
    )
  }

  function assertNoForgedEvents(): void {
    for (const event of events) {
      for (const node of event.service.nodes) assert.equal(node.address, victimAddress, JSON.stringify(event))
    }
  }

  test('one inflating packet is refused, reported, and changes nothing', async () => {
    const before = observer.dropped()['bad-record']
    await send(attacker, forgedResponse(namespace, `bomb-${randomUUID().slice(0, 8)}`, BOMB), port)
    await waitUntil('the bomb to be refused', () => observer.dropped()['bad-record'] > before)
    assert.deepEqual(await caller.client.call(VICTIM, 'Echo.Hi', { n: 1 }), { n: 1 })
    await assertOnlyTheVictim()
    assertNoForgedEvents()
    assert.equal(observerLog.length, 1, 'the first drop from an address is reported once')
    assert.match(observerLog[0] as string, /dropped inbound traffic/)
  })

  test('10 forged packets a second for 5 s: every lookup and call during the flood succeeds', async () => {
    const refused = () => {
      const dropped = observer.dropped()
      return dropped['bad-record'] + dropped['over-budget'] + dropped['too-many-records']
    }
    const refusedBefore = refused()
    const forged = (i: number): Buffer => {
      const label = `flood-${i}-${randomUUID().slice(0, 8)}`
      switch (i % 4) {
        case 0:
          return forgedResponse(namespace, label, BOMB)
        case 1: // the right shape, claiming to be the victim, over the size cap
          return forgedResponse(
            namespace,
            label,
            deflatedJson(forgedRecord(namespace, { pad: 'y'.repeat(200_000) })),
          )
        case 2: // valid JSON nested 5000 deep: JSON.parse would be slow, the depth check is not
          return forgedResponse(
            namespace,
            label,
            deflateRawSync(Buffer.from(`{"v":1,"x":${'['.repeat(5000)}${']'.repeat(5000)}}`)),
          )
        default: // 40 bombs in one packet: more records than any packet of ours, dropped unread
          return dnsPacket.encode({
            type: 'response',
            answers: Array.from({ length: 40 }, (_, j) => ({
              type: 'TXT' as const,
              name: `${label}-${j}.${namespaceTypeName(namespace)}`,
              ttl: 120,
              data: txt(BOMB.subarray(0, 1000)),
            })),
          })
      }
    }
    const packets = Array.from({ length: 50 }, (_, i) => forged(i))
    let flooding = true
    const flood = (async () => {
      for (const packet of packets) {
        await send(attacker, packet, port)
        await new Promise((r) => setTimeout(r, 100))
      }
      flooding = false
    })()
    // Should an assertion below fail first, the flood ends on its own; its sends may then fail.
    flood.catch(() => {})
    let calls = 0
    let lookups = 0
    // Calls (through the caller's cache) and lookups (straight to the network: a PTR query the
    // victim answers) run side by side for as long as the flood lasts; each one must succeed.
    const calling = (async () => {
      while (flooding) {
        assert.deepEqual(await caller.client.call(VICTIM, 'Echo.Hi', { n: calls }), { n: calls })
        calls++
      }
    })()
    const looking = (async () => {
      while (flooding) {
        const records = await observer.getService(VICTIM, { namespace })
        assert.deepEqual(
          records.flatMap((r) => r.nodes.map((n) => n.address)),
          [victimAddress],
        )
        lookups++
      }
    })()
    await Promise.all([calling, looking])
    await flood
    assert.ok(calls > 0 && lookups > 0)
    await waitUntil('every forged packet to be refused', () => refused() - refusedBefore >= packets.length)
    await assertOnlyTheVictim()
    assertNoForgedEvents()
    assert.equal(observerLog.length, 1, 'still one line: an address is reported at most once a minute')
    const victimReports = victim.stderr().match(/dropped inbound traffic/g) ?? []
    assert.equal(victimReports.length, 1, victim.stderr())
  })

  test('a burst of forged queries is answered at most once per node per interval', async () => {
    const listener = createSocket({ type: 'udp4', reuseAddr: true })
    let answers = 0
    listener.on('message', (message) => {
      try {
        const packet = dnsPacket.decode(message)
        if (packet.type === 'response' && packet.answers?.some((a) => a.type === 'TXT')) answers++
      } catch {}
    })
    await new Promise<void>((resolve) => listener.bind(port, GROUP, () => resolve()))
    listener.addMembership(GROUP, '127.0.0.1')
    try {
      const query = dnsPacket.encode({
        type: 'query',
        questions: [{ type: 'PTR', name: namespaceTypeName(namespace) }],
      })
      const queries = 200
      await Promise.all(Array.from({ length: queries }, () => send(attacker, query, port)))
      await waitUntil('the victim to answer', () => answers > 0)
      // Let any later answers arrive: they would come within a few answer intervals.
      await new Promise((r) => setTimeout(r, 500))
      assert.ok(answers < queries / 4, `${answers} answers to ${queries} queries`)
      assert.deepEqual(await caller.client.call(VICTIM, 'Echo.Hi', { n: 7 }), { n: 7 })
    } finally {
      listener.close()
    }
  })
})

describe('mdns: valid-looking nodes cannot grow memory without bound', () => {
  test('past maxPeerNodes new nodes are dropped and counted; known ones still renew and leave', async () => {
    const port = await freeUdpPort()
    const namespace = `abuse-${randomUUID().slice(0, 8)}`
    const registry = new MdnsRegistry({
      port,
      limits: { maxPeerNodes: 5 },
      logger: createLogger({ level: 'silent' }),
    })
    const attacker = await attackerSocket(port)
    const abort = new AbortController()
    const events: WatchEvent[] = []
    try {
      await registry.ready()
      void (async () => {
        for await (const event of registry.watch({ namespace, signal: abort.signal })) events.push(event)
      })()
      const records = Array.from({ length: 20 }, () => forgedRecord(namespace))
      const packet = (record: Record<string, unknown>, ttl: number) => {
        const node = record.node as { id: string }
        const name = `${node.id}.${namespaceTypeName(namespace)}`
        return dnsPacket.encode({
          type: 'response',
          answers: [{ type: 'TXT', name, ttl, data: txt(deflatedJson(record)) }],
        })
      }
      for (const record of records) await send(attacker, packet(record, 120), port)
      await waitUntil(
        '20 nodes to be handled',
        () => events.length + registry.dropped()['too-many-nodes'] >= 20,
      )
      assert.equal(events.length, 5)
      assert.ok(events.every((e) => e.action === 'create'))
      assert.equal(registry.dropped()['too-many-nodes'], 15)
      // A goodbye for a remembered node frees its place.
      await send(attacker, packet(records[0] as Record<string, unknown>, 0), port)
      await waitUntil('the goodbye', () => events.length === 6)
      assert.equal(events[5]?.action, 'delete')
    } finally {
      abort.abort()
      attacker.close()
      await registry.close()
    }
  })
})
