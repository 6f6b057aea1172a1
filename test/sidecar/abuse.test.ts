import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, before, describe, test } from 'node:test'
import type { MicroError } from '../../src/errors/errors.js'
import type { Service } from '../../src/service/service.js'
import type { Sidecar } from '../../src/sidecar/sidecar.js'
import { httpCall } from '../../src/testing/http-call.js'
import { type Blocks, FakeApp, memoryBlocks, startService, startSidecar } from '../support/sidecar.js'

/** A raw request, so a test can send what fetch refuses to (a foreign Host header). */
function raw(api: string, path: string, headers: Record<string, string>): Promise<number> {
  const url = new URL(api)
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET', headers }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end()
  })
}

/** Bad input on every path: a clear error, nothing half done, and the next good request served. */
describe('sidecar bad input', () => {
  const app = new FakeApp()
  let blocks: Blocks
  let sidecar: Sidecar
  let api: string
  let caller: Service
  const ok = async () => assert.equal((await httpCall(api, 'GET', '/v1/healthz', undefined)).status, 204)

  before(async () => {
    await app.listen()
    app.endpoints = ['Orders.Get', 'Orders.Big']
    app.routes.set('/Orders.Get', () => ({ body: { ok: true } }))
    app.routes.set('/Orders.Big', () => ({ body: { blob: 'x'.repeat(4096) } }))
    blocks = memoryBlocks()
    ;({ sidecar, api } = await startSidecar(app, blocks, { maxBody: 2048, apiToken: 's3cret-token' }))
    await sidecar.ready
    caller = await startService(blocks, 'ts-caller')
  })
  after(async () => {
    await caller.stop()
    await sidecar.stop()
    await app.close()
  })
  const auth = { 'micro-api-token': 's3cret-token' }

  test('the API token: 401 without it or with a wrong one, never for the health checks', async () => {
    assert.equal((await httpCall(api, 'GET', '/v1/metadata', undefined)).status, 401)
    assert.equal(
      (await httpCall(api, 'GET', '/v1/metadata', undefined, { 'micro-api-token': 'guess' })).status,
      401,
    )
    assert.equal((await httpCall(api, 'GET', '/v1/metadata', undefined, auth)).status, 200)
    await ok()
    assert.equal((await httpCall(api, 'GET', '/v1/healthz/outbound', undefined)).status, 204)
  })

  test('web pages are refused: Origin 403, form and text bodies 415, foreign Host 403', async () => {
    const origin = await httpCall(
      api,
      'POST',
      '/v1/state/k',
      { a: 1 },
      { ...auth, origin: 'https://evil.example' },
    )
    assert.equal(origin.status, 403)
    const form = await httpCall(api, 'POST', '/v1/publish/t', 'a=1', {
      ...auth,
      'content-type': 'application/x-www-form-urlencoded',
    })
    assert.equal(form.status, 415)
    const text = await httpCall(api, 'POST', '/v1/invoke/x/A.B', 'hi', {
      ...auth,
      'content-type': 'text/plain',
    })
    assert.equal(text.status, 415)
    assert.equal(await raw(api, '/v1/config', { ...auth, host: 'evil.example:3500' }), 403)
    assert.equal(await raw(api, '/v1/metadata', { ...auth, host: 'localhost:3500' }), 200)
    await ok()
  })

  test('paths and methods: 404 for unknown paths, 405 naming the methods, 400 for malformed escapes', async () => {
    assert.equal((await httpCall(api, 'GET', '/nothing', undefined, auth)).status, 404)
    assert.equal((await httpCall(api, 'GET', '/v1/teleport', undefined, auth)).status, 404)
    assert.equal((await httpCall(api, 'GET', '/v1/healthz/extra', undefined, auth)).status, 404)
    const wrong = await httpCall(api, 'DELETE', '/v1/publish/orders', undefined, auth)
    assert.equal(wrong.status, 405)
    assert.equal(wrong.headers.get('allow'), 'POST')
    assert.equal((await httpCall(api, 'GET', '/v1/state/%zz', undefined, auth)).status, 400)
    assert.equal((await httpCall(api, 'POST', '/v1/invoke/pricing', {}, auth)).status, 400)
    assert.equal((await httpCall(api, 'POST', '/v1/invoke/pricing/Not-An-Endpoint', {}, auth)).status, 400)
    assert.equal((await httpCall(api, 'POST', '/v1/publish/', {}, auth)).status, 400)
    await ok()
  })

  test('an oversize body is a 413 and nothing is written; the next request is served', async () => {
    const big = { blob: 'x'.repeat(4096) }
    const state = await httpCall(api, 'POST', '/v1/state/big', big, auth)
    assert.equal(state.status, 413)
    assert.equal((await httpCall(api, 'GET', '/v1/state/big', undefined, auth)).status, 204)
    assert.equal((await httpCall(api, 'POST', '/v1/publish/orders', big, auth)).status, 413)
    assert.equal((await httpCall(api, 'POST', '/v1/state/small', { a: 1 }, auth)).status, 204)
  })

  test('an app reply over the limit is a 502, not a truncated answer', async () => {
    const error = (await caller.client
      .call('py-orders', 'Orders.Big', {}, { address: sidecar.service.address as string })
      .catch((e: unknown) => e)) as MicroError
    assert.equal(error.code, 502)
    assert.match(error.detail, /over 2048 bytes/)
  })

  test('malformed bodies: 400 naming the problem, nothing stored', async () => {
    const bad = await httpCall(api, 'POST', '/v1/state/k', '{"a":', {
      ...auth,
      'content-type': 'application/json',
    })
    assert.equal(bad.status, 400)
    assert.match((bad.body as { detail: string }).detail, /not valid JSON/)
    assert.equal((await httpCall(api, 'GET', '/v1/state/k', undefined, auth)).status, 204)
    const bulk = await httpCall(api, 'POST', '/v1/state', { not: 'a list' }, auth)
    assert.equal(bulk.status, 400)
    const noKey = await httpCall(api, 'POST', '/v1/state', [{ value: 1 }], auth)
    assert.equal(noKey.status, 400)
    const ttl = await httpCall(api, 'POST', '/v1/state/k?ttlInSeconds=-1', { a: 1 }, auth)
    assert.equal(ttl.status, 400)
    const offset = await httpCall(api, 'GET', '/v1/events/orders?offset=abc', undefined, auth)
    assert.equal(offset.status, 400)
    await ok()
  })

  test('a topic the broker refuses is a 400', async () => {
    const wild = await httpCall(api, 'POST', '/v1/publish/orders.*', { a: 1 }, auth)
    assert.equal(wild.status, 400)
    await ok()
  })

  test('JSON nested past the limit never reaches the app', async () => {
    const before = app.hitsOn('/Orders.Get').length
    const deep = `${'['.repeat(200)}${']'.repeat(200)}`
    const reply = await httpCall(`http://${sidecar.service.address}`, 'POST', '/Orders/Get', deep, {
      'content-type': 'application/json',
    })
    assert.equal(reply.status, 400)
    assert.equal(app.hitsOn('/Orders.Get').length, before)
  })
})
