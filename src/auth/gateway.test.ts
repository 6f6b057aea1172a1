import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { startPlatform, type TestPlatform } from '../../test/support/auth-platform.js'
import {
  authorityGatewayAuthorizer,
  type GatewayAuthorizer,
  JWKS_PATH,
  jwksHandler,
  type LoginResult,
  redactText,
  redactUrl,
  staticKeySource,
  TokenVerifier,
  tokenFromRequest,
} from './index.js'

/** A stand-in request: the authorizer reads only the URL and headers. */
const request = (url: string, headers: Record<string, string> = {}) =>
  ({ url, headers }) as unknown as IncomingMessage

let platform: TestPlatform
let admin: LoginResult
let authorizer: GatewayAuthorizer

before(async () => {
  platform = await startPlatform()
  admin = await platform.bootstrapAdmin()
  authorizer = authorityGatewayAuthorizer(platform.authority)
})

after(async () => {
  await platform.close()
})

describe('gateway authorizer', () => {
  const target = { service: 'greeter', endpoint: 'Greeter.Hello' }

  test('the token comes from Authorization: Bearer, then ?token=, then the micro_token or micro-token cookie', () => {
    assert.equal(tokenFromRequest(request('/x', { authorization: 'Bearer abc' }))?.token, 'abc')
    assert.equal(tokenFromRequest(request('/x?a=1&token=def'))?.token, 'def')
    assert.equal(tokenFromRequest(request('/x', { cookie: 'theme=dark; micro_token=ghi' }))?.token, 'ghi')
    assert.equal(tokenFromRequest(request('/x', { cookie: 'micro-token=jkl' }))?.token, 'jkl')
    assert.equal(tokenFromRequest(request('/x?token=q', { authorization: 'Bearer h' }))?.token, 'h')
    assert.equal(tokenFromRequest(request('/x', { cookie: 'other=1' })), undefined)
    assert.throws(() => tokenFromRequest(request('/x', { authorization: 'Basic abc' })), /Bearer/)
  })

  test('no token: 401 with WWW-Authenticate; a bad token: 401 invalid_token; never the token in the error', async () => {
    const none = await authorizer.authorize(request('/api/greeter/Greeter/Hello'), target)
    assert.equal(none.ok, false)
    if (none.ok) return
    assert.equal(none.error.code, 401)
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="micro"')
    const forged = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl'
    const bad = await authorizer.authorize(request(`/api/x?token=${forged}`), target)
    assert.equal(bad.ok, false)
    if (bad.ok) return
    assert.equal(bad.error.code, 401)
    assert.match(bad.headers['www-authenticate'] ?? '', /invalid_token/)
    assert.ok(!JSON.stringify(bad.error).includes('c2lnbmF0dXJl'))
  })

  test('a token the rules allow passes with the metadata to forward; one they do not: 403', async () => {
    const ok = await authorizer.authorize(
      request('/api', { cookie: `micro_token=${admin.token.accessToken}` }),
      target,
    )
    assert.equal(ok.ok, true)
    if (!ok.ok) return
    assert.equal(ok.caller?.account.id, 'admin')
    assert.deepEqual(ok.metadata, { authorization: `Bearer ${admin.token.accessToken}` })
    await platform.call(
      'Accounts.Create',
      { id: 'viewer', secret: 'viewer-secret-1' },
      admin.token.accessToken,
    )
    const viewer = await platform.call<LoginResult>('Auth.Login', { id: 'viewer', secret: 'viewer-secret-1' })
    const denied = await authorizer.authorize(
      request('/api', { authorization: `Bearer ${viewer.token.accessToken}` }),
      target,
    )
    assert.equal(denied.ok, false)
    if (denied.ok) return
    assert.equal(denied.error.code, 403)
    assert.deepEqual(denied.headers, {})
    // The public login endpoint needs nothing.
    assert.equal(
      (await authorizer.authorize(request('/api'), { service: 'platform', endpoint: 'Auth.Login' })).ok,
      true,
    )
  })

  test("the request's namespace: the one named, else the token's issuer, else the default", async () => {
    const { authority } = platform
    await authority.accounts.create({
      namespace: 'gw-auth-x',
      id: 'xena',
      type: 'user',
      scopes: ['admin'],
      secret: 'xena-secret-1',
    })
    const xena = (await authority.login('gw-auth-x', 'xena', 'xena-secret-1', 'test')).token.accessToken
    const bearer = (token: string) => request('/api', { authorization: `Bearer ${token}` })
    const own = await authorizer.authorize(bearer(xena), { ...target, defaultNamespace: 'gw-auth-d' })
    assert.equal(own.ok && own.namespace, 'gw-auth-x')
    // No token: the default namespace (whose default rules leave logging in public).
    const anonymous = await authorizer.authorize(request('/api'), {
      service: 'platform',
      endpoint: 'Auth.Login',
      defaultNamespace: 'gw-auth-d',
    })
    assert.equal(anonymous.ok && anonymous.namespace, 'gw-auth-d')
    // Naming another namespace: its rules hold the token to its own (403); micro's admin passes.
    const elsewhere = await authorizer.authorize(bearer(xena), { ...target, namespace: 'gw-auth-y' })
    assert.equal(!elsewhere.ok && elsewhere.error.code, 403)
    const admitted = await authorizer.authorize(bearer(admin.token.accessToken), {
      ...target,
      namespace: 'gw-auth-y',
    })
    assert.equal(admitted.ok && admitted.namespace, 'gw-auth-y')
  })

  test('declared scopes apply at the gateway too', async () => {
    const scoped = { ...target, scopes: ['orders:write'] }
    const adminOk = await authorizer.authorize(
      request('/api', { authorization: `Bearer ${admin.token.accessToken}` }),
      scoped,
    )
    assert.equal(adminOk.ok, true, 'the bootstrap admin holds *')
  })

  test('an open gateway lets anonymous requests in, but still refuses a bad token', async () => {
    const open = await startPlatform({ mode: 'open' })
    try {
      const gateway = authorityGatewayAuthorizer(open.authority)
      assert.equal((await gateway.authorize(request('/api'), target)).ok, true)
      assert.equal((await gateway.authorize(request('/api'), { ...target, scopes: ['x'] })).ok, false)
      const bad = await gateway.authorize(request('/api', { authorization: 'Bearer a.b.c' }), target)
      assert.equal(bad.ok, false)
      // The platform service itself: anonymous local callers may administer it.
      assert.ok(Array.isArray((await open.call<{ accounts: unknown[] }>('Accounts.List', {})).accounts))
      await assert.rejects(
        open.call('Accounts.List', {}, 'not.a.token'),
        (e: { code: number }) => e.code === 401,
      )
    } finally {
      await open.close()
    }
  })
})

