import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { FileEvents } from './file.js'
import { createEvents, eventsFromEnv } from './from-env.js'

test('createEvents: file by default, in ~/.micro/events unless an address names a directory', async () => {
  const byDefault = createEvents()
  assert.equal(byDefault.name, 'file')
  assert.equal((byDefault as FileEvents).directory, join(homedir(), '.micro', 'events'))
  await byDefault.close() // never opened: nothing was created
  const directory = mkdtempSync(join(tmpdir(), 'micro-events-env-'))
  try {
    const events = eventsFromEnv({ MICRO_EVENTS_ADDRESS: directory })
    assert.equal((events as FileEvents).directory, directory)
    const record = await events.publish('env.check', { ok: true })
    await events.close()
    const again = createEvents(' FILE ', `file://${directory}`)
    assert.deepEqual(
      (await again.read('env.check')).map((e) => [e.id, e.payload]),
      [[record.id, { ok: true }]],
    )
    await again.close()
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
})

test('createEvents: memory handles of one process share the streams', async () => {
  const a = createEvents('memory')
  const b = eventsFromEnv({ MICRO_EVENTS: 'memory' })
  const topic = `shared-${Date.now()}`
  const record = await a.publish(topic, { n: 1 })
  assert.deepEqual(
    (await b.read(topic)).map((e) => e.id),
    [record.id],
  )
  await b.close()
  // Closing one handle leaves the shared log to the others.
  assert.equal((await a.read(topic)).length, 1)
  await a.close()
})

test('createEvents: nats and redis are created without connecting', async () => {
  for (const name of ['nats', 'redis']) {
    const events = createEvents(name, name === 'nats' ? 'nats://127.0.0.1:1' : 'redis://127.0.0.1:1')
    assert.equal(events.name, name)
    await events.close()
  }
})

test('createEvents: an unknown name is refused with the valid choices', () => {
  assert.throws(
    () => createEvents('kafka'),
    /^TypeError: unknown events engine "kafka"; known: file, memory, nats, redis, service$/,
  )
  assert.throws(
    () => eventsFromEnv({ MICRO_EVENTS: 'sqs' }),
    /^TypeError: MICRO_EVENTS=sqs: unknown events engine; known: file, memory, nats, redis, service$/,
  )
})
