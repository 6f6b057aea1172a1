import assert from 'node:assert/strict'
import { once } from 'node:events'
import { after, before, describe, test } from 'node:test'
import { WebSocket } from 'ws'
import { type GatewayWorld, startWorld } from '../../../test/support/gateway.js'

/** Open a WebSocket; resolves once open, or with the HTTP status it was refused with. */
function connect(url: string, headers: Record<string, string> = {}): Promise<WebSocket | number> {
  const ws = new WebSocket(url, { headers })
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      ws.terminate()
    })
    ws.once('error', reject)
  })
}

/** Every message until the socket closes, and the close code and reason. */
async function drain(ws: WebSocket): Promise<{ messages: unknown[]; code: number; reason: string }> {
  const messages: unknown[] = []
  ws.on('message', (data) => messages.push(JSON.parse(String(data))))
  const [code, reason] = (await once(ws, 'close')) as [number, Buffer]
  return { messages, code, reason: reason.toString() }
}

/** Read an SSE response into its events. */
async function readEvents(res: Response): Promise<{ event: string; data: unknown }[]> {
  const text = await res.text()
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '' && !block.startsWith(':'))
    .map((block) => {
      const lines = block.split('\n')
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message'
      const data = lines
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n')
      return { event, data: JSON.parse(data) }
    })
}

describe('gateway streams', () => {
  let world: GatewayWorld
  let ws: string
  before(async () => {
    world = await startWorld({ corsOrigins: ['http://app.example'], wsMaxPayload: 1024, maxStreams: 4 })
    ws = `ws://${world.gateway.address}`
  })
  after(() => world.close())

  test('WebSocket bidirectional stream: first message is the request, one reply per message', async () => {
    const socket = await connect(`${ws}/api/greeter/chat`)
    assert.ok(socket instanceof WebSocket)
    const replies: unknown[] = []
    socket.on('message', (data, isBinary) => {
      assert.equal(isBinary, false, 'text in, text out')
      replies.push(JSON.parse(String(data)))
    })
    for (const name of ['A', 'B', 'C']) {
      socket.send(JSON.stringify({ name }))
      while (replies.length < ['A', 'B', 'C'].indexOf(name) + 1) await once(socket, 'message')
    }
    assert.deepEqual(replies, [{ message: 'Hello A' }, { message: 'Hello B' }, { message: 'Hello C' }])
    socket.close()
    await once(socket, 'close')
  })

  test('WebSocket server stream: ends with close 1000; an error closes with 4000 + its code', async () => {
    const socket = (await connect(`${ws}/api/greeter/ticks`)) as WebSocket
    socket.send(Buffer.from(JSON.stringify({ count: 3 })), { binary: true })
    const done = await drain(socket)
    assert.deepEqual(done.messages, [{ i: 0 }, { i: 1 }, { i: 2 }])
    assert.equal(done.code, 1000)
    const failing = (await connect(`${ws}/api/greeter/ticks`)) as WebSocket
    failing.send(JSON.stringify({ count: 5, failAt: 2 }))
    const failed = await drain(failing)
    assert.deepEqual(failed.messages, [{ i: 0 }, { i: 1 }])
    assert.equal(failed.code, 4422)
    assert.equal(failed.reason, 'tick failed')
  })

  test('WebSocket refusals: foreign Origin 403, unknown 404, unary endpoint 400; allowed Origin opens', async () => {
    assert.equal(await connect(`${ws}/api/greeter/chat`, { origin: 'http://evil.example' }), 403)
    assert.equal(await connect(`${ws}/api/nobody/chat`), 404)
    assert.equal(await connect(`${ws}/api/greeter/hello`), 400)
    const ok = await connect(`${ws}/api/greeter/chat`, { origin: 'http://app.example' })
    assert.ok(ok instanceof WebSocket)
    ok.close()
    await once(ok, 'close')
  })

  test('WebSocket bad messages: not JSON closes with 4400, over the frame limit with 1009', async () => {
    const bad = (await connect(`${ws}/api/greeter/chat`)) as WebSocket
    bad.send('not json')
    assert.equal((await drain(bad)).code, 4400)
    const big = (await connect(`${ws}/api/greeter/chat`)) as WebSocket
    big.on('error', () => {})
    big.send(JSON.stringify({ name: 'x'.repeat(4096) }))
    assert.equal((await drain(big)).code, 1009)
  })

  test('streams past maxStreams are refused with 503, and served again once others close', async () => {
    const open = (await Promise.all([1, 2, 3, 4].map(() => connect(`${ws}/api/greeter/chat`)))) as WebSocket[]
    assert.ok(open.every((s) => s instanceof WebSocket))
    assert.equal(await connect(`${ws}/api/greeter/chat`), 503)
    const sse = await fetch(`http://${world.gateway.address}/api/greeter/ticks`, {
      headers: { accept: 'text/event-stream' },
    })
    assert.equal(sse.status, 503)
    await sse.text()
    for (const s of open) s.close()
    await Promise.all(open.map((s) => once(s, 'close')))
    // The gateway counts a stream closed when it sees the close; wait for that, not a fixed time.
    let again: WebSocket | number = 503
    while (again === 503) again = await connect(`${ws}/api/greeter/chat`)
    assert.ok(again instanceof WebSocket)
    again.close()
  })

  test('SSE: GET with the request in the query; events, then an end event', async () => {
    const res = await fetch(`http://${world.gateway.address}/api/greeter/ticks?count=3`, {
      headers: { accept: 'text/event-stream' },
    })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/)
    assert.deepEqual(await readEvents(res), [
      { event: 'message', data: { i: 0 } },
      { event: 'message', data: { i: 1 } },
      { event: 'message', data: { i: 2 } },
      { event: 'end', data: {} },
    ])
  })

  test('SSE: POST with a JSON body; a failure mid-stream is an error event with the error JSON', async () => {
    const res = await fetch(`http://${world.gateway.address}/api/greeter/Greeter.Ticks`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ count: 4, failAt: 1 }),
    })
    assert.equal(res.status, 200)
    assert.deepEqual(await readEvents(res), [
      { event: 'message', data: { i: 0 } },
      {
        event: 'error',
        data: { id: 'greeter', code: 422, detail: 'tick failed', status: 'Unprocessable Entity' },
      },
    ])
    const missing = await fetch(`http://${world.gateway.address}/api/greeter/nope`, {
      headers: { accept: 'text/event-stream' },
    })
    assert.equal(missing.status, 404, 'errors before the stream opens are plain HTTP errors')
    await missing.text()
  })
})

