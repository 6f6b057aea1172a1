import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import * as grpc from '@grpc/grpc-js'
import { CertificateAuthority } from '../../auth/ca/authority.js'
import { issueLocal } from '../../auth/ca/local.js'
import { KeyEncryption } from '../../auth/key-encryption.js'
import { TransportSet } from '../../client/transports.js'
import { MemoryStore } from '../../store/memory.js'
import { checkServerIdentity } from '../tls/client.js'
import { type ClientAuth, TlsCredentials, type TlsMaterial } from '../tls/credentials.js'
import { peerOf } from '../tls/peer.js'
import type { Dispatcher, InboundCall, Transport } from '../transport.js'
import { LazyGrpcTransport } from './lazy.js'
import { GrpcTransport } from './transport.js'

/**
 * gRPC over mutual TLS: with the service port's TLS, the gRPC port serves h2 over TLS
 * only, checks client certificates as the TLS says, and hands the verified caller to the
 * call; micro clients dial it over TLS and check the server's identity; a plain h2c
 * client, a stranger's certificate or the wrong service are refused, and the port keeps
 * serving. A client nobody here wrote (@grpc/grpc-js) calls it too.
 */

let dir: string
let ca: CertificateAuthority
let otherCa: CertificateAuthority
const cleanup: (() => unknown)[] = []

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'micro-grpc-tls-'))
  const encryption = await KeyEncryption.fromFile(join(dir, 'encryption.key'))
  ca = await CertificateAuthority.open({ store: new MemoryStore(), encryption, env: {} })
  otherCa = await CertificateAuthority.open({ store: new MemoryStore(), encryption, env: {} })
})
after(async () => {
  for (const fn of cleanup.reverse()) await fn()
  await rm(dir, { recursive: true, force: true })
})

function material(service: string, authority = ca): TlsMaterial {
  return issueLocal(authority, 'micro', service, { hosts: ['127.0.0.1'] }).material
}

/** Answers with who called: the verified client certificate's identity, or `anonymous`. */
const whoCalled: Dispatcher = {
  unary: (call: InboundCall) => call.respond(Buffer.from(peerOf(call.headers)?.identity ?? 'anonymous')),
  stream: (_call, channel) => channel.end(),
}

async function serve(service: string, clientAuth: ClientAuth) {
  const credentials = new TlsCredentials(material(service))
  const transport = new GrpcTransport()
  const listener = await transport.listen('127.0.0.1:0', whoCalled, { tls: { credentials, clientAuth } })
  cleanup.push(
    () => listener.close(),
    () => transport.close(),
  )
  return listener.address
}

function client(transport: Transport = new LazyGrpcTransport()): Transport {
  cleanup.push(() => transport.close())
  return transport
}

async function callText(transport: Transport, address: string): Promise<string> {
  const reply = await transport.call(address, {
    endpoint: 'Who.Called',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from('{}'),
    timeout: 5000,
    signal: undefined,
  })
  return Buffer.from(reply.body).toString()
}

