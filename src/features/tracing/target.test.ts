import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exportTargetFromEnv, withPlatformTracing } from './target.js'

test('the export target: the traces endpoint, then the base endpoint, then the platform', () => {
  const all = {
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom/traces',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
    MICRO_PLATFORM: '127.0.0.1:8081',
  }
  assert.equal(exportTargetFromEnv(all)?.url, 'http://collector:4318/custom/traces')
  const { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: _, ...base } = all
  assert.equal(exportTargetFromEnv(base)?.url, 'http://collector:4318/v1/traces')
  assert.equal(
    exportTargetFromEnv({ MICRO_PLATFORM: '127.0.0.1:8081' })?.url,
    'http://127.0.0.1:8081/Traces/Export',
  )
  assert.equal(
    exportTargetFromEnv({ MICRO_PLATFORM: 'https://platform.example:8081/' })?.url,
    'https://platform.example:8081/Traces/Export',
  )
  // Only the platform's own Traces.Export gets the service's platform token; a collector never does.
  assert.equal(exportTargetFromEnv({ MICRO_PLATFORM: '127.0.0.1:8081' })?.platform, '127.0.0.1:8081')
  assert.equal(
    exportTargetFromEnv({ MICRO_PLATFORM: 'https://platform.example:8081/' })?.platform,
    'platform.example:8081',
  )
  assert.equal(exportTargetFromEnv(base)?.platform, undefined)
  assert.equal(exportTargetFromEnv({}), undefined)
  assert.equal(exportTargetFromEnv({ ...all, OTEL_SDK_DISABLED: 'true' }), undefined)
  assert.equal(exportTargetFromEnv({ ...all, OTEL_TRACES_EXPORTER: 'none' }), undefined)
})

test('headers: key=value pairs, values URL-decoded, malformed ones skipped', () => {
  const target = exportTargetFromEnv({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
    OTEL_EXPORTER_OTLP_HEADERS:
      'Authorization=Bearer%20abc, x-team = core,broken,=nokey,bad key=1,pct=%E0%A4%A',
  })
  assert.deepEqual(target?.headers, { authorization: 'Bearer abc', 'x-team': 'core' })
  const specific = exportTargetFromEnv({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
    OTEL_EXPORTER_OTLP_HEADERS: 'a=1',
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'b=2',
  })
  assert.deepEqual(specific?.headers, { b: '2' })
})

test('withPlatformTracing: on under a platform, unless the options decide', () => {
  const env = { MICRO_PLATFORM: '127.0.0.1:8081' }
  assert.deepEqual(withPlatformTracing(undefined, env), { tracing: true })
  assert.deepEqual(withPlatformTracing<{ tracing?: unknown; metrics?: boolean }>({ metrics: true }, env), {
    metrics: true,
    tracing: true,
  })
  assert.deepEqual(withPlatformTracing({ tracing: false }, env), { tracing: false })
  assert.deepEqual(withPlatformTracing({ tracing: { export: false } }, env), { tracing: { export: false } })
  assert.equal(withPlatformTracing(undefined, {}), undefined)
})
