import assert from 'node:assert/strict'
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { SignJWT } from 'jose'
import { capturingLogger } from '../../test/support/auth-platform.js'
import type { MicroError } from '../errors/errors.js'
import { MemoryStore } from '../store/memory.js'
import type { Account } from './auth.js'
import { Authority } from './authority.js'
import { FetchedKeySource } from './key-source.js'
import { TokenVerifier } from './verifier.js'

/**
 * Tokens an attacker can make, each refused with a 401 that never repeats the token; and
 * no log line of the authority holds a token, secret or key afterwards.
 */

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const now = () => Math.floor(Date.now() / 1000)

let dir: string
let authority: Authority
const logs: string[] = []
const secrets: string[] = []
let account: Account
let good: string
let kid: string

function claims(overrides: Record<string, unknown> = {}) {
  return {
    iss: 'micro',
    sub: account.id,
    type: account.type,
    scopes: account.scopes,
    metadata: {},
    uid: account.uid,
    iat: now(),
    nbf: now(),
    exp: now() + 600,
    ...overrides,
  }
}

/** Signed with the platform's real key, with these claims. */
function signed(
  overrides: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const { alg, kid, key } = authority.keys.signing
  const token = new SignJWT(claims(overrides)).setProtectedHeader({ alg, kid, ...header }).sign(key)
  return token.then((t) => {
    secrets.push(t)
    return t
  })
}

async function refused(token: string, reason: RegExp): Promise<void> {
  await assert.rejects(authority.verifier.verify(token), (error: MicroError) => {
    assert.equal(error.code, 401, error.detail)
    assert.match(error.detail, reason)
    for (const part of token.split('.').filter((p) => p.length > 8)) {
      assert.ok(!error.detail.includes(part), 'the error repeats the token')
      assert.ok(!JSON.stringify(error).includes(part), 'the error JSON repeats the token')
    }
    return true
  })
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'micro-auth-attacks-'))
  authority = await Authority.open({
    store: new MemoryStore(),
    mode: 'enforce',
    keyFile: join(dir, 'encryption.key'),
    env: {},
    logger: capturingLogger(logs),
  })
  const created = await authority.accounts.create({
    namespace: 'micro',
    id: 'alice',
    scopes: ['orders:read'],
  })
  account = created.account
  secrets.push(created.secret as string)
  const login = await authority.login('micro', 'alice', created.secret as string, 'test')
  good = login.token.accessToken
  secrets.push(good, login.token.refreshToken)
  kid = authority.keys.signing.kid
})

after(async () => {
  authority.close()
  await rm(dir, { recursive: true, force: true })
})

