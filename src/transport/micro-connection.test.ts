import assert from 'node:assert/strict'
import { createServer, type Socket } from 'node:net'
import { after, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import { MicroTransport } from './micro-transport.js'
import type { Dispatcher, InboundCall } from './transport.js'
import { isLost } from './transport-errors.js'

const cleanup: (() => Promise<void> | void)[] = []
after(async () => {
  for (const fn of cleanup) await fn()
})

const echo: Dispatcher = {
  unary: (call: InboundCall) => call.respond(call.body),
  stream: (_call, channel) => channel.end(),
}

test('calls share one pooled connection', async () => {
  const transport = new MicroTransport()
  const listener = await transport.listen('127.0.0.1:0', echo)
  cleanup.push(
    () => listener.close(),
    () => transport.close(),
  )
  for (let round = 0; round < 3; round++) {
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        transport.call(listener.address, {
          endpoint: 'E.E',
          headers: {},
          body: Buffer.from(String(i)),
          timeout: 5000,
          signal: undefined,
        }),
      ),
    )
    assert.deepEqual(
      replies.map((r) => Buffer.from(r.body).toString()),
      Array.from({ length: 100 }, (_, i) => String(i)),
    )
  }
  // The listener's socket count says how many connections the 300 calls used.
  assert.equal((listener as unknown as { connectionCount: number }).connectionCount, 1)
})

test('keep-alive: a server that stops answering is detected and its calls fail fast', async () => {
  // A peer that accepts the connection and reads, but never writes a byte back.
  const sockets: Socket[] = []
  const silent = createServer((socket) => {
    sockets.push(socket)
    socket.resume()
  })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  cleanup.push(() => {
    for (const s of sockets) s.destroy()
    silent.close()
  })
  const port = (silent.address() as { port: number }).port
  const transport = new MicroTransport({ keepAlive: 150, keepAliveTimeout: 150 })
  cleanup.push(() => transport.close())
  const started = Date.now()
  await assert.rejects(
    transport.call(`127.0.0.1:${port}`, {
      endpoint: 'E.E',
      headers: {},
      body: Buffer.from('{}'),
      timeout: 10_000,
      signal: undefined,
    }),
    (e: unknown) =>
      e instanceof MicroError && e.code === 503 && isLost(e) && /did not answer a ping/.test(e.detail),
  )
  assert.ok(Date.now() - started < 2000, 'detected long before the 10 s call timeout')
})

test('a call whose header the frame cannot carry is refused at once, and the connection carries on', async () => {
  const transport = new MicroTransport()
  const listener = await transport.listen('127.0.0.1:0', echo)
  cleanup.push(
    () => listener.close(),
    () => transport.close(),
  )
  const call = (headers: Record<string, string>, body: string) =>
    transport.call(listener.address, {
      endpoint: 'E.E',
      headers,
      body: Buffer.from(body),
      timeout: 5000,
      signal: undefined,
    })
  await call({}, 'warm')
  await assert.rejects(call({ 'x-big': 'x'.repeat(70_000) }, 'too big'), RangeError)
  // The refused call wrote nothing: the next call on the connection gets its own reply.
  const reply = await call({ 'x-small': 'ok' }, 'next')
  assert.equal(Buffer.from(reply.body).toString(), 'next')
})
