import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { acquireNats } from '../engines/nats.js'
import { MicroError } from '../errors/errors.js'
import { testServer } from '../testing/servers.js'
import { TcpProxy } from '../testing/tcp-proxy.js'
import { NatsTransport } from './nats-transport.js'
import type { Dispatcher, InboundCall, OutboundCall } from './transport.js'
import { isLost, isUnsent } from './transport-errors.js'

const nats = testServer('nats')
const prefix = `t-${randomUUID().slice(0, 8)}`
const fixture = fileURLToPath(new URL('./nats/fixture-node.ts', import.meta.url))

const request = (body: string, extra: Partial<OutboundCall> = {}): OutboundCall => ({
  endpoint: 'Test.Echo',
  headers: {},
  body: Buffer.from(body),
  timeout: 10_000,
  signal: undefined,
  ...extra,
})

const waitFor = async (check: () => boolean, ms: number, what: string) => {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** Calls until one succeeds; every failure on the way must be a fast, unsent 503. */
async function callWhenReconnected(transport: NatsTransport, address: string, ms: number): Promise<string> {
  const end = Date.now() + ms
  for (;;) {
    try {
      return Buffer.from((await transport.call(address, request('again'))).body).toString()
    } catch (error) {
      assert.ok(error instanceof MicroError && error.code === 503 && isUnsent(error), `got ${error}`)
      if (Date.now() > end) throw new Error(`no successful call within ${ms} ms: ${error}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
}

describe('nats transport faults', { skip: nats.skip }, () => {
  const natsAddress = (nats.address ?? '').replace(/^nats:\/\//, '')
  const cleanup: (() => Promise<unknown> | unknown)[] = []
  after(async () => {
    for (const fn of cleanup.reverse()) await fn()
  })

  const hanging: InboundCall[] = []
  /** Calls the test answers itself. */
  const held: InboundCall[] = []
  const dispatcher: Dispatcher = {
    unary(call) {
      if (call.endpoint === 'Test.Hang') hanging.push(call)
      else if (call.endpoint === 'Test.Held') held.push(call)
      else call.respond(call.body)
    },
    stream: (_call, channel) => channel.end(),
  }

  test('the caller’s NATS connection cut mid-call: a clear 503, and the next call works after reconnecting', async () => {
    const proxy = await TcpProxy.start(natsAddress)
    const server = new NatsTransport({ address: nats.address })
    const client = new NatsTransport({ address: `nats://${proxy.address}` })
    cleanup.push(
      () => proxy.close(),
      () => server.close(),
      () => client.close(),
    )
    const listener = await server.listen(`${prefix}.cut-client`, dispatcher)
    assert.equal(
      Buffer.from((await client.call(listener.address, request('first'))).body).toString(),
      'first',
    )
    const before = hanging.length
    const pending = client.call(listener.address, request('{}', { endpoint: 'Test.Hang', timeout: 60_000 }))
    await waitFor(() => hanging.length > before, 5000, 'the call to reach the server')
    const started = Date.now()
    proxy.cut()
    await assert.rejects(pending, (e: unknown) => {
      assert.ok(e instanceof MicroError && e.code === 503 && isLost(e) && !isUnsent(e), `got ${e}`)
      assert.match(e.detail, /NATS connection was lost/)
      return true
    })
    // Head-room for a loaded machine; the point is that it does not wait for the deadline.
    assert.ok(Date.now() - started < 20_000, 'failed on the drop, not at the 60 s deadline')
    assert.equal(await callWhenReconnected(client, listener.address, 5000), 'again')
  })

  test('the server’s NATS connection cut mid-call: it reconnects and the reply still arrives', async () => {
    const proxy = await TcpProxy.start(natsAddress)
    const serverAddress = `nats://${proxy.address}`
    const server = new NatsTransport({ address: serverAddress })
    const client = new NatsTransport({ address: nats.address })
    // The server's connection (shared with the transport above), to see when it drops.
    const serverLink = acquireNats({ address: serverAddress, usedBy: 'test' })
    // Another instance of the node, on a connection that stays up, hears the client's
    // liveness probes: with none, a probe sent while the server reconnects would be answered
    // "no responders" and end the call as lost (the dead-node check, tested elsewhere).
    const otherInstance = acquireNats({ address: nats.address, usedBy: 'test' })
    cleanup.push(
      () => proxy.close(),
      () => server.close(),
      () => client.close(),
      () => serverLink.release(),
      () => otherInstance.release(),
    )
    const subject = `${prefix}.cut-server`
    const other = (await otherInstance.ready).subscribe(`${subject}._ctl`)
    cleanup.push(() => other.unsubscribe())
    await (await otherInstance.ready).flush()
    const listener = await server.listen(subject, dispatcher)
    const before = held.length
    const pending = client.call(listener.address, request('held', { endpoint: 'Test.Held' }))
    // Cut only once the request has reached the server: one in transit would be lost.
    await waitFor(() => held.length > before, 5000, 'the call to reach the server')
    const dropped = new Promise<void>((resolve) =>
      serverLink.onStatus((status) => {
        if (status.type === 'disconnect') resolve()
      }),
    )
    proxy.cut()
    await dropped
    // The handler answers while the server reconnects; nats.js sends the reply once it is back.
    const call = held[before] as InboundCall
    call.respond(call.body)
    assert.equal(Buffer.from((await pending).body).toString(), 'held')
    assert.equal(await callWhenReconnected(client, listener.address, 5000), 'again')
  })

  test('a server node killed with SIGKILL: its stream and its calls fail with a clear 503', async () => {
    const subject = `${prefix}.killed`
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, nats.address as string, subject], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    cleanup.push(() => child.kill('SIGKILL'))
    const exited = once(child, 'exit')
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    // Starting tsx in a child takes seconds on a loaded machine.
    await waitFor(() => out.includes('serving on'), 60_000, 'the node to start')
    const client = new NatsTransport({ address: nats.address, keepAlive: 200, keepAliveTimeout: 1000 })
    cleanup.push(() => client.close())
    const stream = await client.stream(subject, {
      endpoint: 'Fault.Ticks',
      headers: {},
      timeout: 60_000,
      signal: undefined,
    })
    const ticks = stream.messages[Symbol.asyncIterator]()
    assert.equal(Buffer.from((await ticks.next()).value as Uint8Array).toString(), '0')
    const hang = client.call(subject, request('{}', { endpoint: 'Fault.Hang', timeout: 60_000 }))
    hang.catch(() => {})
    // Kill only once the node has the call: a request sent to a dead node is unsent, not lost.
    await waitFor(() => out.includes('hang received'), 10_000, 'the call to reach the node')
    const killed = Date.now()
    child.kill('SIGKILL')
    await exited
    const failure = await (async () => {
      try {
        for (;;) if ((await ticks.next()).done) return undefined
      } catch (error) {
        return error
      }
    })()
    assert.ok(
      failure instanceof MicroError && failure.code === 503 && isLost(failure),
      `stream ended with ${failure}`,
    )
    assert.match(failure.detail, /gone|did not answer/)
    await assert.rejects(hang, (e: unknown) => e instanceof MicroError && e.code === 503 && isLost(e))
    // Head-room for a loaded machine: a few keep-alive periods, far from the 60 s deadline.
    assert.ok(Date.now() - killed < 20_000, 'detected within a few keep-alive periods, not at the deadline')
    assert.ok(stream.signal.aborted)
  })
})