describe('token attacks', () => {
  test('a good token verifies and names its account', async () => {
    const { caller } = await authority.verifier.verify(good)
    assert.equal(caller.account.id, 'alice')
    assert.equal(caller.account.issuer, 'micro')
    assert.deepEqual(caller.account.scopes, ['orders:read'])
  })

  test('alg none (unsigned) is refused, with or without a signature part', async () => {
    const header = b64({ alg: 'none', typ: 'JWT', kid })
    await refused(`${header}.${b64(claims({ scopes: ['admin'] }))}.`, /not a JWT/)
    await refused(`${header}.${b64(claims({ scopes: ['admin'] }))}.c2ln`, /none are not accepted/)
    const upper = b64({ alg: 'NONE', kid })
    await refused(`${upper}.${b64(claims())}.c2ln`, /not accepted/)
  })

  test('HS256 signed with the public key as the HMAC secret (key confusion) is refused', async () => {
    const jwk = authority.keys.publicKeys[0] as { x: string }
    const pem = createPublicKey({ key: { ...jwk, kty: 'OKP', crv: 'Ed25519' }, format: 'jwk' } as never)
      .export({ type: 'spki', format: 'pem' })
      .toString()
    for (const secret of [
      Buffer.from(pem),
      Buffer.from(JSON.stringify(jwk)),
      Buffer.from(jwk.x, 'base64url'),
    ]) {
      const forged = await new SignJWT(claims({ scopes: ['admin'] }))
        .setProtectedHeader({ alg: 'HS256', kid })
        .sign(new Uint8Array(secret))
      await refused(forged, /HS256 are not accepted/)
    }
  })

  test('a token naming another asymmetric algorithm than its key is refused', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    const forged = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey)
    await refused(forged, /another algorithm/)
  })

  test('expired, not yet valid and issued-in-the-future tokens are refused', async () => {
    await refused(await signed({ iat: now() - 900, nbf: now() - 900, exp: now() - 120 }), /expired/)
    await refused(await signed({ nbf: now() + 600 }), /not valid yet/)
    await refused(await signed({ iat: now() + 600, nbf: now() - 1 }), /issued in the future|iat/)
  })

  test('a tampered payload (scopes raised to admin) is refused', async () => {
    const [header, , signature] = good.split('.')
    const payload = JSON.parse(Buffer.from(good.split('.')[1] as string, 'base64url').toString())
    payload.scopes = ['admin', '*']
    await refused(`${header}.${b64(payload)}.${signature}`, /signature/)
  })

  test('a tampered signature is refused', async () => {
    const [header, payload, signature] = good.split('.') as [string, string, string]
    const flipped = (signature[3] === 'A' ? 'B' : 'A') + signature.slice(1)
    await refused(
      `${header}.${payload}.${signature.slice(0, 3)}${flipped.slice(0, 1)}${signature.slice(4)}`,
      /signature/,
    )
    await refused(`${header}.${payload}.${Buffer.alloc(64).toString('base64url')}`, /signature/)
  })

  test('a token signed by another platform (same kid, other key) is refused', async () => {
    const { privateKey } = generateKeyPairSync('ed25519')
    const forged = await new SignJWT(claims({ scopes: ['admin'] }))
      .setProtectedHeader({ alg: 'EdDSA', kid })
      .sign(privateKey)
    await refused(forged, /signature/)
  })

  test('an unknown kid, no kid and a garbage header are refused', async () => {
    await refused(await signed({}, { kid: 'no-such-key' }), /unknown key/)
    const { privateKey } = generateKeyPairSync('ed25519')
    const noKid = await new SignJWT(claims()).setProtectedHeader({ alg: 'EdDSA' }).sign(privateKey)
    await refused(noKid, /names no key/)
    await refused(`${Buffer.from('{not json').toString('base64url')}.${b64(claims())}.c2ln`, /header/)
    await refused('a'.repeat(9000), /not a JWT/)
  })

  test('missing or mistyped account claims are refused', async () => {
    await refused(await signed({ type: 'root' }), /does not describe an account/)
    await refused(await signed({ scopes: 'admin' }), /does not describe an account/)
    await refused(await signed({ uid: undefined }), /does not describe an account/)
    await refused(await signed({ sub: undefined }), /sub/)
  })

  test('a token of a deleted account stops verifying at once, and a new account with its id does not revive it', async () => {
    const created = await authority.accounts.create({
      namespace: 'micro',
      id: 'mallory',
      secret: 'mallory-secret-1',
    })
    const first = await authority.login('micro', 'mallory', 'mallory-secret-1', 'test')
    secrets.push(first.token.accessToken, first.token.refreshToken)
    assert.equal((await authority.verifier.verify(first.token.accessToken)).caller.account.id, 'mallory')
    await authority.deleteAccount('micro', 'mallory')
    await refused(first.token.accessToken, /revoked/)
    await authority.accounts.create({ namespace: 'micro', id: 'mallory', secret: 'mallory-secret-2' })
    await refused(first.token.accessToken, /revoked/)
    assert.notEqual(created.account.uid, (await authority.accounts.get('micro', 'mallory'))?.uid)
  })
})

