import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { MemoryBroker } from '../broker/memory.js'
import { Codecs } from '../codec/codecs.js'
import { MemoryEvents } from '../events/memory.js'
import { MemoryRegistry } from '../registry/memory.js'
import { MemoryStore } from '../store/memory.js'
import { MemorySync } from '../sync/memory.js'
import { DEFAULT_LIMITS, NO_LIMITS } from '../transport/limits.js'
import { MicroTransport } from '../transport/micro-transport.js'
import { createService } from './service.js'
import { resolveSettings } from './settings.js'

const KNOWN = {
  MICRO_REGISTRY: 'registry engine; known: mdns, memory, nats, service',
  MICRO_TRANSPORT: 'transport engine; known: micro, nats, grpc',
  MICRO_BROKER: 'broker engine; known: default, memory, nats, redis, amqp, mqtt, service',
  MICRO_EVENTS: 'events engine; known: file, memory, nats, redis, service',
  MICRO_STORE: 'store engine; known: file, memory, redis, postgres, nats, service',
  MICRO_SYNC: 'sync engine; known: file, memory, redis, postgres, nats',
} as const

test('an unknown engine in any MICRO_<BLOCK> stops the service at start, naming the known ones', () => {
  for (const [variable, known] of Object.entries(KNOWN)) {
    assert.throws(() => resolveSettings({ name: 'x' }, { [variable]: 'etcd' }), {
      name: 'TypeError',
      message: `${variable}=etcd: unknown ${known}`,
    })
  }
})

test('createService itself refuses a misspelt engine before anything is opened', () => {
  const saved = process.env.MICRO_SYNC
  process.env.MICRO_SYNC = 'etcd'
  try {
    assert.throws(() => createService({ name: 'engine-check', handleSignals: false }), {
      name: 'TypeError',
      message: `MICRO_SYNC=etcd: unknown ${KNOWN.MICRO_SYNC}`,
    })
  } finally {
    if (saved === undefined) delete process.env.MICRO_SYNC
    else process.env.MICRO_SYNC = saved
  }
})

test('names are trimmed and case-blind; aliases and empty values are accepted', () => {
  const env = {
    MICRO_REGISTRY: ' Memory ',
    MICRO_TRANSPORT: '',
    MICRO_BROKER: 'RabbitMQ',
    MICRO_STORE: 'postgresql',
    MICRO_SYNC: 'NATS',
  }
  const settings = resolveSettings({ name: 'x' }, env)
  assert.equal(settings.registryName, 'memory')
  assert.equal(settings.transportName, 'micro')
})

test('a block given in the options does not read its variable', async () => {
  const given = {
    registry: new MemoryRegistry(),
    transport: new MicroTransport(),
    broker: new MemoryBroker(),
    events: new MemoryEvents(),
    store: new MemoryStore(),
    sync: new MemorySync(),
  }
  const env = Object.fromEntries(Object.keys(KNOWN).map((variable) => [variable, 'bogus']))
  try {
    const settings = resolveSettings({ name: 'x', ...given }, env)
    assert.equal(settings.registryName, undefined)
    assert.equal(settings.transportName, undefined)
  } finally {
    await given.registry.close()
    await given.transport.close()
    await given.broker.close()
    await given.events.close()
    await given.store.close()
    await given.sync.close()
  }
})

describe('service settings: port limits', () => {
  test('limits come from the option, then MICRO_SERVER_* variables, then the defaults', () => {
    assert.deepEqual(resolveSettings({ name: 's' }, {}).limits, DEFAULT_LIMITS)
    assert.deepEqual(resolveSettings({ name: 's', limits: false }, {}).limits, NO_LIMITS)
    const env = { MICRO_SERVER_IDLE_TIMEOUT: '30s', MICRO_SERVER_MAX_FRAME_SIZE: '1MiB' }
    const s = resolveSettings({ name: 's', limits: { maxConnectionCalls: 10 } }, env)
    assert.equal(s.limits.idleTimeout, 30_000)
    assert.equal(s.limits.maxConnectionCalls, 10)
    assert.equal(s.maxFrameSize, 1024 * 1024)
    assert.equal(resolveSettings({ name: 's', maxFrameSize: 100 }, env).maxFrameSize, 100)
  })

  test('a JSON depth other than the default gets its own codecs; a codecs option is kept', () => {
    assert.equal(resolveSettings({ name: 's' }, {}).codecs, undefined)
    const deeper = resolveSettings({ name: 's' }, { MICRO_SERVER_MAX_JSON_DEPTH: '300' }).codecs
    const text = Buffer.from(`${'['.repeat(200)}${']'.repeat(200)}`)
    assert.ok(deeper?.get('application/json')?.decode(text))
    const own = new Codecs()
    assert.equal(resolveSettings({ name: 's', codecs: own, limits: { maxJsonDepth: 5 } }, {}).codecs, own)
  })
})
