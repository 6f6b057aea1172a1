import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { iterate, nextEvent, node, serviceRecord, uniqueName } from './conformance-kit.js'
import { createRegistry, parseMdnsAddress, registryFromEnv } from './from-env.js'

test('createRegistry: mdns by default and by name', async () => {
  for (const registry of [createRegistry(), createRegistry(' MDNS '), registryFromEnv({})]) {
    assert.equal(registry.name, 'mdns')
    await registry.close()
  }
})

test('createRegistry: memory registries of one process see each other', async () => {
  const a = createRegistry('memory')
  const b = registryFromEnv({ MICRO_REGISTRY: 'memory' })
  const namespace = `t-${randomUUID()}`
  const record = serviceRecord(uniqueName(), '1.0.0', [node('n1')])
  const events = iterate(b.watch({ namespace }))
  await a.register(record, { namespace })
  assert.deepEqual(await b.getService(record.name, { namespace }), [record])
  assert.equal((await nextEvent(events, 1000)).action, 'create')
  // Closing one handle ends its own watchers but leaves the shared registry working.
  await b.close()
  assert.equal((await events.next()).done, true)
  assert.deepEqual(await a.getService(record.name, { namespace }), [record])
  await a.deregister(record, { namespace })
  await a.close()
})

test('createRegistry: nats by name, connecting only when first used', async () => {
  for (const registry of [
    createRegistry('nats', 'nats://127.0.0.1:4222'),
    registryFromEnv({ MICRO_REGISTRY: 'NATS', MICRO_REGISTRY_ADDRESS: 'nats://127.0.0.1:4222' }),
  ]) {
    assert.equal(registry.name, 'nats')
    await registry.close()
  }
})

test('createRegistry: an unknown name is refused with the valid choices', () => {
  assert.throws(() => createRegistry('consul'), {
    name: 'TypeError',
    message: 'unknown registry engine "consul"; known: mdns, memory, nats, service',
  })
  assert.throws(() => registryFromEnv({ MICRO_REGISTRY: 'consul' }), {
    name: 'TypeError',
    message: 'MICRO_REGISTRY=consul: unknown registry engine; known: mdns, memory, nats, service',
  })
})

test('parseMdnsAddress: group[:port], or a URL naming an interface or a query timeout', () => {
  assert.deepEqual(parseMdnsAddress('224.0.0.251:5353'), { ip: '224.0.0.251', port: 5353 })
  assert.deepEqual(parseMdnsAddress('239.1.2.3'), { ip: '239.1.2.3' })
  assert.deepEqual(parseMdnsAddress('mdns://224.0.0.251:5354?interface=192.168.1.10'), {
    ip: '224.0.0.251',
    port: 5354,
    interface: '192.168.1.10',
  })
  assert.deepEqual(parseMdnsAddress('mdns://?timeout=1000'), { queryTimeout: 1000 })
  assert.throws(() => parseMdnsAddress('mdns://?timeout=soon'), /timeout must be whole ms/)
  assert.throws(() => parseMdnsAddress('10.0.0.1:5353'), /not an IPv4 multicast group/)
  assert.throws(() => parseMdnsAddress('224.0.0.251:notaport'), /bad mdns registry address/)
  assert.throws(
    () => parseMdnsAddress('mdns://224.0.0.251?interface=eth0'),
    /interface must be an IPv4 address/,
  )
})
