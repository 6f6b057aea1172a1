import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { childEnv, fixedPort } from './env.js'
import type { DevServiceSpec } from './types.js'

const spec = (over: Partial<DevServiceSpec> = {}): DevServiceSpec => ({
  name: 'orders',
  source: '/srv/orders',
  depends: [],
  env: {},
  ...over,
})

describe('a service’s environment', () => {
  test('inherits the dev loop’s, then the project’s variables; the dev loop decides namespace, env, registry', () => {
    const env = childEnv(spec({ env: { GREETING: 'hi', MICRO_REGISTRY: 'nats' } }), {
      base: { PATH: '/bin', GREETING: 'from shell', MICRO_NAMESPACE: 'ignored', MICRO_ENV: 'ignored' },
      namespace: 'shop',
      environment: 'prod',
      registry: 'mdns',
      registryAddress: '224.0.0.251:5353',
      gateway: '127.0.0.1:8080',
    })
    assert.equal(env.PATH, '/bin')
    assert.equal(env.GREETING, 'hi')
    assert.equal(env.MICRO_NAMESPACE, 'shop')
    assert.equal(env.MICRO_ENV, 'prod')
    assert.equal(env.MICRO_REGISTRY, 'mdns', '--registry wins over the project file')
    assert.equal(env.MICRO_REGISTRY_ADDRESS, '224.0.0.251:5353')
    assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://127.0.0.1:8080')
    assert.equal(env.MICRO_HTTP_PORT, '0')
    assert.equal(env.MICRO_STOP_WITH_PARENT, '1')
    assert.equal(env.MICRO_SERVER_ADDRESS, undefined)
  })

  test('no gateway: no trace endpoint; inherited values win over the defaults; a port sets the address', () => {
    const env = childEnv(spec({ port: 9001 }), {
      base: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', MICRO_HTTP_PORT: '3000' },
      namespace: 'micro',
      environment: 'development',
    })
    assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://collector:4318')
    assert.equal(env.MICRO_HTTP_PORT, '3000')
    assert.equal(env.MICRO_SERVER_ADDRESS, '127.0.0.1:9001')
    const none = childEnv(spec(), { base: {}, namespace: 'micro', environment: 'development' })
    assert.equal(none.OTEL_EXPORTER_OTLP_ENDPOINT, undefined)
  })

  test('fixedPort: the project port, a port in types, a non-zero MICRO_HTTP_PORT or server port', () => {
    assert.equal(fixedPort(spec({ port: 9001 }), [{ kind: 'rpc' }], {}), 9001)
    assert.equal(fixedPort(spec(), [{ kind: 'rpc' }, { kind: 'http', port: 8081 }], {}), 8081)
    assert.equal(fixedPort(spec(), [{ kind: 'http' }], { MICRO_HTTP_PORT: '3000' }), 3000)
    assert.equal(fixedPort(spec(), [{ kind: 'http' }], { MICRO_HTTP_PORT: '0' }), undefined)
    assert.equal(fixedPort(spec(), [{ kind: 'rpc' }], { MICRO_HTTP_PORT: '3000' }), undefined)
    assert.equal(fixedPort(spec(), [{ kind: 'rpc' }], { MICRO_SERVER_ADDRESS: '127.0.0.1:7000' }), 7000)
    assert.equal(fixedPort(spec(), [{ kind: 'rpc' }], { MICRO_SERVER_ADDRESS: '127.0.0.1:0' }), undefined)
  })
})
