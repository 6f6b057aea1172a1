import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createLogger } from '../logger/logger.js'
import { brokerConformance } from './conformance.js'
import { LazyBroker, lazyBrokerFromEnv } from './lazy.js'
import { MemoryBroker, MemoryHub } from './memory.js'

const hub = new MemoryHub()
const logger = createLogger({ level: 'silent' })

brokerConformance(
  'lazy (memory)',
  () => new LazyBroker('memory', async () => new MemoryBroker({ hub, logger })),
)

describe('lazy broker', () => {
  test('loaded on the first call; a publish before it waits for the load', async () => {
    let loads = 0
    const own = new MemoryHub()
    const broker = new LazyBroker('memory', async () => {
      loads++
      return new MemoryBroker({ hub: own, logger })
    })
    assert.equal(loads, 0)
    const got: string[] = []
    await broker.subscribe('t', (m) => {
      got.push(Buffer.from(m.body).toString())
    })
    await broker.publish('t', { body: Buffer.from('one') })
    assert.equal(loads, 1)
    assert.deepEqual(got, ['one'])
    await broker.close()
  })

  test('from env: an unknown engine is refused at once, a bad batch setting at the first call', async () => {
    assert.throws(() => lazyBrokerFromEnv({}, { MICRO_BROKER: 'kafka' }), /MICRO_BROKER=kafka/)
    const broker = lazyBrokerFromEnv({}, { MICRO_BROKER: 'memory', MICRO_BROKER_BATCH: 'maybe' })
    assert.equal(broker.name, 'memory')
    await assert.rejects(broker.connect(), /MICRO_BROKER_BATCH must be true or false/)
  })
})
