import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:https'
import { connect as netConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { connect as tlsConnect } from 'node:tls'
import { CertificateAuthority } from '../../auth/ca/authority.js'
import { issueLocal } from '../../auth/ca/local.js'
import { KeyEncryption } from '../../auth/key-encryption.js'
import { MicroError } from '../../errors/errors.js'
import { MemoryStore } from '../../store/memory.js'
import { MicroTransport } from '../micro-transport.js'
import type { Dispatcher, InboundCall, Listener, Transport } from '../transport.js'
import { type ClientAuth, TlsCredentials, type TlsMaterial } from './credentials.js'
import { peerOf } from './peer.js'

/**
 * TLS on the service port: mutual TLS for the micro protocol and HTTP, the server's
 * identity checked by the client, client certificates required or requested, and what a
 * TLS port does with garbage, plain frames and plain HTTP (answers, and keeps serving).
 */

let dir: string
let ca: CertificateAuthority
let otherCa: CertificateAuthority
const cleanup: (() => unknown)[] = []

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'micro-tls-'))
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

async function serve(service: string, clientAuth: ClientAuth, dispatcher = whoCalled) {
  const credentials = new TlsCredentials(material(service))
  const transport = new MicroTransport()
  const listener = await transport.listen('127.0.0.1:0', dispatcher, { tls: { credentials, clientAuth } })
  cleanup.push(
    () => listener.close(),
    () => transport.close(),
  )
  return { listener, credentials }
}

function client(): MicroTransport {
  const transport = new MicroTransport({ dialTimeout: 5000 })
  cleanup.push(() => transport.close())
  return transport
}

async function callText(transport: Transport, address: string): Promise<string> {
  const reply = await transport.call(address, {
    endpoint: 'Who.Called',
    headers: {},
    body: Buffer.alloc(0),
    timeout: 5000,
    signal: undefined,
  })
  return Buffer.from(reply.body).toString()
}