describe('gateway streams: keep-alive', () => {
  let world: GatewayWorld
  before(async () => {
    // Wide enough that a stalled event loop (a loaded machine) does not look like a client
    // that stopped answering: the gateway and this client share the process.
    world = await startWorld({ pingInterval: 1000 })
  })
  after(() => world.close())

  test('a WebSocket that answers pings stays open; one that does not is cut', async () => {
    const url = `ws://${world.gateway.address}/api/greeter/chat`
    const alive = (await connect(url)) as WebSocket
    // Three pings, or the close that ends the wait (and fails the test) instead of a hang.
    await new Promise<void>((resolve, reject) => {
      let pings = 0
      alive.on('ping', () => {
        if (++pings === 3) resolve()
      })
      alive.once('close', (code) => reject(new Error(`closed with ${code} after ${pings} pings`)))
    })
    assert.equal(alive.readyState, WebSocket.OPEN)
    alive.send(JSON.stringify({ name: 'still here' }))
    assert.deepEqual(JSON.parse(String((await once(alive, 'message'))[0])), { message: 'Hello still here' })
    alive.close()

    const silent = new WebSocket(url, { autoPong: false })
    await once(silent, 'open')
    const [code] = (await once(silent, 'close')) as [number]
    assert.equal(code, 1006, 'terminated without a close frame')
  })
})
