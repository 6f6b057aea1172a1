import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MicroError } from '../../src/errors/errors.js'
import { httpCall } from '../../src/testing/http-call.js'
import { FakeApp, memoryBlocks, startSidecar } from '../support/sidecar.js'
import { until } from '../support/until.js'

/** An app that is not listening yet: a port that was free a moment ago. */
async function absentApp(): Promise<FakeApp> {
  const app = new FakeApp()
  await app.listen()
  await app.close()
  return app
}

async function registered(blocks: ReturnType<typeof memoryBlocks>): Promise<boolean> {
  try {
    return (await blocks.registry.getService('py-orders', { namespace: blocks.namespace })).length > 0
  } catch (error) {
    if (MicroError.from(error).code === 404) return false
    throw error
  }
}

test('readiness: the API is up at once; the service is registered only once the app answers its health check', async () => {
  const app = await absentApp()
  app.endpoints = ['Orders.Get']
  const blocks = memoryBlocks()
  const { sidecar, api } = await startSidecar(app, blocks)
  try {
    // The app may start after the sidecar: outbound calls already work ...
    await until(() => sidecar.health().outbound, 'outbound readiness')
    assert.equal((await httpCall(api, 'GET', '/v1/healthz/outbound', undefined)).status, 204)
    assert.equal((await httpCall(api, 'POST', '/v1/state/early', { ok: 1 })).status, 204)
    // ... but the service is not registered, and /v1/healthz says why.
    const waiting = await httpCall(api, 'GET', '/v1/healthz', undefined)
    assert.equal(waiting.status, 503)
    assert.match(
      (waiting.body as { detail: string }).detail,
      /waiting for the app: GET \/health: .*not answering/,
    )
    assert.equal(await registered(blocks), false)

    // The app listens but is not healthy yet: still not registered.
    app.healthy = false
    await app.listen()
    await until(() => /HTTP 503/.test(sidecar.appHealth.reason), 'the sidecar to see the 503')
    assert.equal(await registered(blocks), false)
    assert.equal(sidecar.phase, 'waiting')

    // The app waits on /v1/healthz, as the README says: 503 while it is not healthy, then 204.
    let refused = 0
    const appWaits = (async () => {
      for (;;) {
        const reply = await httpCall(api, 'GET', '/v1/healthz', undefined)
        if (reply.status === 204) return
        assert.equal(reply.status, 503)
        refused++
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
    await until(() => refused >= 3, 'the app to be told to wait a few times')
    app.healthy = true
    await appWaits
    assert.equal(await registered(blocks), true)
    await sidecar.ready
    assert.equal(sidecar.phase, 'ready')
  } finally {
    await sidecar.stop()
    await app.close()
  }
})

test('readiness: declarations the app gets wrong are a clear 503; the sidecar stays up and registers once fixed', async () => {
  const app = new FakeApp()
  await app.listen()
  app.endpoints = [{ name: 'not an endpoint' }]
  const blocks = memoryBlocks()
  const { sidecar, api } = await startSidecar(app, blocks)
  try {
    await until(() => /declarations were refused/.test(sidecar.health().problem ?? ''), 'the refusal')
    const health = await httpCall(api, 'GET', '/v1/healthz', undefined)
    assert.equal(health.status, 503)
    assert.match((health.body as { detail: string }).detail, /name must be Handler\.Method/)
    assert.equal(await registered(blocks), false)
    app.endpoints = ['Orders.Get']
    app.subscriptions = { subscriptions: 'nope' }
    await until(
      () => /list of subscriptions/.test(sidecar.health().problem ?? ''),
      'the subscription refusal',
    )
    app.subscriptions = []
    await sidecar.ready
    assert.equal(await registered(blocks), true)
  } finally {
    await sidecar.stop()
    await app.close()
  }
})

test('readiness: a sidecar stopped before its app ever came stops cleanly; ready rejects', async () => {
  const app = await absentApp()
  const { sidecar } = await startSidecar(app, memoryBlocks())
  await sidecar.stop()
  await assert.rejects(sidecar.ready, /stopped before the app was ready/)
  assert.equal(sidecar.phase, 'stopped')
})