describe('mutual TLS', () => {
  let listener: Listener
  before(async () => {
    ;({ listener } = await serve('greeter', 'require'))
  })

  test('micro protocol: the server sees the caller by certificate, the caller reaches the service it meant', async () => {
    const caller = new TlsCredentials(material('orders'))
    const secure = client().secure(caller, 'micro://micro/greeter')
    const answers = await Promise.all(Array.from({ length: 20 }, () => callText(secure, listener.address)))
    assert.deepEqual(new Set(answers), new Set(['micro://micro/orders']))
  })

  test('HTTP on the same port: https with a client certificate', async () => {
    const caller = material('orders')
    const body = await new Promise<string>((resolve, reject) => {
      const [host, port] = listener.address.split(':') as [string, string]
      const req = request(
        {
          host,
          port: Number(port),
          method: 'POST',
          path: '/Who/Called',
          headers: { 'content-type': 'application/json' },
          ca: caller.ca,
          cert: caller.cert,
          key: caller.key,
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
    assert.equal(body, '200 micro://micro/orders')
  })

  test('a server with another identity is refused by the client before anything is sent', async () => {
    let reached = 0
    const { listener: rogue } = await serve('rogue', 'request', {
      unary: (call) => {
        reached++
        call.respond(Buffer.from('stolen'))
      },
      stream: (_c, channel) => channel.end(),
    })
    const caller = new TlsCredentials(material('orders'))
    const secure = client().secure(caller, 'micro://micro/greeter')
    await assert.rejects(callText(secure, rogue.address), (error: MicroError) => {
      assert.match(
        error.detail,
        /the server is not micro:\/\/micro\/greeter: its certificate names micro:\/\/micro\/rogue/,
      )
      return true
    })
    assert.equal(reached, 0)
  })

  test('a server whose certificate comes from another CA is refused', async () => {
    const { listener: foreign } = await serve('greeter', 'request')
    const caller = new TlsCredentials({ ca: material('x', otherCa).ca })
    await assert.rejects(
      callText(client().secure(caller, 'micro://micro/greeter'), foreign.address),
      MicroError,
    )
  })
})

describe('client certificates', () => {
  test('require: no certificate, no connection; a certificate of another CA neither', async () => {
    const { listener } = await serve('greeter', 'require')
    const anonymous = new TlsCredentials({ ca: material('x').ca })
    await assert.rejects(
      callText(client().secure(anonymous, 'micro://micro/greeter'), listener.address),
      MicroError,
    )
    const foreign = new TlsCredentials({ ...material('orders', otherCa), ca: material('x').ca })
    await assert.rejects(
      callText(client().secure(foreign, 'micro://micro/greeter'), listener.address),
      MicroError,
    )
    const good = new TlsCredentials(material('orders'))
    assert.equal(
      await callText(client().secure(good, 'micro://micro/greeter'), listener.address),
      'micro://micro/orders',
    )
  })

  test('request: without a certificate the call is anonymous; a bad one is still refused', async () => {
    const { listener } = await serve('greeter', 'request')
    const anonymous = new TlsCredentials({ ca: material('x').ca })
    assert.equal(
      await callText(client().secure(anonymous, 'micro://micro/greeter'), listener.address),
      'anonymous',
    )
    const foreign = new TlsCredentials({ ...material('orders', otherCa), ca: material('x').ca })
    await assert.rejects(
      callText(client().secure(foreign, 'micro://micro/greeter'), listener.address),
      MicroError,
    )
  })
})

describe('bad input on a TLS port', () => {
  let listener: Listener
  let caller: TlsCredentials
  before(async () => {
    ;({ listener } = await serve('greeter', 'require'))
    caller = new TlsCredentials(material('orders'))
  })

  async function rawExchange(bytes: Buffer): Promise<string> {
    const [host, port] = listener.address.split(':') as [string, string]
    return new Promise((resolve) => {
      const socket = netConnect({ host, port: Number(port) }, () => socket.write(bytes))
      let got = Buffer.alloc(0)
      socket.on('data', (chunk) => {
        got = Buffer.concat([got, chunk])
      })
      socket.on('error', () => {})
      socket.on('close', () => resolve(got.toString('latin1')))
    })
  }

  test('a garbage ClientHello is dropped and the port keeps serving', async () => {
    await rawExchange(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x20]), Buffer.alloc(32, 0xee)]))
    await rawExchange(Buffer.from([0x16, 0x03, 0x03, 0xff, 0xff, 1, 2, 3]))
    assert.equal(
      await callText(client().secure(caller, 'micro://micro/greeter'), listener.address),
      'micro://micro/orders',
    )
  })

  test('plain micro frames get an error that says the port speaks TLS', async () => {
    const plain = client()
    await assert.rejects(callText(plain, listener.address), (error: MicroError) => {
      assert.equal(error.code, 400)
      assert.match(error.detail, /this port speaks TLS/)
      return true
    })
    assert.equal(
      await callText(client().secure(caller, 'micro://micro/greeter'), listener.address),
      'micro://micro/orders',
    )
  })

  test('plain HTTP gets a 400 saying to use https', async () => {
    const answer = await rawExchange(Buffer.from('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'))
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request/)
    assert.match(answer, /use https:\/\//)
    assert.equal(
      await callText(client().secure(caller, 'micro://micro/greeter'), listener.address),
      'micro://micro/orders',
    )
  })

  test('an unknown first byte inside TLS gets the unknown-protocol answer', async () => {
    const [host, port] = listener.address.split(':') as [string, string]
    const { cert, key, ca: roots } = caller.material
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect(
        { host, port: Number(port), cert, key, ca: roots, checkServerIdentity: () => undefined },
        () => socket.write('\x00\x00garbage'),
      )
      let text = ''
      socket.on('data', (chunk) => {
        text += chunk
      })
      socket.on('error', reject)
      socket.on('close', () => resolve(text))
    })
    assert.match(answer, /unrecognised protocol/)
  })
})

describe('renewal', () => {
  test('new connections get the new certificate; open ones keep working', async () => {
    const { listener, credentials } = await serve('greeter', 'require')
    const caller = new TlsCredentials(material('orders'))
    const [host, port] = listener.address.split(':') as [string, string]
    const serialSeen = () =>
      new Promise<string>((resolve, reject) => {
        const { cert, key, ca: roots } = caller.material
        const socket = tlsConnect(
          { host, port: Number(port), cert, key, ca: roots, checkServerIdentity: () => undefined },
          () => {
            resolve(socket.getPeerCertificate().serialNumber)
            socket.destroy()
          },
        )
        socket.on('error', reject)
      })
    const before = await serialSeen()
    const open = client().secure(caller, 'micro://micro/greeter')
    assert.equal(await callText(open, listener.address), 'micro://micro/orders')
    credentials.update(material('greeter'))
    const afterRenewal = await serialSeen()
    assert.notEqual(afterRenewal, before)
    assert.equal(
      await callText(open, listener.address),
      'micro://micro/orders',
      'the open connection goes on',
    )
    assert.throws(
      () => credentials.update({ ...material('greeter'), key: material('other').key }),
      /unusable TLS credentials/,
    )
    assert.equal(await serialSeen(), afterRenewal, 'a refused update changes nothing')
  })
})
