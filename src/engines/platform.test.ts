import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BROKER_ENGINES, brokerFromEnv } from '../broker/from-env.js'
import { ServiceBroker } from '../broker/service.js'
import { CONFIG_ENGINES, configSourceFromEnv } from '../config/platform-source.js'
import { EVENTS_ENGINES, eventsFromEnv } from '../events/from-env.js'
import { ServiceEvents } from '../events/service.js'
import { REGISTRY_ENGINES, registryFromEnv } from '../registry/from-env.js'
import { ServiceRegistry } from '../registry/service.js'
import { STORE_ENGINES, storeFromEnv } from '../store/from-env.js'
import { ServiceStore } from '../store/service.js'
import { SYNC_ENGINES } from '../sync/from-env.js'
import { TRANSPORT_ENGINES } from '../transport/from-env.js'
import { acquirePlatform, openPlatformClients, platformAddress } from './platform.js'

test('MICRO_PLATFORM alone moves every block with a service engine onto the platform', () => {
  const env = { MICRO_PLATFORM: '10.0.0.5:8081' }
  assert.equal(REGISTRY_ENGINES.fromEnv(env, 'MICRO_REGISTRY'), 'service')
  assert.equal(BROKER_ENGINES.fromEnv(env, 'MICRO_BROKER'), 'service')
  assert.equal(EVENTS_ENGINES.fromEnv(env, 'MICRO_EVENTS'), 'service')
  assert.equal(STORE_ENGINES.fromEnv(env, 'MICRO_STORE'), 'service')
  assert.equal(CONFIG_ENGINES.fromEnv(env, 'MICRO_CONFIG'), 'service')
  // Blocks without a service engine keep their default: the transport serves the service's
  // own port, and locks stay on this machine.
  assert.equal(TRANSPORT_ENGINES.fromEnv(env, 'MICRO_TRANSPORT'), 'micro')
  assert.equal(SYNC_ENGINES.fromEnv(env, 'MICRO_SYNC'), 'file')
  // A block named explicitly keeps its engine.
  assert.equal(STORE_ENGINES.fromEnv({ ...env, MICRO_STORE: 'memory' }, 'MICRO_STORE'), 'memory')
  assert.equal(STORE_ENGINES.fromEnv({ ...env, MICRO_STORE: ' ' }, 'MICRO_STORE'), 'service')
  // Without MICRO_PLATFORM nothing changes.
  assert.equal(STORE_ENGINES.fromEnv({}, 'MICRO_STORE'), 'file')
  assert.equal(CONFIG_ENGINES.fromEnv({}, 'MICRO_CONFIG'), 'local')
})

test('the service engines find the platform: own address, else MICRO_PLATFORM, else 127.0.0.1:8081', async () => {
  const env = { MICRO_PLATFORM: '10.0.0.5:8081', MICRO_STORE_ADDRESS: '10.0.0.9:9000' }
  const registry = registryFromEnv(env)
  const broker = brokerFromEnv({ namespace: 'shop' }, env)
  const events = eventsFromEnv(env)
  const store = storeFromEnv(env)
  try {
    assert.ok(registry instanceof ServiceRegistry)
    assert.ok(broker instanceof ServiceBroker)
    assert.ok(events instanceof ServiceEvents)
    assert.ok(store instanceof ServiceStore)
    assert.equal(registry.address, '10.0.0.5:8081')
    assert.equal(broker.address, '10.0.0.5:8081')
    assert.equal(events.address, '10.0.0.5:8081')
    assert.equal(store.address, '10.0.0.9:9000')
    const explicit = storeFromEnv({ MICRO_STORE: 'service' })
    assert.equal((explicit as ServiceStore).address, '127.0.0.1:8081')
    await explicit.close()
    // Nothing is dialled until first used.
    assert.equal(openPlatformClients(), 0)
  } finally {
    await Promise.all([registry.close(), broker.close(), events.close(), store.close()])
  }
  assert.equal(configSourceFromEnv({}, 'micro'), undefined)
  assert.match(configSourceFromEnv(env, 'shop')?.name ?? '', /^platform:10\.0\.0\.5:8081\/shop\/config$/)
  assert.throws(
    () => configSourceFromEnv({ MICRO_CONFIG: 'etcd' }, 'micro'),
    /MICRO_CONFIG=etcd: unknown config engine; known: local, service/,
  )
})

test('platformAddress trims and takes micro:// off', () => {
  assert.equal(platformAddress(' micro://h:1 ', {}), 'h:1')
  assert.equal(platformAddress(undefined, { MICRO_PLATFORM: ' p:2 ' }), 'p:2')
  assert.equal(platformAddress('', {}), '127.0.0.1:8081')
})

test('the service engines of a process share one client per platform address', async () => {
  const a = acquirePlatform('127.0.0.1:1')
  const b = acquirePlatform('127.0.0.1:1')
  const c = acquirePlatform('127.0.0.1:2')
  assert.equal(openPlatformClients(), 2)
  await a.release()
  await a.release()
  assert.equal(openPlatformClients(), 2, 'released twice counts once')
  await b.release()
  assert.equal(openPlatformClients(), 1)
  await c.release()
  assert.equal(openPlatformClients(), 0)
  await assert.rejects(a.call('Store.Read', {}), /released/)
})
