import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { after, describe, test } from 'node:test'
import { acquireNats } from '../engines/nats.js'
import { testServer } from '../testing/servers.js'
import { TcpProxy } from '../testing/tcp-proxy.js'
import { registryConformance } from './conformance.js'
import { expectNotFound, iterate, nextEvent, node, serviceRecord, uniqueName } from './conformance-kit.js'
import { NatsRegistry, type NatsRegistryOptions } from './nats.js'
import { announceSubject, querySubject } from './nats-protocol.js'

const nats = testServer('nats')
// Every run has its own subjects: registries under another prefix never see each other.
const prefix = `t-${randomUUID().slice(0, 8)}.registry`

describe('nats registry', { skip: nats.skip }, () => {
  const make = (options: NatsRegistryOptions = {}) =>
    new NatsRegistry({ address: nats.address, prefix, sweepInterval: 100, queryStall: 30, ...options })

  registryConformance('nats', () => make())

  const cleanup: (() => Promise<unknown> | unknown)[] = []
  after(async () => {
    for (const fn of cleanup.reverse()) await fn()
  })
  const pair = async () => {
    const a = make()
    const b = make()
    cleanup.push(
      () => a.close(),
      () => b.close(),
    )
    await Promise.all([a.ready(), b.ready()])
    return [a, b] as const
  }

  test('another instance finds the service by getService and by watch, and sees it withdrawn', async () => {
    const [a, b] = await pair()
    // A namespace that is not a subject token travels hashed.
    const namespace = `t ${randomUUID()}.x*`
    const events = iterate(b.watch({ namespace }))
    await b.ready()
    const record = serviceRecord(uniqueName(), '1.0.0', [node('remote-1')])
    await a.register(record, { namespace })
    const created = await nextEvent(events, 2000)
    assert.equal(created.action, 'create')
    assert.equal(created.namespace, namespace)
    assert.deepEqual(created.service, record)
    assert.deepEqual(await b.getService(record.name, { namespace }), [record])
    assert.deepEqual(
      (await b.listServices({ namespace: '*' })).filter((r) => r.name === record.name),
      [record],
    )
    const changed = { ...record, metadata: { owner: 'changed' } }
    await a.register(changed, { namespace })
    const updated = await nextEvent(events, 2000)
    assert.equal(updated.action, 'update')
    assert.deepEqual(updated.service.metadata, { owner: 'changed' })
    await a.deregister(changed, { namespace })
    const deleted = await nextEvent(events, 2000)
    assert.equal(deleted.action, 'delete')
    assert.deepEqual(
      deleted.service.nodes.map((n) => n.id),
      ['remote-1'],
    )
    await expectNotFound(b.getService(record.name, { namespace }))
  })

  test('a node whose owner stops renewing is removed after its TTL, for lookups and watchers', async () => {
    const address = new URL(nats.address as string)
    const proxy = await TcpProxy.start(`${address.hostname}:${address.port}`)
    cleanup.push(() => proxy.close())
    const owner = make({ address: `nats://${proxy.address}` })
    const [, b] = await pair()
    cleanup.push(() => owner.close())
    const namespace = `t-${randomUUID()}`
    const early = serviceRecord(uniqueName('early'), '1.0.0', [node('early-1')])
    const late = serviceRecord(uniqueName('late'), '1.0.0', [node('late-1')])
    // Registered before anyone watches: the watcher learns it from its first query.
    await owner.register(early, { namespace, ttl: 1500 })
    const events = iterate(b.watch({ namespace }))
    await b.ready()
    await owner.register(late, { namespace, ttl: 1500 })
    assert.equal((await nextEvent(events, 2000)).service.name, late.name)
    // The owner's process "hangs": its NATS connection is gone, it can neither renew nor withdraw.
    proxy.refuse()
    proxy.cut()
    const cutAt = Date.now()
    // It no longer answers lookups at once...
    await expectNotFound(b.getService(late.name, { namespace }))
    // ...and watchers drop both nodes when their TTL runs out, without any withdrawal.
    const gone = new Set<string>()
    while (gone.size < 2) {
      const event = await nextEvent(events, 4000)
      assert.equal(event.action, 'delete')
      gone.add(event.service.name)
    }
    assert.deepEqual([...gone].sort(), [early.name, late.name].sort())
    assert.ok(Date.now() - cutAt >= 800, 'deleted before the TTL ran out')
  })

  test('garbage on the registry subjects is ignored and lookups keep working', async () => {
    const [a, b] = await pair()
    const namespace = `t-${randomUUID()}`
    const events = iterate(b.watch({ namespace }))
    await b.ready()
    const record = serviceRecord(uniqueName(), '1.0.0', [node('n1')])
    await a.register(record, { namespace })
    assert.equal((await nextEvent(events, 2000)).action, 'create')
    const link = acquireNats({ address: nats.address, usedBy: 'test' })
    cleanup.push(() => link.release())
    const nc = await link.ready
    const victim = serviceRecord('victim', '1.0.0', [node('v1')])
    const payloads = [
      randomBytes(40),
      Buffer.from('{not json'),
      Buffer.from(JSON.stringify([1, 2, 3])),
      Buffer.from(JSON.stringify({ v: 1, from: 'x', namespace, ttl: 'long', service: victim })),
      Buffer.from(
        JSON.stringify({ v: 1, from: 'x', namespace, ttl: 5000, service: { ...victim, nodes: [{}] } }),
      ),
    ]
    for (const payload of payloads) {
      nc.publish(announceSubject(prefix, namespace), payload)
      nc.publish(querySubject(prefix, namespace), payload, { reply: `${prefix}.nowhere` })
    }
    // A valid announcement of this namespace on another namespace's subject must not be believed.
    const misfiled = { v: 1, from: 'x', namespace, ttl: 5000, service: victim }
    nc.publish(announceSubject(prefix, `${namespace}-x`), Buffer.from(JSON.stringify(misfiled)))
    await nc.flush()
    await expectNotFound(b.getService('victim', { namespace }))
    assert.deepEqual(await b.getService(record.name, { namespace }), [record])
    await a.deregister(record, { namespace })
    // The next event is the withdrawal: none of the garbage became an event.
    const next = await nextEvent(events, 2000)
    assert.equal(next.action, 'delete')
    assert.equal(next.service.name, record.name)
  })

  test('an announcement over the NATS max_payload is refused with a 413', async () => {
    const registry = make()
    cleanup.push(() => registry.close())
    const huge = serviceRecord(uniqueName(), '1.0.0', [node('big')])
    huge.metadata.blob = randomBytes(800_000).toString('base64')
    await assert.rejects(registry.register(huge, { namespace: `t-${randomUUID()}` }), { code: 413 })
  })

  test('operations after close are refused and watchers end at once', async () => {
    const registry = make()
    await registry.close()
    await assert.rejects(registry.getService('x'), { code: 503 })
    await assert.rejects(registry.register(serviceRecord('x', '1', [node('n')])), { code: 503 })
    assert.equal((await iterate(registry.watch()).next()).done, true)
  })

  test('no NATS server: lookups fail with a 503 naming it, and nothing hangs', async () => {
    const registry = new NatsRegistry({ address: 'nats://127.0.0.1:1', prefix })
    cleanup.push(() => registry.close())
    await assert.rejects(registry.getService('x'), (e: unknown) => {
      assert.match(String((e as Error).message), /cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/)
      return (e as { code?: number }).code === 503
    })
  })
})
