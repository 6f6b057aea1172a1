import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createLogger } from '../logger/logger.js'
import { MemoryRegistry } from '../registry/memory.js'
import { AmqpBroker } from './amqp.js'
import { bytes, collect } from './conformance-kit.js'
import { DefaultBroker } from './default.js'
import { brokerFromEnv, createBroker } from './from-env.js'
import { MemoryBroker } from './memory.js'
import { MqttBroker } from './mqtt.js'
import { NatsBroker } from './nats.js'
import { RedisBroker } from './redis.js'

const logger = createLogger({ level: 'silent' })

describe('createBroker', () => {
  test('builds each broker by name, case-insensitively; rabbitmq means amqp', async () => {
    const registry = new MemoryRegistry()
    const made = [
      createBroker('default', undefined, { registry, logger }),
      createBroker('Memory'),
      createBroker('nats', 'nats://127.0.0.1:1'),
      createBroker('redis'),
      createBroker('amqp'),
      createBroker('rabbitmq'),
      createBroker('mqtt'),
    ]
    const kinds = [DefaultBroker, MemoryBroker, NatsBroker, RedisBroker, AmqpBroker, AmqpBroker, MqttBroker]
    for (const [i, broker] of made.entries()) assert.ok(broker instanceof (kinds[i] as Function), broker.name)
    for (const broker of made) await broker.close()
    await registry.close()
  })

  test('an unknown name is a TypeError naming the choices', () => {
    assert.throws(
      () => createBroker('kafka'),
      (e: unknown) =>
        e instanceof TypeError &&
        e.message ===
          'unknown broker engine "kafka"; known: default, memory, nats, redis, amqp, mqtt, service',
    )
    assert.throws(() => brokerFromEnv({}, { MICRO_BROKER: 'kafka' }), {
      name: 'TypeError',
      message:
        'MICRO_BROKER=kafka: unknown broker engine; known: default, memory, nats, redis, amqp, mqtt, service',
    })
  })

  test('the default broker without a registry is a clear TypeError', () => {
    assert.throws(() => createBroker('default'), /needs a registry/)
  })

  test('MICRO_BROKER / MICRO_BROKER_ADDRESS choose; unset means default', async () => {
    const registry = new MemoryRegistry()
    const fromEnv = brokerFromEnv({ registry, logger }, {})
    assert.equal(fromEnv.name, 'default')
    await fromEnv.close()
    const nats = brokerFromEnv({}, { MICRO_BROKER: 'nats', MICRO_BROKER_ADDRESS: 'nats://127.0.0.1:1' })
    assert.equal(nats.name, 'nats')
    // Nothing listens there: a clear 503 naming the address.
    await assert.rejects(nats.connect(), /cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/)
    await nats.close()
    await registry.close()
  })

  test('memory brokers made by name share one hub', async () => {
    const a = createBroker('memory')
    const b = createBroker('memory')
    const got = await collect(b, 'from.env.memory')
    await a.publish('from.env.memory', { body: bytes('shared') })
    await got.waitFor(1)
    await a.close()
    await b.close()
  })

  test('engines that cannot be reached fail with a 503 naming the address', async () => {
    for (const [name, address] of [
      ['redis', 'redis://127.0.0.1:1'],
      ['amqp', 'amqp://guest:secret@127.0.0.1:1'],
      ['mqtt', 'mqtt://127.0.0.1:1'],
    ] as const) {
      const broker = createBroker(name, address, { logger })
      await assert.rejects(broker.publish('x', { body: bytes('x') }), (e: unknown) => {
        const detail = (e as { detail?: string }).detail ?? ''
        return (
          (e as { code?: number }).code === 503 &&
          detail.includes('cannot connect') &&
          !detail.includes('secret')
        )
      })
      await broker.close()
    }
  })
})
