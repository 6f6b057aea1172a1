import assert from 'node:assert/strict'
import { request } from 'node:https'
import { after, before, describe, test } from 'node:test'
import { issueLocal } from '../src/auth/ca/local.js'
import { callerOf } from '../src/auth/call-auth.js'
import { renewingCertificates } from '../src/auth/tls/sources.js'
import { Client } from '../src/client/client.js'
import type { MicroError } from '../src/errors/errors.js'
import { RegistryCache } from '../src/registry/cache.js'
import { MemoryRegistry } from '../src/registry/memory.js'
import { createSelector } from '../src/selector/from-name.js'
import type { Context } from '../src/server/context.js'
import { createService, type Service } from '../src/service/service.js'
import { MicroTransport } from '../src/transport/micro-transport.js'
import { TlsCredentials, type TlsMaterial } from '../src/transport/tls/credentials.js'
import { startTlsPlatform, type TlsPlatform } from './support/tls-platform.js'

/**
 * Service identities end to end: a TLS platform with its CA, services that get their
 * certificates from it with their own accounts, mutual TLS between them (micro protocol
 * and HTTP), a certificate for one's own account only, registration under one's own name
 * only, and the impersonation attack measured on main (a rogue registered under `greeter`
 * took 103 of 200 calls): with TLS on it takes none.
 */

let platform: TlsPlatform
/** The registry anyone on the machine can write to (what mDNS is): services and the rogue share it. */
const open = new MemoryRegistry()
const services: Service[] = []
const closers: (() => unknown)[] = []
const code = (expected: number) => (error: MicroError) => {
  assert.equal(error.code, expected, error.detail)
  return true
}

class Greeter {
  Who(_req: unknown, ctx: Context) {
    const caller = callerOf(ctx)
    return { service: 'greeter', caller: caller?.id, namespace: caller?.issuer }
  }
}

async function tlsService(
  name: string,
  secret: string,
  handler?: object,
  env: Record<string, string> = {},
): Promise<Service> {
  const service = createService({
    name,
    registry: open,
    handleSignals: false,
    logger: undefined,
    auth: { enforce: true },
    env: {
      MICRO_PLATFORM: platform.address,
      MICRO_AUTH_ID: name,
      MICRO_AUTH_SECRET: secret,
      MICRO_TLS: 'on',
      MICRO_TLS_CA: platform.caFile,
      ...env,
    },
  })
  if (handler) service.handle(handler)
  await service.start()
  services.push(service)
  return service
}

/** A certificate the way a service gets one: a key made here, issued by the platform for the caller's account. */
async function issuedMaterial(client: Client, token: string): Promise<TlsMaterial> {
  const source = renewingCertificates({
    issue: (publicKey) =>
      client.call(
        'platform',
        'Certificates.Issue',
        { publicKey, hosts: ['127.0.0.1'] },
        {
          address: platform.address,
          metadata: { authorization: `Bearer ${token}` },
        },
      ),
  })
  closers.push(() => source.stop())
  return source.start(() => {})
}

async function login(id: string, secret: string): Promise<string> {
  const trusting = tlsClient(new TlsCredentials({ ca: [platform.certificates.ca.root] }))
  const { token } = await trusting.call<{ token: { accessToken: string } }>(
    'platform',
    'Auth.Login',
    { namespace: 'micro', id, secret },
    { address: platform.address },
  )
  return token.accessToken
}

/** A client as a TLS service has one, not short-cutting to services of this process. */
function tlsClient(credentials: TlsCredentials, registry = open): Client {
  const client = new Client({
    lookup: new RegistryCache(registry),
    transport: new MicroTransport(),
    selector: createSelector(),
    local: false,
    tls: { current: { credentials, required: true } },
  })
  closers.push(() => client.close())
  return client
}

let greeter: Service
let callerSecret: string

before(async () => {
  platform = await startTlsPlatform()
  const greeterSecret = await platform.serviceAccount('greeter')
  callerSecret = await platform.serviceAccount('caller')
  await platform.serviceAccount('rogue')
  greeter = await tlsService('greeter', greeterSecret, new Greeter())
})

after(async () => {
  for (const service of services.reverse()) await service.stop()
  for (const close of closers.reverse()) await close()
  await platform?.close()
})