describe('gRPC over mutual TLS', () => {
  test('a micro client with its certificate reaches the service it means; the call knows who called', async () => {
    const address = await serve('greeter', 'require')
    const caller = new TlsCredentials(material('caller'))
    const transport = client()
    const secure = transport.secure?.(caller, 'micro://micro/greeter')
    assert.ok(secure, 'the gRPC transport has a TLS view')
    assert.equal(await callText(secure, address), 'micro://micro/caller')
    // One view per credentials and identity: a connection verified as one service never carries calls for another.
    assert.equal(transport.secure?.(caller, 'micro://micro/greeter'), secure)
    assert.notEqual(transport.secure?.(caller, 'micro://micro/billing'), secure)
  })

  test('the wrong service, a stranger CA, no certificate where one is required and plain h2c are refused; the port keeps serving', async () => {
    const address = await serve('greeter', 'require')
    const caller = new TlsCredentials(material('caller'))
    const transport = client()
    await assert.rejects(callText(transport.secure?.(caller, 'micro://micro/billing') as Transport, address))
    const stranger = new TlsCredentials(material('caller', otherCa))
    await assert.rejects(
      callText(transport.secure?.(stranger, 'micro://micro/greeter') as Transport, address),
    )
    const noCertificate = new TlsCredentials({ ca: material('x').ca })
    await assert.rejects(
      callText(transport.secure?.(noCertificate, 'micro://micro/greeter') as Transport, address),
    )
    await assert.rejects(callText(client(new GrpcTransport()), address))
    assert.equal(
      await callText(client().secure?.(caller, 'micro://micro/greeter') as Transport, address),
      'micro://micro/caller',
    )
  })

  test('with client certificates requested, a caller without one is anonymous', async () => {
    const address = await serve('greeter', 'request')
    const anonymous = new TlsCredentials({ ca: material('x').ca })
    assert.equal(
      await callText(client().secure?.(anonymous, 'micro://micro/greeter') as Transport, address),
      'anonymous',
    )
  })

  test('a renewed certificate is used from the next connection on', async () => {
    const credentials = new TlsCredentials(material('greeter'))
    const server = new GrpcTransport()
    const listener = await server.listen('127.0.0.1:0', whoCalled, {
      tls: { credentials, clientAuth: 'require' },
    })
    cleanup.push(
      () => listener.close(),
      () => server.close(),
    )
    const caller = new TlsCredentials(material('caller'))
    assert.equal(
      await callText(client().secure?.(caller, 'micro://micro/greeter') as Transport, listener.address),
      'micro://micro/caller',
    )
    // The server now proves another identity: a fresh client checking for the old one is refused.
    credentials.update(material('renamed'))
    await assert.rejects(
      callText(client().secure?.(caller, 'micro://micro/greeter') as Transport, listener.address),
    )
    assert.equal(
      await callText(client().secure?.(caller, 'micro://micro/renamed') as Transport, listener.address),
      'micro://micro/caller',
    )
  })

  test("a client's renewed certificate is shown on its next call (the old connection gives way)", async () => {
    const address = await serve('greeter', 'require')
    const caller = new TlsCredentials(material('caller'))
    const view = client().secure?.(caller, 'micro://micro/greeter') as Transport
    assert.equal(await callText(view, address), 'micro://micro/caller')
    caller.update(material('caller-renewed'))
    assert.equal(await callText(view, address), 'micro://micro/caller-renewed')
  })

  test('a client picks TLS for a gRPC node that says tls: on, and refuses it without a CA', async () => {
    const address = await serve('greeter', 'require')
    const node = { id: 'greeter-1', address, metadata: { transport: 'grpc', tls: 'on' } }
    const caller = new TlsCredentials(material('caller'))
    const withTls = new TransportSet(new GrpcTransport(), undefined, {
      current: { credentials: caller, required: true },
    })
    cleanup.push(() => withTls.close())
    assert.equal(await callText(withTls.for(node, 'greeter', 'micro'), address), 'micro://micro/caller')
    const without = new TransportSet(new GrpcTransport(), undefined, { current: undefined })
    cleanup.push(() => without.close())
    assert.throws(() => without.for(node, 'greeter', 'micro'), /serves over TLS/)
  })

  test('@grpc/grpc-js with its own TLS credentials calls the service', async () => {
    const address = await serve('greeter', 'require')
    const mine = material('grpc-js-caller')
    const credentials = grpc.credentials.createSsl(
      Buffer.from(mine.ca.join('')),
      Buffer.from(mine.key as string),
      Buffer.from(mine.cert as string),
      // Our certificates name services (URI SAN), not hosts: check the service, as micro clients do.
      { checkServerIdentity: (_host, cert) => checkServerIdentity('micro://micro/greeter', cert) },
    )
    const identity = (b: Buffer) => b
    const Client = grpc.makeGenericClientConstructor(
      {
        called: {
          path: '/who.Who/Called',
          requestStream: false,
          responseStream: false,
          requestSerialize: identity,
          requestDeserialize: identity,
          responseSerialize: identity,
          responseDeserialize: identity,
        },
      },
      'Who',
    )
    const c = new Client(address, credentials) as unknown as {
      called(req: Buffer, cb: (err: Error | null, reply?: Buffer) => void): void
      close(): void
    }
    cleanup.push(() => c.close())
    const reply = await new Promise<Buffer>((resolve, reject) =>
      c.called(Buffer.alloc(0), (err, r) => (err ? reject(err) : resolve(r as Buffer))),
    )
    assert.equal(reply.toString(), 'micro://micro/grpc-js-caller')
  })
})
