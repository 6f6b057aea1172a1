import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Codecs } from '../codec/codecs.js'
import { DEFAULT_LIMITS, NO_LIMITS } from '../transport/limits.js'
import { resolveSettings } from './settings.js'

describe('service settings: port limits', () => {
  test('limits come from the option, then MICRO_SERVER_* variables, then the defaults', () => {
    assert.deepEqual(resolveSettings({ name: 's' }, {}).limits, DEFAULT_LIMITS)
    assert.deepEqual(resolveSettings({ name: 's', limits: false }, {}).limits, NO_LIMITS)
    const env = { MICRO_SERVER_IDLE_TIMEOUT: '30s', MICRO_SERVER_MAX_FRAME_SIZE: '1MiB' }
    const s = resolveSettings({ name: 's', limits: { maxConnectionCalls: 10 } }, env)
    assert.equal(s.limits.idleTimeout, 30_000)
    assert.equal(s.limits.maxConnectionCalls, 10)
    assert.equal(s.maxFrameSize, 1024 * 1024)
    assert.equal(resolveSettings({ name: 's', maxFrameSize: 100 }, env).maxFrameSize, 100)
  })

  test('a JSON depth other than the default gets its own codecs; a codecs option is kept', () => {
    assert.equal(resolveSettings({ name: 's' }, {}).codecs, undefined)
    const deeper = resolveSettings({ name: 's' }, { MICRO_SERVER_MAX_JSON_DEPTH: '300' }).codecs
    const text = Buffer.from(`${'['.repeat(200)}${']'.repeat(200)}`)
    assert.ok(deeper?.get('application/json')?.decode(text))
    const own = new Codecs()
    assert.equal(resolveSettings({ name: 's', codecs: own, limits: { maxJsonDepth: 5 } }, {}).codecs, own)
  })
})
