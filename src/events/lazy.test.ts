import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createLogger } from '../logger/logger.js'
import { eventsConformance } from './conformance.js'
import { inspectorConformance } from './conformance-inspector.js'
import { LazyEvents, lazyEventsFromEnv } from './lazy.js'
import { MemoryEvents } from './memory.js'

const logger = createLogger({ level: 'error' })

eventsConformance('lazy (memory)', () => new LazyEvents('memory', async () => new MemoryEvents({ logger })))
// A service's own events are lazy: the dashboard and MCP inspect them through it.
inspectorConformance(
  'lazy (memory)',
  () => new LazyEvents('memory', async () => new MemoryEvents({ logger })),
)

describe('lazy events', () => {
  test('a consumer asked for before the engine loads gets every event, and stops', async () => {
    let loads = 0
    const events = new LazyEvents('memory', async () => {
      loads++
      return new MemoryEvents({ logger })
    })
    const consumer = events.consume<{ n: number }>('pending', { group: 'g', offset: 1 })
    assert.equal(loads, 1, 'asking for a consumer starts the load')
    await consumer.ready
    await events.publish('pending', { n: 1 })
    await events.publish('pending', { n: 2 })
    const seen: number[] = []
    for await (const event of consumer) {
      seen.push(event.payload.n)
      if (seen.length === 2) break
    }
    assert.deepEqual(seen, [1, 2])
    consumer.stop()
    await events.close()
  })

  test('a load that fails ends the pending consumer with the error and rejects ready', async () => {
    const events = new LazyEvents('memory', async () => {
      throw new TypeError('bad events address')
    })
    const consumer = events.consume('t')
    await assert.rejects(consumer.ready, /bad events address/)
    await assert.rejects(async () => {
      for await (const _ of consumer) assert.fail('no event expected')
    }, /bad events address/)
  })

  test('from env: an unknown engine is refused at once', () => {
    assert.throws(() => lazyEventsFromEnv({ MICRO_EVENTS: 'kafka' }), /MICRO_EVENTS=kafka/)
    assert.equal(lazyEventsFromEnv({}).name, 'file')
  })
})
