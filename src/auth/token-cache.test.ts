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

  test('the key looked up last answers from memory, and never past a delete, a new entry, an eviction or a clear', () => {
    const cache = new TokenCache(2)
    const first = entry(Number.MAX_SAFE_INTEGER)
    cache.set('t', first)
    // A string equal to the key but not the same object, as a header decoded per request is.
    const again = ['t'].join('')
    assert.equal(cache.get('t', 0), first)
    assert.equal(cache.get(again, 0), first)
    const second = entry(Number.MAX_SAFE_INTEGER)
    cache.set('t', second)
    assert.equal(cache.get('t', 0), second, 'the new entry, not the remembered one')
    cache.delete('t')
    assert.equal(cache.get('t', 0), undefined)
    cache.set('t', entry(5))
    assert.ok(cache.get('t', 0))
    assert.equal(cache.get('t', 5), undefined, 'expiry is checked on the remembered entry too')
    assert.equal(cache.size, 0)
    cache.set('u', entry(Number.MAX_SAFE_INTEGER))
    assert.ok(cache.get('u', 0))
    cache.set('v', entry(Number.MAX_SAFE_INTEGER))
    cache.set('w', entry(Number.MAX_SAFE_INTEGER))
    cache.set('x', entry(Number.MAX_SAFE_INTEGER))
    assert.equal(cache.get('u', 0), undefined, 'evicted, so forgotten')
    cache.get('x', 0)
    cache.clear()
    assert.equal(cache.get('x', 0), undefined)
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
