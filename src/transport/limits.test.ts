import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DEFAULT_LIMITS, NO_LIMITS, parseBytes, resolveLimits } from './limits.js'

describe('server limits', () => {
  test('defaults, then MICRO_SERVER_* variables, then options', () => {
    assert.deepEqual(resolveLimits(undefined, {}), DEFAULT_LIMITS)
    const env = {
      MICRO_SERVER_MAX_CONNECTION_BYTES: '4MiB',
      MICRO_SERVER_MAX_CONNECTION_CALLS: '64',
      MICRO_SERVER_HEADER_TIMEOUT: '2s',
      MICRO_SERVER_REQUEST_TIMEOUT: '1500ms',
      MICRO_SERVER_IDLE_TIMEOUT: '5m',
      MICRO_SERVER_MAX_JSON_DEPTH: '32',
      MICRO_SERVER_ALLOWED_ORIGINS: 'https://a.example, https://b.example:8443',
    }
    assert.deepEqual(resolveLimits(undefined, env), {
      maxConnectionBytes: 4 * 1024 * 1024,
      maxConnectionCalls: 64,
      headerTimeout: 2000,
      requestTimeout: 1500,
      idleTimeout: 300_000,
      maxJsonDepth: 32,
      allowedOrigins: ['https://a.example', 'https://b.example:8443'],
    })
    const chosen = resolveLimits({ maxConnectionCalls: 8, allowedOrigins: ['*'] }, env)
    assert.equal(chosen.maxConnectionCalls, 8)
    assert.deepEqual(chosen.allowedOrigins, ['*'])
    assert.equal(chosen.headerTimeout, 2000)
  })

  test('off: false, MICRO_SERVER_LIMITS=off, or one limit at a time', () => {
    assert.deepEqual(resolveLimits(false, {}), NO_LIMITS)
    assert.deepEqual(resolveLimits(undefined, { MICRO_SERVER_LIMITS: 'off' }), NO_LIMITS)
    const some = resolveLimits(false, { MICRO_SERVER_HEADER_TIMEOUT: '1s' })
    assert.equal(some.headerTimeout, 1000)
    assert.equal(some.idleTimeout, Number.POSITIVE_INFINITY)
    const one = resolveLimits(
      { idleTimeout: Number.POSITIVE_INFINITY },
      { MICRO_SERVER_MAX_JSON_DEPTH: 'off' },
    )
    assert.equal(one.idleTimeout, Number.POSITIVE_INFINITY)
    assert.equal(one.maxJsonDepth, Number.POSITIVE_INFINITY)
    assert.equal(one.headerTimeout, DEFAULT_LIMITS.headerTimeout)
  })

  test('bad values are refused with the setting named', () => {
    assert.throws(
      () => resolveLimits(undefined, { MICRO_SERVER_MAX_CONNECTION_CALLS: 'lots' }),
      /MICRO_SERVER_MAX_CONNECTION_CALLS/,
    )
    assert.throws(
      () => resolveLimits(undefined, { MICRO_SERVER_MAX_CONNECTION_BYTES: '16MB' }),
      /KiB\/MiB\/GiB/,
    )
    assert.throws(
      () => resolveLimits(undefined, { MICRO_SERVER_HEADER_TIMEOUT: 'soon' }),
      /MICRO_SERVER_HEADER_TIMEOUT/,
    )
    assert.throws(() => resolveLimits({ headerTimeout: 0 }, {}), /headerTimeout must be a positive number/)
    assert.throws(() => resolveLimits({ maxConnectionBytes: -1 }, {}), /maxConnectionBytes/)
  })

  test('byte sizes', () => {
    assert.equal(parseBytes('1024'), 1024)
    assert.equal(parseBytes('512KiB'), 512 * 1024)
    assert.equal(parseBytes('1.5 MiB'), 1.5 * 1024 * 1024)
    assert.equal(parseBytes('1gib'), 1024 ** 3)
    assert.throws(() => parseBytes('-1'))
  })
})