describe('JWKS', () => {
  let server: Server
  let base: string

  before(async () => {
    const handle = jwksHandler(() => platform.authority.publicKeys())
    server = createServer((req, res) => {
      if (!handle(req, res)) {
        res.writeHead(404)
        res.end()
      }
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  test('GET /.well-known/jwks.json serves the public keys only, and they verify tokens', async () => {
    const response = await fetch(`${base}${JWKS_PATH}`)
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /jwk-set\+json/)
    const jwks = (await response.json()) as { keys: Record<string, unknown>[] }
    assert.ok(jwks.keys.length >= 1)
    for (const key of jwks.keys) {
      assert.equal(key.d, undefined)
      assert.equal(key.use, 'sig')
      assert.equal(key.alg, 'EdDSA')
    }
    const verifier = new TokenVerifier({ keys: staticKeySource(jwks.keys) })
    assert.equal((await verifier.verify(admin.token.accessToken)).caller.account.id, 'admin')
    assert.equal((await fetch(`${base}/other`)).status, 404)
    assert.equal((await fetch(`${base}${JWKS_PATH}`, { method: 'POST' })).status, 405)
  })

  test('the platform publishes the same keys over RPC (Auth.PublicKeys)', async () => {
    const set = await platform.call<{ keys: { kid: string }[] }>('Auth.PublicKeys', {})
    assert.deepEqual(
      set.keys.map((k) => k.kid),
      platform.authority.keys.publicKeys.map((k) => k.kid),
    )
  })
})

describe('redaction', () => {
  test('redactUrl hides token-like query values and keeps the rest', () => {
    assert.equal(redactUrl('/events?token=eyJabc.def.ghi&topic=x'), '/events?token=[redacted]&topic=x')
    assert.equal(redactUrl('/ws?a=1&access_token=zzz#frag'), '/ws?a=1&access_token=[redacted]#frag')
    assert.equal(
      redactUrl('/x?TOKEN=1&secret=2&password=3'),
      '/x?TOKEN=[redacted]&secret=[redacted]&password=[redacted]',
    )
    assert.equal(redactUrl('/plain?topic=token'), '/plain?topic=token')
  })

  test('redactText hides JWTs and Bearer values anywhere', () => {
    const text = redactText(`call failed: Authorization: Bearer ${admin.token.accessToken} from /x?token=abc`)
    assert.ok(!text.includes(admin.token.accessToken.split('.')[2] as string))
    assert.match(text, /Bearer \[redacted\]/)
    assert.match(text, /token=\[redacted\]/)
    assert.equal(redactText(`jwt ${admin.token.accessToken} end`), 'jwt [redacted] end')
  })
})