describe('certificates from the platform', () => {
  test('a service started with credentials serves TLS with a certificate for its own account', async () => {
    const records = await open.getService('greeter')
    const node = records[0]?.nodes[0]
    assert.equal(node?.metadata.tls, 'on')
    const token = await login('caller', callerSecret)
    const client = tlsClient(
      new TlsCredentials(
        await issuedMaterial(tlsClient(new TlsCredentials({ ca: [platform.certificates.ca.root] })), token),
      ),
    )
    const answer = await client.call('greeter', 'Greeter.Who', {}, { retries: 0 })
    assert.deepEqual(
      answer,
      { service: 'greeter', caller: 'caller', namespace: 'micro' },
      'known by its certificate, no token sent',
    )
  })

  test('a gRPC service serves gRPC over mutual TLS; its caller is known by its certificate', async () => {
    const secret = await platform.serviceAccount('grpc-greeter')
    const service = await tlsService('grpc-greeter', secret, new Greeter(), { MICRO_TRANSPORT: 'grpc' })
    const node = (await open.getService('grpc-greeter'))[0]?.nodes[0]
    assert.equal(node?.metadata.transport, 'grpc')
    assert.equal(node?.metadata.tls, 'on')
    const token = await login('caller', callerSecret)
    const client = tlsClient(
      new TlsCredentials(
        await issuedMaterial(tlsClient(new TlsCredentials({ ca: [platform.certificates.ca.root] })), token),
      ),
    )
    const answer = await client.call('grpc-greeter', 'Greeter.Who', {}, { retries: 0 })
    assert.deepEqual(answer, { service: 'greeter', caller: 'caller', namespace: 'micro' })
    // Plain h2c to the TLS port is refused: nothing is served without TLS.
    const plain = new Client({
      lookup: new RegistryCache(open),
      transport: new MicroTransport(),
      selector: createSelector(),
      local: false,
    })
    closers.push(() => plain.close())
    await assert.rejects(plain.call('grpc-greeter', 'Greeter.Who', {}, { retries: 0, timeout: 3000 }))
    assert.ok(service.address)
  })

  test("a TLS service's spans reach the TLS platform (over its TLS, with its token)", async () => {
    const token = await login('caller', callerSecret)
    const client = tlsClient(
      new TlsCredentials(
        await issuedMaterial(tlsClient(new TlsCredentials({ ca: [platform.certificates.ca.root] })), token),
      ),
    )
    await client.call('greeter', 'Greeter.Who', {}, { retries: 0 })
    // The exporter sends a batch a second after its first span at the latest.
    const deadline = Date.now() + 10_000
    while (platform.traces.list({ service: 'greeter' }).length === 0) {
      assert.ok(Date.now() < deadline, "the platform never got greeter's spans")
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const [summary] = platform.traces.list({ service: 'greeter' })
    assert.equal(summary?.rootName, 'Greeter.Who')
  })

  test('a service gets a certificate for its own account only', async () => {
    const trusting = tlsClient(new TlsCredentials({ ca: [platform.certificates.ca.root] }))
    const token = await login('caller', callerSecret)
    const { publicKey } = (await import('../src/auth/ca/local.js')).newKeyPair()
    const issued = await trusting.call<{ identity: string }>(
      'platform',
      'Certificates.Issue',
      { publicKey, service: 'greeter', namespace: 'other', identity: 'micro://micro/greeter' },
      {
        address: platform.address,
        metadata: { authorization: `Bearer ${token}` },
      },
    )
    assert.equal(
      issued.identity,
      'micro://micro/caller',
      'the identity is the caller account, whatever the request says',
    )
    await assert.rejects(
      trusting.call(
        'platform',
        'Certificates.Issue',
        { publicKey },
        { address: platform.address, retries: 0 },
      ),
      code(401),
    )
    const adminUser = await platform.admin('Accounts.Create', {
      id: 'bob',
      type: 'user',
      scopes: ['*'],
      secret: 'bob-secret-long',
    })
    assert.equal(adminUser.account.type, 'user')
    const bob = await login('bob', 'bob-secret-long')
    await assert.rejects(
      trusting.call(
        'platform',
        'Certificates.Issue',
        { publicKey },
        { address: platform.address, retries: 0, metadata: { authorization: `Bearer ${bob}` } },
      ),
      code(403),
    )
    const ca = await trusting.call<{ certificate: string }>(
      'platform',
      'Certificates.CA',
      {},
      { address: platform.address },
    )
    assert.equal(ca.certificate, platform.certificates.ca.root, 'the root is public')
  })

  test('HTTP on a TLS service port: https with a platform-issued client certificate', async () => {
    const token = await login('caller', callerSecret)
    const material = await issuedMaterial(
      tlsClient(new TlsCredentials({ ca: [platform.certificates.ca.root] })),
      token,
    )
    const [host, port] = (greeter.address as string).split(':') as [string, string]
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host,
          port: Number(port),
          method: 'POST',
          path: '/Greeter/Who',
          headers: { 'content-type': 'application/json' },
          ...material,
        },
        (res) => {
          let text = ''
          res.on('data', (chunk) => {
            text += chunk
          })
          res.on('end', () => resolve(`${res.statusCode} ${text}`))
        },
      )
      req.on('error', reject)
      req.end('{}')
    })
    assert.equal(body, '200 {"service":"greeter","caller":"caller","namespace":"micro"}')
  })

  test('a caller with neither certificate nor token is refused (401); a token alone works', async () => {
    const anonymous = tlsClient(new TlsCredentials({ ca: [platform.certificates.ca.root] }))
    await assert.rejects(anonymous.call('greeter', 'Greeter.Who', {}, { retries: 0 }), code(401))
    const token = await login('caller', callerSecret)
    const answer = await anonymous.call(
      'greeter',
      'Greeter.Who',
      {},
      { retries: 0, metadata: { authorization: `Bearer ${token}` } },
    )
    assert.deepEqual(answer, { service: 'greeter', caller: 'caller', namespace: 'micro' })
  })
})

