import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { MicroError } from '../errors/errors.js'
import { MemoryStore } from '../store/memory.js'
import { Authority, openAuthFileStore, staticKeySource, TokenVerifier } from './index.js'

let dir: string

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'micro-auth-store-'))
})

after(async () => {
  await rm(dir, { recursive: true, force: true })
})

const mode = async (path: string) => (await stat(path)).mode & 0o777

describe('where auth keeps its secrets', () => {
  test('the file store holding accounts, and the key file, are readable by the owner only', async () => {
    const directory = join(dir, 'auth')
    const store = await openAuthFileStore(directory)
    const authority = await Authority.open({
      store,
      mode: 'enforce',
      keyFile: join(directory, 'encryption.key'),
      env: {},
    })
    await authority.accounts.create({ namespace: 'micro', id: 'alice', secret: 'alice-secret-1' })
    await authority.login('micro', 'alice', 'alice-secret-1', 'test')
    assert.equal(await mode(directory), 0o700)
    const files = await readdir(directory)
    assert.ok(files.includes('store.mdb') && files.includes('encryption.key'), files.join(', '))
    for (const file of files) assert.equal(await mode(join(directory, file)), 0o600, file)
    authority.close()
    await store.close()
  })

  test('the private key is sealed in the store; another encryption key cannot open it, and says so without key material', async () => {
    const store = new MemoryStore()
    const keyFile = join(dir, 'k1.key')
    const first = await Authority.open({ store, mode: 'enforce', keyFile, env: {} })
    const records = await store.read({ namespace: 'micro', database: 'auth', table: 'keys' })
    const text = JSON.stringify(records)
    assert.ok(!text.includes('PRIVATE KEY'), 'no PEM in the store')
    assert.ok(!text.includes('"d":'), 'no private JWK in the store')
    // The same key file opens it again (a restart): same signing key.
    const again = await Authority.open({ store, mode: 'enforce', keyFile, env: {} })
    assert.equal(again.keys.signing.kid, first.keys.signing.kid)
    await assert.rejects(
      Authority.open({ store, mode: 'enforce', keyFile: join(dir, 'other.key'), env: {} }),
      (error: MicroError) => {
        assert.match(error.detail, /cannot decrypt the signing key/)
        assert.ok(!/PRIVATE|BEGIN/.test(error.detail))
        return true
      },
    )
    // A passphrase in MICRO_AUTH_ENCRYPTION_KEY replaces the file; too short is refused.
    await assert.rejects(
      Authority.open({
        store: new MemoryStore(),
        mode: 'enforce',
        keyFile,
        env: { MICRO_AUTH_ENCRYPTION_KEY: 'short' },
      }),
      /16 characters/,
    )
    const withPassphrase = new MemoryStore()
    const env = { MICRO_AUTH_ENCRYPTION_KEY: 'a passphrase long enough' }
    const a = await Authority.open({
      store: withPassphrase,
      mode: 'enforce',
      keyFile: join(dir, 'unused.key'),
      env,
    })
    const b = await Authority.open({
      store: withPassphrase,
      mode: 'enforce',
      keyFile: join(dir, 'unused.key'),
      env,
    })
    assert.equal(a.keys.signing.kid, b.keys.signing.kid)
    await assert.rejects(stat(join(dir, 'unused.key')), /ENOENT/)
  })

  test('MICRO_AUTH_PRIVATE_KEY overrides the stored keys; MICRO_AUTH_PUBLIC_KEY adds keys that only verify', async () => {
    const signing = generateKeyPairSync('ed25519')
    const retired = generateKeyPairSync('ed25519')
    const env = {
      MICRO_AUTH_PRIVATE_KEY: Buffer.from(
        signing.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      ).toString('base64'),
      MICRO_AUTH_PUBLIC_KEY: retired.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    }
    const store = new MemoryStore()
    const authority = await Authority.open({ store, mode: 'enforce', keyFile: join(dir, 'env.key'), env })
    assert.equal(authority.keys.fromEnv, true)
    assert.equal(authority.keys.publicKeys.length, 2)
    assert.deepEqual(
      await store.read({ namespace: 'micro', database: 'auth', table: 'keys' }),
      [],
      'nothing stored',
    )
    await assert.rejects(authority.rotateKeys(), /MICRO_AUTH_PRIVATE_KEY/)
    await authority.accounts.create({
      namespace: 'micro',
      id: 'svc',
      type: 'service',
      secret: 'svc-secret-123',
    })
    const login = await authority.login('micro', 'svc', 'svc-secret-123', 'test')
    const verifier = new TokenVerifier({ keys: staticKeySource([...authority.keys.publicKeys]) })
    assert.equal((await verifier.verify(login.token.accessToken)).caller.account.type, 'service')
    await assert.rejects(
      Authority.open({
        store,
        mode: 'enforce',
        keyFile: join(dir, 'env.key'),
        env: { MICRO_AUTH_PRIVATE_KEY: 'not a key at all' },
      }),
      (error: Error) =>
        /MICRO_AUTH_PRIVATE_KEY is not a private key/.test(error.message) &&
        !error.message.includes('not a key at all'),
    )
  })
})
