import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { createLogger } from '../logger/logger.js'
import { eventsConformance } from './conformance.js'
import { inspectorConformance } from './conformance-inspector.js'
import type { Events } from './events.js'
import { FileEvents } from './file.js'

eventsConformance(
  'file',
  () =>
    new FileEvents({
      directory: mkdtempSync(join(tmpdir(), 'micro-events-')),
      logger: createLogger({ level: 'error' }),
    }),
  {
    cleanup: async (events: Events) =>
      rmSync((events as FileEvents).directory, { recursive: true, force: true }),
  },
)

inspectorConformance(
  'file',
  () =>
    new FileEvents({
      directory: mkdtempSync(join(tmpdir(), 'micro-events-')),
      logger: createLogger({ level: 'error' }),
    }),
  {
    cleanup: async (events: Events) =>
      rmSync((events as FileEvents).directory, { recursive: true, force: true }),
  },
)

describe('file events: several instances on one directory in one process', () => {
  // LMDB must not be opened twice in a process: two handles on one environment once made a
  // publish wait for ever while a consumer of the same directory ran (about one run in two).
  test('a publish from one instance while another consumes, opened and closed repeatedly', {
    timeout: 60_000,
  }, async () => {
    const directory = mkdtempSync(join(tmpdir(), 'micro-events-shared-'))
    const logger = createLogger({ level: 'error' })
    try {
      const first = new FileEvents({ directory, logger })
      await first.publish('warm', {})
      await first.close()
      const consuming = new FileEvents({ directory, logger })
      const consumer = consuming.consume<{ n: number }>('live', { group: 'g', offset: 1 })
      await consumer.ready
      const seen: number[] = []
      const reading = (async () => {
        for await (const event of consumer) {
          seen.push(event.payload.n)
          if (seen.length === 20) break
        }
      })()
      for (let n = 0; n < 20; n++) {
        const publisher = new FileEvents({ directory, logger })
        await publisher.publish('live', { n })
        await publisher.close()
      }
      await reading
      assert.deepEqual(
        seen,
        Array.from({ length: 20 }, (_, n) => n),
      )
      await consuming.close()
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
  })
})
