import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { MicroError } from '../../errors/errors.js'
import { MemoryStore } from '../../store/memory.js'
import { KeyEncryption } from '../key-encryption.js'
import { CertificateAuthority, MAX_LEAF_TTL } from './authority.js'
import { issueLocal, newKeyPair } from './local.js'

/**
 * The platform CA: a root made once and kept sealed in the store, leaf certificates that
 * OpenSSL verifies against it (URI SAN, key usages, validity), refusals of bad requests
 * that never echo a key, and a user's own CA.
 */

let dir: string
let encryption: KeyEncryption
const code = (expected: number) => (error: MicroError) => {
  assert.equal(error.code, expected, error.detail)
  return true
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'micro-ca-'))
  encryption = await KeyEncryption.fromFile(join(dir, 'encryption.key'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

function openssl(...args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

describe('the root', () => {
  test('is made once, kept with its private key sealed, and the same after reopening', async () => {
    const store = new MemoryStore()
    const first = await CertificateAuthority.open({ store, encryption, env: {} })
    const again = await CertificateAuthority.open({ store, encryption, env: {} })
    assert.equal(again.root, first.root)
    const root = new X509Certificate(first.root)
    assert.ok(root.ca)
    assert.ok(root.verify(root.publicKey), 'self-signed')
    const stored = JSON.stringify(
      (await store.read('root', { namespace: 'micro', database: 'auth', table: 'ca' })).value,
    )
    assert.ok(!stored.includes('PRIVATE KEY'), 'the private key is never stored in the clear')
    const other = await KeyEncryption.fromPassphrase('another passphrase of enough length')
    await assert.rejects(CertificateAuthority.open({ store, encryption: other, env: {} }), /cannot decrypt/)
  })
})

describe('leaf certificates', () => {
  let ca: CertificateAuthority
  before(async () => {
    ca = await CertificateAuthority.open({ store: new MemoryStore(), encryption, env: {} })
  })

  test('name the service as a URI SAN, chain to the root, and pass openssl verify for client and server use', async () => {
    const { issued } = issueLocal(ca, 'shop', 'orders', {
      hosts: ['127.0.0.1', 'localhost', '::1'],
      uid: 'abc-123',
    })
    assert.equal(issued.identity, 'micro://shop/orders')
    const leaf = new X509Certificate(issued.certificate)
    assert.equal(
      leaf.subjectAltName,
      'URI:micro://shop/orders, IP Address:127.0.0.1, DNS:localhost, IP Address:0:0:0:0:0:0:0:1',
    )
    assert.ok(leaf.checkIssued(new X509Certificate(issued.ca)))
    assert.ok(leaf.verify(new X509Certificate(issued.ca).publicKey))
    assert.ok(!leaf.ca)
    assert.match(leaf.subject, /serialNumber=abc-123/)
    const life = issued.notAfter - Date.now()
    assert.ok(life > 23 * 3600_000 && life <= 24 * 3600_000, `a day by default (${life} ms)`)
    const caFile = join(dir, 'ca.pem')
    const leafFile = join(dir, 'leaf.pem')
    await writeFile(caFile, issued.ca)
    await writeFile(leafFile, issued.certificate)
    for (const purpose of ['sslserver', 'sslclient']) {
      assert.match(openssl('verify', '-purpose', purpose, '-CAfile', caFile, leafFile), /: OK/)
    }
    const text = openssl('x509', '-in', leafFile, '-noout', '-text')
    assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/)
    assert.match(text, /CA:FALSE/)
  })

  test('have a bounded lifetime: a week at most, a minute at least', () => {
    const long = issueLocal(ca, 'micro', 'a', { ttlMs: 365 * 24 * 3600_000 }).issued
    assert.ok(long.notAfter - Date.now() <= MAX_LEAF_TTL)
    const short = issueLocal(ca, 'micro', 'a', { ttlMs: 1 }).issued
    assert.ok(short.notAfter - Date.now() >= 55_000)
  })

  test('an expired certificate fails verification', async () => {
    const { issued } = issueLocal(ca, 'micro', 'old', { ttlMs: 60_000 })
    const caFile = join(dir, 'ca-exp.pem')
    const leafFile = join(dir, 'leaf-exp.pem')
    await writeFile(caFile, issued.ca)
    await writeFile(leafFile, issued.certificate)
    const later = Math.floor((Date.now() + 3600_000) / 1000)
    assert.throws(() => openssl('verify', '-attime', String(later), '-CAfile', caFile, leafFile), /expired/)
  })

  test('bad requests are 400s that never echo a key', () => {
    const keys = newKeyPair()
    const refuse = (request: Record<string, unknown>) => {
      try {
        ca.issue({ namespace: 'micro', service: 'svc', publicKey: keys.publicKey, ...request } as never)
      } catch (error) {
        const e = error as MicroError
        assert.equal(e.code, 400)
        assert.ok(!e.detail.includes('PRIVATE') && !e.detail.includes(keys.privateKey.slice(30, 60)))
        return
      }
      assert.fail('accepted')
    }
    refuse({ publicKey: keys.privateKey })
    refuse({ publicKey: 'not a key' })
    refuse({ publicKey: 42 })
    refuse({ service: 'bad name/with slash' })
    refuse({ namespace: '../etc' })
    refuse({ hosts: ['exa mple.com'] })
    refuse({ hosts: Array.from({ length: 40 }, (_, i) => `h${i}.example`) })
    refuse({ hosts: 'localhost' })
    assert.throws(
      () => ca.issue({ namespace: 'micro', service: 'svc', publicKey: keys.privateKey }),
      code(400),
    )
  })
})

describe('a user CA (MICRO_TLS_CA and MICRO_TLS_CA_KEY)', () => {
  test('issues with the given CA instead of making one', async () => {
    const key = join(dir, 'user-ca.key')
    const cert = join(dir, 'user-ca.pem')
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/C=DE/ST=Berlin/O=acme/OU=platform/CN=acme services CA',
    )
    const store = new MemoryStore()
    const ca = await CertificateAuthority.open({
      store,
      encryption,
      env: { MICRO_TLS_CA: cert, MICRO_TLS_CA_KEY: key },
    })
    assert.equal(ca.root, new X509Certificate(await readFile(cert)).toString())
    const { issued } = issueLocal(ca, 'micro', 'billing')
    const leafFile = join(dir, 'user-leaf.pem')
    await writeFile(leafFile, issued.certificate)
    assert.match(openssl('verify', '-CAfile', cert, leafFile), /: OK/)
    assert.deepEqual(
      await store.read({ namespace: 'micro', database: 'auth', table: 'ca' }),
      [],
      'nothing stored',
    )
    await assert.rejects(
      CertificateAuthority.open({
        store,
        encryption,
        env: { MICRO_TLS_CA: cert, MICRO_TLS_CA_KEY: join(dir, 'leaf.pem') },
      }),
      /not a PEM private key|not the key/,
    )
    assert.ok((await stat(key)).isFile())
  })
})
