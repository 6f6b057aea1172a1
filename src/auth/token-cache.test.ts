import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Account } from './auth.js'
import { TokenCache, type VerifiedToken } from './token-cache.js'

const account: Account = { id: 'a', type: 'user', issuer: 'micro', scopes: [], metadata: {}, uid: 'u' }
const entry = (expiresAt: number): VerifiedToken => ({
  caller: { account, via: 'token', expiresAt },
  expiresAt,
  revocations: 0,
  decisions: undefined,
  rules: undefined,
  recent: false,
})

describe('token cache', () => {
  test('an entry is gone once its token expires', () => {
    const cache = new TokenCache(10)
    cache.set('t', entry(1000))
    assert.ok(cache.get('t', 999))
    assert.equal(cache.get('t', 1000), undefined)
    assert.equal(cache.size, 0)
  })

  test('it never holds more than its capacity; entries used since the last pass stay', () => {
    const cache = new TokenCache(3)
    for (const key of ['a', 'b', 'c']) cache.set(key, entry(Number.MAX_SAFE_INTEGER))
    cache.get('a', 0)
    cache.set('d', entry(Number.MAX_SAFE_INTEGER))
    assert.equal(cache.size, 3)
    assert.ok(cache.get('a', 0), 'a was used: second chance')
    assert.equal(cache.get('b', 0), undefined, 'b was the oldest unused')
    for (let i = 0; i < 100; i++) cache.set(`k${i}`, entry(Number.MAX_SAFE_INTEGER))
    assert.equal(cache.size, 3)
  })
})
