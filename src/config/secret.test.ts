// biome-ignore-all lint/suspicious/noTemplateCurlyInString: a config file using ${VAR} expansion
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { describe, test } from 'node:test'
import { inspect } from 'node:util'
import { MicroError } from '../errors/errors.js'
import { createLogger } from '../logger/logger.js'
import { generateSecretKey, openSecret, parseSecretKey, sealSecret, secretKeyFromEnv } from './cipher.js'
import { loadConfig } from './config.js'
import { fileSource } from './file-source.js'
import { memorySource } from './memory-source.js'
import { Secret, secret } from './secret.js'
import { tempDir } from './test-files.js'

const KEY_TEXT = generateSecretKey()
const KEY = parseSecretKey(KEY_TEXT)
const PLAIN = 'hunter2-p@ss'

const neverShows = (text: string) => (e: unknown) =>
  e instanceof MicroError && !e.detail.includes(text) && !JSON.stringify(e).includes(text)

describe('secret keys', () => {
  test('base64 (standard or URL-safe) and hex keys of 32 bytes are accepted', () => {
    const raw = KEY.toString('hex')
    assert.deepEqual(parseSecretKey(raw), KEY)
    assert.deepEqual(parseSecretKey(KEY.toString('base64url')), KEY)
    assert.deepEqual(secretKeyFromEnv({ MICRO_CONFIG_SECRET_KEY: ` ${KEY_TEXT}\n` }), KEY)
  })

  test('a missing, short or malformed key is a clear 500 that never shows the key', () => {
    assert.throws(
      () => secretKeyFromEnv({}),
      (e: unknown) =>
        e instanceof MicroError && e.code === 500 && /MICRO_CONFIG_SECRET_KEY is not set/.test(e.detail),
    )
    const short = Buffer.alloc(16, 7).toString('base64')
    assert.throws(() => secretKeyFromEnv({ MICRO_CONFIG_SECRET_KEY: short }), /it is 16 bytes/)
    assert.throws(() => secretKeyFromEnv({ MICRO_CONFIG_SECRET_KEY: short }), neverShows(short))
    assert.throws(() => parseSecretKey('not a key!'), /neither base64 nor hex/)
  })
})

describe('sealing', () => {
  test('round trip; each encryption differs; the plaintext never appears', () => {
    const a = sealSecret(PLAIN, KEY)
    const b = sealSecret(PLAIN, KEY)
    assert.match(a, /^enc:v1:[A-Za-z0-9_-]+$/)
    assert.notEqual(a, b)
    assert.ok(!a.includes(PLAIN))
    assert.equal(openSecret(a, KEY), PLAIN)
    assert.equal(openSecret(sealSecret('', KEY), KEY), '')
  })

  test('a wrong key, an altered or truncated value is a 500 naming where, not the value', () => {
    const sealed = sealSecret(PLAIN, KEY)
    const other = parseSecretKey(generateSecretKey())
    assert.throws(() => openSecret(sealed, other, 'db.password'), /cannot decrypt db\.password: wrong/)
    const flipped = sealed.slice(0, -2) + (sealed.at(-2) === 'A' ? 'B' : 'A') + sealed.at(-1)
    assert.throws(() => openSecret(flipped, KEY), /altered/)
    assert.throws(() => openSecret('enc:v1:AAAA', KEY), /truncated/)
  })
})

describe('Secret values', () => {
  test('print as [secret] in every form, reveal gives the text', () => {
    const s = secret(PLAIN)
    const logged: string[] = []
    createLogger({ level: 'info', write: (line) => logged.push(line) }).info('config', { s, nested: { s } })
    const shown = [String(s), `${s}`, JSON.stringify({ s }), inspect({ s }), logged.join('')]
    for (const text of shown) assert.ok(!text.includes(PLAIN) && text.includes('[secret]'), text)
    assert.equal(s.reveal(), PLAIN)
  })

  test('enc:v1 values load as secrets, decrypted lazily with the key', async () => {
    const sealed = sealSecret(PLAIN, KEY)
    const source = memorySource({ db: { password: sealed, user: 'app' } })
    const withKey = await loadConfig({ sources: [source], env: { MICRO_CONFIG_SECRET_KEY: KEY_TEXT } })
    assert.equal(withKey.get('db.password').string(), PLAIN)
    assert.ok(withKey.get('db.password').raw instanceof Secret)
    assert.deepEqual(withKey.get('db').scan(), { password: PLAIN, user: 'app' })
    assert.ok(!JSON.stringify(withKey.all()).includes(PLAIN))
    assert.ok(!inspect(withKey.all(), { depth: 10 }).includes(PLAIN))
    await withKey.close()

    // Without a key the config still loads; only reading the secret fails, clearly.
    const noKey = await loadConfig({ sources: [source], env: {} })
    assert.equal(noKey.get('db.user').string(), 'app')
    assert.throws(() => noKey.get('db.password').string(), /MICRO_CONFIG_SECRET_KEY is not set/)
    await noKey.close()

    const explicit = await loadConfig({ sources: [source], env: {}, secretKey: KEY.toString('hex') })
    assert.equal(explicit.get('db.password').secret()?.reveal(), PLAIN)
    await explicit.close()
  })

  test('a secret that does not convert is an error that does not echo it', async () => {
    const config = await loadConfig({
      sources: [memorySource({ port: secret(PLAIN), sealed: sealSecret(PLAIN, KEY) })],
      secretKey: KEY,
    })
    assert.throws(() => config.get('port').int(), neverShows(PLAIN))
    assert.throws(() => config.get('port').bool(), /a secret that does not convert/)
    assert.throws(() => config.get('sealed').duration(), neverShows(PLAIN))
    await config.close()
  })

  test('a secret from a file, through ${VAR} expansion', async () => {
    const tmp = await tempDir()
    try {
      await writeFile(tmp.path('c.yaml'), `db:\n  password: \${DB_PASSWORD}\n`)
      const config = await loadConfig({
        sources: [fileSource(tmp.path('c.yaml'))],
        env: { DB_PASSWORD: sealSecret(PLAIN, KEY), MICRO_CONFIG_SECRET_KEY: KEY.toString('hex') },
      })
      assert.equal(config.get('db.password').string(), PLAIN)
      assert.equal(String(config.get('db.password').raw), '[secret]')
      await config.close()
    } finally {
      await tmp.cleanup()
    }
  })

  test('secrets compare by value for watch: the same ciphertext or plaintext fires nothing', async () => {
    const sealed = sealSecret(PLAIN, KEY)
    const source = memorySource({ a: sealed, b: secret('x') })
    const config = await loadConfig({ sources: [source], secretKey: KEY })
    const watcher = config.watch('')
    source.set('a', sealed)
    source.set('b', secret('x'))
    const first = watcher.next()
    assert.equal(await Promise.race([first, new Promise((r) => setImmediate(() => r('none')))]), 'none')
    source.set('a', sealSecret('changed', KEY))
    const next = await first
    assert.equal(next.value?.map()?.b?.toString(), '[secret]')
    assert.equal(config.get('a').string(), 'changed')
    await config.close()
  })
})
