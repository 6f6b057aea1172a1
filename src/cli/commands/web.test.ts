import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { api } from '../../../test/support/dashboard/http.js'
import type { DashboardInfo, ServiceSummary } from '../../dashboard/api/types.js'
import { sharedMemoryRegistry } from '../../registry/memory-shared.js'
import { UsageError } from '../args.js'
import { startWeb, type WebServer, webAddress } from './web.js'

const ENV = { MICRO_STORE: 'memory', MICRO_EVENTS: 'memory' }

describe('micro web', () => {
  let web: WebServer
  const registry = sharedMemoryRegistry()
  before(async () => {
    await registry.register({
      name: 'web-test-svc',
      version: '2.0.0',
      metadata: {},
      endpoints: [{ name: 'Thing.Get', metadata: {} }],
      nodes: [{ id: 'web-test-svc-1', address: '127.0.0.1:1', metadata: {} }],
    })
    web = (await startWeb(['--address', '127.0.0.1:0', '--registry', 'memory'], ENV)) as WebServer
  })
  after(async () => {
    await web.close()
    await registry.close()
  })

  test("serves the dashboard with this machine's registry, calls, events, store and config", async () => {
    const info = (await api(web.url, 'GET', '/info')).body as DashboardInfo
    const { registry: r, calls, events, inspector, store, config, traces, runtime, auth } = info.features
    assert.deepEqual(
      { r, calls, events, inspector, store, config },
      { r: true, calls: true, events: true, inspector: true, store: true, config: true },
    )
    assert.deepEqual({ traces, runtime, auth }, { traces: false, runtime: false, auth: false })
    const services = ((await api(web.url, 'GET', '/services')).body as { services: ServiceSummary[] })
      .services
    assert.equal(services.find((s) => s.name === 'web-test-svc')?.versions[0], '2.0.0')
    assert.equal((await api(web.url, 'PUT', '/store/record', { key: 'k', value: 1 })).status, 200)
    assert.equal((await api(web.url, 'GET', '/traces')).status, 503)
    const page = await fetch(`${web.url}/`)
    assert.ok(page.status === 200 || page.status === 503, `status ${page.status}`)
    const elsewhere = await fetch(`${web.url}/api/x`, { redirect: 'manual' })
    assert.equal(elsewhere.status, 302)
  })

  test('--read-only refuses changes', async () => {
    const readOnly = (await startWeb(
      ['--address', '127.0.0.1:0', '--registry', 'memory', '--read-only'],
      ENV,
    )) as WebServer
    try {
      assert.equal((await api(readOnly.url, 'PUT', '/store/record', { key: 'k', value: 1 })).status, 403)
    } finally {
      await readOnly.close()
    }
  })

  test('listens on loopback only, and says why; a bad address is a usage error', () => {
    assert.deepEqual(webAddress('127.0.0.1:8082'), { host: '127.0.0.1', port: 8082 })
    assert.deepEqual(webAddress('localhost:0'), { host: 'localhost', port: 0 })
    assert.deepEqual(webAddress('[::1]:9000'), { host: '::1', port: 9000 })
    assert.throws(
      () => webAddress('0.0.0.0:8082'),
      (e: Error) => e instanceof UsageError && /loopback only/.test(e.message),
    )
    assert.throws(() => webAddress('192.168.1.5:80'), UsageError)
    assert.throws(() => webAddress('127.0.0.1:99999'), UsageError)
    assert.throws(() => webAddress('127.0.0.1:http'), UsageError)
  })

  test('--help prints the usage', async () => {
    assert.equal(await startWeb(['--help'], ENV), undefined)
  })
})
