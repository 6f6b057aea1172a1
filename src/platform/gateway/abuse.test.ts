import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect as tcpConnect } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { WebSocket } from 'ws'
import { type GatewayWorld, startWorld } from '../../../test/support/gateway.js'
import { httpCall } from '../../testing/http-call.js'

/** Write `bytes` on a raw connection and collect everything until the server closes it. */
async function rawExchange(address: string, bytes: string | Buffer): Promise<string> {
  const [host, port] = address.split(':') as [string, string]
  const socket = tcpConnect(Number(port), host)
  let received = ''
  socket.on('data', (d) => {
    received += d.toString('latin1')
  })
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write(bytes)
  await once(socket, 'close')
  return received
}

async function stillServesOn(world: GatewayWorld): Promise<void> {
  const r = await httpCall(world.base, 'POST', '/api/greeter/hello', { name: 'ok' })
  assert.deepEqual([r.status, r.body], [200, { message: 'Hello ok' }])
}

describe('slow clients: bounded by the head and read timeouts', () => {
  let world: GatewayWorld
  let address: string
  before(async () => {
    // Short timeouts, so the attacks end quickly; the good requests here are few.
    world = await startWorld({ headersTimeout: 1000, readTimeout: 2000 })
    address = world.gateway.address
  })
  after(() => world.close())
  const stillServes = () => stillServesOn(world)

  test('a client that never finishes its headers gets a 408 and is disconnected', async () => {
    const slow = rawExchange(address, 'POST /api/greeter/hello HTTP/1.1\r\nHost: x\r\nContent-Type: appl')
    await stillServes()
    assert.match(await slow, /^HTTP\/1\.1 408/)
  })

  test('a client that never finishes its body gets a 408 and is disconnected', async () => {
    const slow = rawExchange(
      address,
      'POST /api/greeter/hello HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":',
    )
    await stillServes()
    assert.match(await slow, /^HTTP\/1\.1 408/)
  })

  test('garbage instead of HTTP is a 400; an oversized head is a 431', async () => {
    assert.match(
      await rawExchange(address, Buffer.from([0, 1, 2, 0x0d, 0x0a, 0x0d, 0x0a])),
      /^HTTP\/1\.1 400/,
    )
    const huge = `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`
    assert.match(await rawExchange(address, huge), /^HTTP\/1\.1 431/)
    await stillServes()
  })
})

describe('floods: bounded, clear errors, and the gateway keeps serving', () => {
  let world: GatewayWorld
  let address: string
  before(async () => {
    world = await startWorld({ maxStreams: 4, wsMaxPayload: 4096 })
    address = world.gateway.address
  })
  after(() => world.close())
  const stillServes = () => stillServesOn(world)

  test('a spray of distinct unknown paths gets 404s and the gateway goes on', async () => {
    let next = 0
    const statuses = new Map<number, number>()
    const worker = async () => {
      while (next < 1000) {
        const i = next++
        const path = i % 2 === 0 ? `/api/nobody${i}/x${i}` : `/api/greeter/missing${i}`
        const { status } = await httpCall(world.base, 'POST', path, {})
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
      }
    }
    await Promise.all(Array.from({ length: 16 }, worker))
    assert.deepEqual([...statuses], [[404, 1000]])
    await stillServes()
  })

  test('a client that goes away mid-call cancels the call on the service', async () => {
    const greeter = world.services[0]!
    const abort = new AbortController()
    const call = fetch(`${world.base}/api/greeter/slow`, { method: 'POST', body: '{}', signal: abort.signal })
    // (a string body goes as text/plain, which the gateway reads as JSON)
    call.catch(() => {})
    while (greeter.server.activeCalls === 0) await new Promise((r) => setTimeout(r, 5))
    abort.abort()
    while (greeter.server.activeCalls > 0) await new Promise((r) => setTimeout(r, 5))
    assert.equal(greeter.server.activeCalls, 0)
    await stillServes()
  })

  test('a WebSocket message flood is slowed down, not dropped, and others are still served', async () => {
    const ws = new WebSocket(`ws://${address}/api/greeter/chat`)
    await once(ws, 'open')
    const total = 5000
    let replies = 0
    ws.on('message', () => {
      replies++
    })
    for (let i = 0; i < total; i++) ws.send(`{"name":"n${i}"}`)
    await stillServes()
    while (replies < total) await once(ws, 'message')
    assert.equal(replies, total)
    ws.close()
    await once(ws, 'close')
  })

  test('a flood of WebSocket upgrades past maxStreams is refused with 503, and the gateway goes on', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 60 }, async () => {
        const ws = new WebSocket(`ws://${address}/api/greeter/chat`)
        return new Promise<WebSocket | number>((resolve) => {
          ws.once('open', () => resolve(ws))
          ws.once('unexpected-response', (_req, res) => {
            resolve(res.statusCode ?? 0)
            ws.terminate()
          })
          ws.once('error', () => resolve(-1))
        })
      }),
    )
    const opened = attempts.filter((a): a is WebSocket => a instanceof WebSocket)
    assert.ok(opened.length <= 4, `${opened.length} streams opened`)
    assert.equal(attempts.filter((a) => a === 503).length, 60 - opened.length)
    for (const ws of opened) ws.close()
    await Promise.all(opened.map((ws) => once(ws, 'close')))
    await stillServes()
  })
})
