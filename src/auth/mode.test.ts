import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { authMode, bootstrapLine, isLoopbackAddress } from './mode.js'

describe('auth follows the bind address', () => {
  test('loopback binds are open; any other bind enforces; unclassifiable names enforce', () => {
    for (const open of ['127.0.0.1:8080', 'localhost:8081', '[::1]:8080', '127.1.2.3:0', '::1']) {
      assert.equal(isLoopbackAddress(open), true, open)
      assert.equal(authMode(open, { env: {} }), 'open', open)
    }
    for (const exposed of [
      '0.0.0.0:8080',
      ':8080',
      '[::]:8080',
      '10.0.0.5:8080',
      'example.com:80',
      'myhost:8080',
      '',
    ]) {
      assert.equal(isLoopbackAddress(exposed), false, exposed)
      assert.equal(authMode(exposed, { env: {} }), 'enforce', exposed)
    }
  })

  test('a server is open only when every address it binds is loopback', () => {
    assert.equal(authMode(['127.0.0.1:8080', '127.0.0.1:8081'], { env: {} }), 'open')
    assert.equal(authMode(['127.0.0.1:8080', '0.0.0.0:8081'], { env: {} }), 'enforce')
    assert.equal(authMode([], { env: {} }), 'enforce')
  })

  test('--auth / --no-auth win over MICRO_AUTH, which wins over the address', () => {
    assert.equal(authMode('127.0.0.1:8080', { auth: true, env: { MICRO_AUTH: 'off' } }), 'enforce')
    assert.equal(authMode('0.0.0.0:8080', { auth: false, env: { MICRO_AUTH: 'on' } }), 'open')
    assert.equal(authMode('127.0.0.1:8080', { env: { MICRO_AUTH: 'on' } }), 'enforce')
    assert.equal(authMode('0.0.0.0:8080', { env: { MICRO_AUTH: 'OFF' } }), 'open')
  })

  test('the bootstrap line is the login command', () => {
    assert.equal(bootstrapLine('abc'), 'micro login --token abc')
  })
})