describe('key rotation', () => {
  test('old tokens verify until they expire; new ones are signed with the new key; both are published', async () => {
    const before = await authority.login('micro', 'alice', secrets[0] as string, 'test')
    secrets.push(before.token.accessToken, before.token.refreshToken)
    const oldKid = authority.keys.signing.kid
    const newKid = await authority.rotateKeys()
    assert.notEqual(newKid, oldKid)
    assert.equal(authority.keys.signing.kid, newKid)
    assert.deepEqual(authority.keys.publicKeys.map((k) => k.kid).sort(), [oldKid, newKid].sort())
    authority.verifier.clear()
    assert.equal((await authority.verifier.verify(before.token.accessToken)).caller.account.id, 'alice')
    const after = await authority.login('micro', 'alice', secrets[0] as string, 'test')
    secrets.push(after.token.accessToken, after.token.refreshToken)
    const header = JSON.parse(
      Buffer.from(after.token.accessToken.split('.')[0] as string, 'base64url').toString(),
    )
    assert.equal(header.kid, newKid)
    assert.equal(header.alg, 'EdDSA')
    // Only public parts are published.
    for (const key of authority.keys.publicKeys) assert.ok(!('d' in key))
  })

  test('a remote verifier fetches the keys once more for an unknown kid, and no more often than its bound', async () => {
    const counted = (minRefreshMs: number) => {
      const source = new FetchedKeySource(
        async () => {
          counts.set(source, (counts.get(source) ?? 0) + 1)
          return authority.publicKeys()
        },
        { minRefreshMs },
      )
      return source
    }
    const counts = new Map<FetchedKeySource, number>()
    const eager = counted(0)
    const bounded = counted(60_000)
    const eagerVerifier = new TokenVerifier({ keys: eager })
    const boundedVerifier = new TokenVerifier({ keys: bounded })
    const before = (await authority.login('micro', 'alice', secrets[0] as string, 'test')).token
    secrets.push(before.accessToken, before.refreshToken)
    await eagerVerifier.verify(before.accessToken)
    await boundedVerifier.verify(before.accessToken)
    assert.equal(counts.get(eager), 1)
    assert.equal(counts.get(bounded), 1)
    // A key rotated in after the fetch: its first token makes one refetch...
    await authority.rotateKeys()
    const rotated = (await authority.login('micro', 'alice', secrets[0] as string, 'test')).token
    secrets.push(rotated.accessToken, rotated.refreshToken)
    assert.equal((await eagerVerifier.verify(rotated.accessToken)).caller.account.id, 'alice')
    assert.equal(counts.get(eager), 2)
    // ...and a known kid none.
    eagerVerifier.clear()
    await eagerVerifier.verify(rotated.accessToken)
    assert.equal(counts.get(eager), 2)
    // Within its bound a source does not refetch, whatever kids callers send: refused.
    await assert.rejects(
      boundedVerifier.verify(rotated.accessToken),
      (e: MicroError) => e.code === 401 && /unknown key/.test(e.detail),
    )
    await assert.rejects(
      boundedVerifier.verify(await signed({}, { kid: 'made-up' })),
      (e: MicroError) => e.code === 401,
    )
    assert.equal(counts.get(bounded), 1)
  })

  test('a remote verifier learns revocations from the published key set', async () => {
    await authority.accounts.create({ namespace: 'micro', id: 'temp', secret: 'temp-secret-123' })
    const login = await authority.login('micro', 'temp', 'temp-secret-123', 'test')
    secrets.push(login.token.accessToken, login.token.refreshToken)
    const source = new FetchedKeySource(async () => authority.publicKeys(), { minRefreshMs: 0 })
    const remote = new TokenVerifier({ keys: source })
    await remote.verify(login.token.accessToken)
    await authority.deleteAccount('micro', 'temp')
    await source.refresh()
    assert.equal(remote.peek(login.token.accessToken), undefined, 'the cached verification is dropped')
    await assert.rejects(remote.verify(login.token.accessToken), (e: MicroError) => e.code === 401)
  })
})

describe('logs', () => {
  test('no log line holds a token, secret or private key', () => {
    assert.ok(secrets.length > 10)
    const text = logs.join('\n')
    for (const secret of secrets) {
      for (const part of secret.split('.').filter((p) => p.length > 16))
        assert.ok(!text.includes(part), 'a log line holds a secret')
    }
    assert.ok(!/PRIVATE KEY/.test(text))
  })
})
