import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { TokenPair } from './auth.js'
import { ServiceCredentials, type TokenEndpoint } from './credentials.js'

/** A token endpoint that counts its calls and hands out pairs expiring `ttl` ms from now. */
function endpoint(ttl: number, refreshFails = false) {
  const calls: string[] = []
  let n = 0
  const pair = (): { token: TokenPair } => {
    n++
    return {
      token: {
        accessToken: `access-${n}`,
        refreshToken: `refresh-${n}`,
        expiry: Date.now() + ttl,
        refreshExpiry: Date.now() + 3600_000,
      },
    }
  }
  const api: TokenEndpoint = {
    login: async (req) => {
      calls.push(`login ${req.namespace}/${req.id}`)
      return pair()
    },
    refresh: async (req) => {
      calls.push(`refresh ${req.refreshToken}`)
      if (refreshFails) throw new Error('revoked')
      return pair()
    },
  }
  return { api, calls }
}

describe('service credentials', () => {
  test('logs in once, then serves the token while it has time left', async () => {
    const { api, calls } = endpoint(600_000)
    const credentials = new ServiceCredentials({
      namespace: 'micro',
      id: 'orders',
      secret: 's',
      endpoint: api,
    })
    assert.equal(credentials.current(), undefined)
    const [a, b] = await Promise.all([credentials.token(), credentials.token()])
    assert.equal(a, 'access-1')
    assert.equal(b, 'access-1')
    assert.equal(credentials.current(), 'access-1')
    assert.deepEqual(calls, ['login micro/orders'])
  })

  test('a token close to expiry is refreshed with the refresh token; a failed refresh logs in again', async () => {
    const { api, calls } = endpoint(30_000)
    const credentials = new ServiceCredentials({
      namespace: 'micro',
      id: 'orders',
      secret: 's',
      endpoint: api,
    })
    await credentials.token()
    assert.equal(await credentials.token(), 'access-2')
    assert.deepEqual(calls, ['login micro/orders', 'refresh refresh-1'])
    const failing = endpoint(30_000, true)
    const other = new ServiceCredentials({
      namespace: 'micro',
      id: 'orders',
      secret: 's',
      endpoint: failing.api,
    })
    await other.token()
    assert.equal(await other.token(), 'access-2')
    assert.deepEqual(failing.calls, ['login micro/orders', 'refresh refresh-1', 'login micro/orders'])
  })
})