describe('impersonation', () => {
  test('the platform registry refuses registering under another service name, by token or by certificate', async () => {
    const rogueToken = await login(
      'rogue2',
      (await platform.admin('Accounts.Create', { id: 'rogue2', type: 'service', scopes: ['service'] }))
        .secret,
    )
    const trusting = tlsClient(new TlsCredentials({ ca: [platform.certificates.ca.root] }))
    const record = {
      name: 'greeter',
      version: 'latest',
      metadata: {},
      endpoints: [],
      nodes: [{ id: 'greeter-rogue', address: '127.0.0.1:1', metadata: {} }],
    }
    const register = (client: Client, metadata?: Record<string, string>) =>
      client.call(
        'platform',
        'Registry.Register',
        { service: record },
        { address: platform.address, retries: 0, ...(metadata ? { metadata } : {}) },
      )
    await assert.rejects(register(trusting), code(401))
    await assert.rejects(register(trusting, { authorization: `Bearer ${rogueToken}` }), code(403))
    const rogueCert = new TlsCredentials(await issuedMaterial(trusting, rogueToken))
    await assert.rejects(register(tlsClient(rogueCert)), code(403))
    assert.deepEqual(await platform.registry.listServices(), [], 'nothing was registered')
    const own = { ...record, name: 'rogue2' }
    await tlsClient(rogueCert).call(
      'platform',
      'Registry.Register',
      { service: own },
      { address: platform.address },
    )
    assert.equal((await platform.registry.getService('rogue2')).length, 1, 'under its own name it may')
  })

  test('a rogue registered under greeter in a registry anyone writes to takes 0 of 200 calls', async () => {
    let stolen = 0
    const countTheft = {
      unary: (call: { respond(b: Uint8Array): void }) => {
        stolen++
        call.respond(Buffer.from('{"service":"rogue"}'))
      },
      stream: (_c: unknown, channel: { end(): void }) => channel.end(),
    }
    // The strongest rogue: a TLS port with a valid certificate from the same CA, for its own name.
    const rogueTransport = new MicroTransport()
    const { material } = issueLocal(platform.certificates.ca, 'micro', 'rogue', { hosts: ['127.0.0.1'] })
    const tlsRogue = await rogueTransport.listen('127.0.0.1:0', countTheft as never, {
      tls: { credentials: new TlsCredentials(material), clientAuth: 'request' },
    })
    // And a plain one that says it speaks TLS.
    const plainRogue = await rogueTransport.listen('127.0.0.1:0', countTheft as never)
    closers.push(
      () => tlsRogue.close(),
      () => plainRogue.close(),
      () => rogueTransport.close(),
    )
    for (const [id, address] of [
      ['greeter-rogue-tls', tlsRogue.address],
      ['greeter-rogue-plain', plainRogue.address],
    ] as const) {
      await open.register({
        name: 'greeter',
        version: 'latest',
        metadata: {},
        endpoints: [{ name: 'Greeter.Who', metadata: {} }],
        nodes: [{ id, address, metadata: { tls: 'on', transport: 'micro' } }],
      })
    }
    const nodes = (await open.getService('greeter')).flatMap((r) => r.nodes)
    assert.equal(nodes.length, 3, 'the real greeter and two rogues')
    const token = await login('caller', callerSecret)
    const client = tlsClient(
      new TlsCredentials(
        await issuedMaterial(tlsClient(new TlsCredentials({ ca: [platform.certificates.ca.root] })), token),
      ),
    )
    let real = 0
    for (let i = 0; i < 200; i++) {
      const answer = await client.call<{ service: string }>('greeter', 'Greeter.Who', {}, { retries: 3 })
      if (answer.service === 'greeter') real++
    }
    assert.equal(stolen, 0, 'no call reached a rogue')
    assert.equal(real, 200, 'every call reached the real greeter')
  })
})
