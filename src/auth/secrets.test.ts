import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { randomToken } from './secrets.js'

describe('randomToken', () => {
  test('never starts with "-" (tokens are typed as command-line values)', () => {
    // One base64url character in 64 is '-': 4,000 draws hit it at the start about 60 times.
    for (let i = 0; i < 4000; i++) {
      const token = randomToken(8)
      assert.notEqual(token[0], '-', token.replace(/./g, '*'))
    }
  })

  test('is base64url of the bytes asked for', () => {
    const token = randomToken(24)
    assert.equal(Buffer.from(token, 'base64url').length, 24)
    assert.match(token, /^[A-Za-z0-9_][A-Za-z0-9_-]*$/)
  })
})
