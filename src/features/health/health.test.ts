import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { defineService } from '../../definition/index.js'
import type { MicroError } from '../../errors/errors.js'
import { testService } from '../../testing/harness.js'

class Ping {
  async Ping() {
    return 'pong'
  }
}

let databaseUp = true
const service = defineService({
  rpc: ({ features }) => {
    features.health?.addCheck('database', () => {
      if (!databaseUp) throw new Error('database unreachable')
    })
    return new Ping()
  },
  http: () => () => new Response('ok'),
})

const config = {
  name: 'pinger',
  version: '1.0.0',
  types: ['rpc', 'http'],
  features: { health: { timeout: '200ms' } },
}

describe('health feature', () => {
  test('liveness and readiness with checks, on the http and rpc kinds', async () => {
    databaseUp = true
    const t = await testService(service, { config })
    try {
      assert.deepEqual((await t.http('GET', '/health/ready')).body, {
        status: 'ok',
        checks: { database: 'ok' },
      })
      assert.deepEqual(await t.call('Health.Ready'), { status: 'ok', checks: { database: 'ok' } })
      databaseUp = false
      const ready = await t.http('GET', '/health/ready')
      assert.equal(ready.status, 503)
      assert.deepEqual(ready.body, { status: 'unavailable', checks: { database: 'database unreachable' } })
      assert.equal((await t.http('GET', '/health')).status, 503)
      assert.equal((await t.http('GET', '/health/live')).status, 200)
      assert.deepEqual(await t.call('Health.Live'), { status: 'ok' })
      await assert.rejects(t.call('Health.Ready'), (e: MicroError) => {
        assert.equal(e.code, 503)
        assert.match(e.detail, /not ready: .*database unreachable/)
        return true
      })
      assert.equal(await t.call('Ping.Ping'), 'pong', 'a failing check does not stop the service')
    } finally {
      await t.stop()
    }
  })

  test('a check that hangs fails after the timeout', async () => {
    const t = await testService(service, { config })
    try {
      t.features.health?.addCheck('stuck', () => new Promise(() => {}))
      const ready = await t.http('GET', '/health/ready')
      assert.equal(ready.status, 503)
      assert.match(
        (ready.body as { checks: Record<string, string> }).checks.stuck ?? '',
        /timed out after 200 ms/,
      )
      t.features.health?.removeCheck('stuck')
      databaseUp = true
      assert.equal((await t.http('GET', '/health/ready')).status, 200)
    } finally {
      await t.stop()
    }
  })
})
