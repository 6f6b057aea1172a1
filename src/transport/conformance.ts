import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import { newHeaders } from './frame.js'
import type { Dispatcher, InboundCall, Listener, Reply, StreamChannel, Transport } from './transport.js'
import { isLost, isUnsent } from './transport-errors.js'

export interface TransportConformanceOptions {
  /** Address to listen on; default `127.0.0.1:0`. */
  listenAddress?: string
  /** An address where nothing listens, for dial failures. */
  deadAddress: string
  maxFrameSize?: number
}

type UnaryFn = (call: InboundCall) => Promise<Reply>
type StreamFn = (call: InboundCall, channel: StreamChannel) => void

/** A dispatcher whose behaviour each test sets. */
class TestDispatcher implements Dispatcher {
  onUnary: UnaryFn = async (call) => ({ body: call.body })
  onStream: StreamFn = (_call, channel) => channel.end()
  readonly calls: InboundCall[] = []
  /** The streaming endpoints of these tests, for transports whose wire does not say (gRPC). */
  streaming(endpoint: string): boolean {
    return endpoint !== 'Test.Echo' && endpoint !== 'X.Y'
  }
  unary(call: InboundCall): void {
    this.calls.push(call)
    this.onUnary(call).then(
      (reply) => call.respond(reply.body, reply.headers),
      (error: unknown) => call.fail(MicroError.from(error, 'test')),
    )
  }
  stream(call: InboundCall, channel: StreamChannel): void {
    this.calls.push(call)
    this.onStream(call, channel)
  }
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value))
const headers = (entries: Record<string, string> = {}) => Object.assign(newHeaders(), entries)
const waitFor = async (check: () => boolean, ms = 2000) => {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** The behaviour every Transport must have, from both ends. */
export function transportConformance(
  name: string,
  create: () => Transport,
  options: TransportConformanceOptions,
): void {
  describe(`transport conformance: ${name}`, () => {
    const transports: Transport[] = []
    const listeners: Listener[] = []
    const setup = async () => {
      const transport = create()
      transports.push(transport)
      const dispatcher = new TestDispatcher()
      const listener = await transport.listen(options.listenAddress ?? '127.0.0.1:0', dispatcher, {
        maxFrameSize: options.maxFrameSize ?? 64 * 1024,
      })
      listeners.push(listener)
      const call = (body: Uint8Array, extra: Partial<Parameters<Transport['call']>[1]> = {}) =>
        transport.call(listener.address, {
          endpoint: 'Test.Echo',
          headers: headers(),
          body,
          timeout: 5000,
          signal: undefined,
          ...extra,
        })
      return { transport, dispatcher, listener, call }
    }
    after(async () => {
      for (const l of listeners) await l.close()
      for (const t of transports) await t.close()
    })

    test('unary call carries endpoint, headers, body and timeout', async () => {
      const { dispatcher, call } = await setup()
      dispatcher.onUnary = async (c) => ({ body: json({ echo: JSON.parse(Buffer.from(c.body).toString()) }) })
      const reply = await call(json({ name: 'Alice' }), {
        headers: headers({ 'x-user': 'u1', 'content-type': 'application/json' }),
      })
      assert.deepEqual(JSON.parse(Buffer.from(reply.body).toString()), { echo: { name: 'Alice' } })
      const seen = dispatcher.calls[0] as InboundCall
      assert.equal(seen.endpoint, 'Test.Echo')
      assert.equal(seen.headers['x-user'], 'u1')
      assert.equal(seen.headers['content-type'], 'application/json')
      assert.ok(seen.timeout !== undefined && seen.timeout > 4000 && seen.timeout <= 5000)
    })

    test('errors reach the caller as {id, code, detail, status}', async () => {
      const { dispatcher, call } = await setup()
      dispatcher.onUnary = async () => {
        throw new MicroError('svc', 'no such thing', 404)
      }
      await assert.rejects(call(json({})), (e: unknown) => {
        assert.ok(e instanceof MicroError)
        assert.deepEqual(e.toJSON(), { id: 'svc', code: 404, detail: 'no such thing', status: 'Not Found' })
        return true
      })
      dispatcher.onUnary = async () => {
        throw new Error('boom')
      }
      await assert.rejects(
        call(json({})),
        (e: unknown) => e instanceof MicroError && e.code === 500 && e.detail === 'boom',
      )
    })

    test('many concurrent calls share the connection and each gets its own reply', async () => {
      const { dispatcher, call } = await setup()
      dispatcher.onUnary = async (c) => {
        await new Promise((r) => setTimeout(r, Math.random() * 5))
        return { body: c.body }
      }
      const replies = await Promise.all(Array.from({ length: 500 }, (_, i) => call(json({ i }))))
      for (const [i, r] of replies.entries())
        assert.deepEqual(JSON.parse(Buffer.from(r.body).toString()), { i })
    })

    test('large bodies round-trip; oversize ones fail with 413 and the next call works', async () => {
      const { call } = await setup()
      const big = Buffer.alloc(60 * 1024, 7)
      const reply = await call(big)
      assert.equal(Buffer.compare(Buffer.from(reply.body), big), 0)
      await assert.rejects(
        call(Buffer.alloc(70 * 1024)),
        (e: unknown) => e instanceof MicroError && e.code === 413,
      )
      const after = await call(json({ ok: true }))
      assert.deepEqual(JSON.parse(Buffer.from(after.body).toString()), { ok: true })
    })

    test('a deadline fails the call with 408 and cancels it on the server', async () => {
      const { dispatcher, call } = await setup()
      let canceled: MicroError | undefined
      dispatcher.onUnary = (c) =>
        new Promise(() => {
          c.onCancel = (reason) => {
            canceled = reason
          }
        })
      const started = Date.now()
      await assert.rejects(
        call(json({}), { timeout: 150 }),
        (e: unknown) => e instanceof MicroError && e.code === 408,
      )
      const elapsed = Date.now() - started
      assert.ok(elapsed >= 140, `the deadline fired after ${elapsed} ms`)
      await waitFor(() => canceled !== undefined)
    })

    test('an abort signal cancels the call on both ends', async () => {
      const { dispatcher, call } = await setup()
      let canceled = false
      dispatcher.onUnary = (c) =>
        new Promise(() => {
          c.onCancel = () => {
            canceled = true
          }
        })
      const controller = new AbortController()
      const pending = call(json({}), { signal: controller.signal })
      await waitFor(() => dispatcher.calls.length === 1)
      controller.abort()
      await assert.rejects(pending, (e: unknown) => e instanceof MicroError && e.code === 499)
      await waitFor(() => canceled)
    })

    test('bidirectional stream with half-close', async () => {
      const { transport, dispatcher, listener } = await setup()
      dispatcher.onStream = (_call, channel) => {
        void (async () => {
          let n = 0
          for await (const m of channel.messages) {
            n++
            await channel.send(Buffer.from(`echo:${Buffer.from(m).toString()}`))
          }
          await channel.send(Buffer.from(`count:${n}`))
          channel.end()
        })()
      }
      const stream = await transport.stream(listener.address, {
        endpoint: 'Test.Chat',
        headers: headers({ 'x-s': '1' }),
        timeout: undefined,
        signal: undefined,
      })
      for (const m of ['a', 'b', 'c']) await stream.send(Buffer.from(m))
      stream.end()
      const received: string[] = []
      for await (const m of stream.messages) received.push(Buffer.from(m).toString())
      assert.deepEqual(received, ['echo:a', 'echo:b', 'echo:c', 'count:3'])
      assert.equal((dispatcher.calls[0] as InboundCall).headers['x-s'], '1')
    })

    test('a slow reader holds a fast sender back and loses nothing', async () => {
      const { transport, dispatcher, listener } = await setup()
      const total = 2000
      let sent = 0
      dispatcher.onStream = (_call, channel) => {
        void (async () => {
          for (let i = 0; i < total; i++) {
            const message = Buffer.alloc(32 * 1024)
            message.writeUInt32BE(i)
            await channel.send(message)
            sent++
          }
          channel.end()
        })()
      }
      const stream = await transport.stream(listener.address, {
        endpoint: 'Test.Flood',
        headers: headers(),
        timeout: undefined,
        signal: undefined,
      })
      await new Promise((r) => setTimeout(r, 300))
      assert.ok(sent < total / 2, `the sender ran ${sent} messages ahead of a reader that read nothing`)
      let next = 0
      for await (const m of stream.messages) assert.equal(Buffer.from(m).readUInt32BE(0), next++)
      assert.equal(next, total)
    })

    test('a server error ends the stream with that error', async () => {
      const { transport, dispatcher, listener } = await setup()
      dispatcher.onStream = (_call, channel) => {
        void channel
          .send(Buffer.from('first'))
          .then(() => channel.fail(new MicroError('svc', 'went wrong', 500)))
      }
      const stream = await transport.stream(listener.address, {
        endpoint: 'Test.Fail',
        headers: headers(),
        timeout: undefined,
        signal: undefined,
      })
      const received: string[] = []
      await assert.rejects(
        (async () => {
          for await (const m of stream.messages) received.push(Buffer.from(m).toString())
        })(),
        (e: unknown) => e instanceof MicroError && e.detail === 'went wrong',
      )
      assert.deepEqual(received, ['first'])
    })

    test('a client cancel aborts the stream on the server', async () => {
      const { transport, dispatcher, listener } = await setup()
      let serverChannel: StreamChannel | undefined
      dispatcher.onStream = (_call, channel) => {
        serverChannel = channel
      }
      const stream = await transport.stream(listener.address, {
        endpoint: 'Test.Wait',
        headers: headers(),
        timeout: undefined,
        signal: undefined,
      })
      await stream.send(Buffer.from('x'))
      await waitFor(() => serverChannel !== undefined)
      stream.fail(new MicroError('client', 'bye', 499))
      await waitFor(() => serverChannel?.signal.aborted === true)
    })

    test('a dial failure is an unsent 503, safe to retry', async () => {
      const transport = create()
      transports.push(transport)
      await assert.rejects(
        transport.call(options.deadAddress, {
          endpoint: 'X.Y',
          headers: headers(),
          body: json({}),
          timeout: 2000,
          signal: undefined,
        }),
        (e: unknown) => e instanceof MicroError && e.code === 503 && isUnsent(e),
      )
    })

    test('a connection lost mid-call is a 503 that is not marked unsent', async () => {
      const { dispatcher, listener, call } = await setup()
      dispatcher.onUnary = () => new Promise(() => {})
      const pending = call(json({}))
      await waitFor(() => dispatcher.calls.length === 1)
      await listener.close()
      await assert.rejects(
        pending,
        (e: unknown) => e instanceof MicroError && e.code === 503 && isLost(e) && !isUnsent(e),
      )
    })

    test('drain lets calls in flight finish and refuses new ones', async () => {
      const { dispatcher, listener, call } = await setup()
      let release!: () => void
      dispatcher.onUnary = (c) => new Promise((resolve) => (release = () => resolve({ body: c.body })))
      const inFlight = call(json({ n: 1 }))
      await waitFor(() => dispatcher.calls.length === 1)
      listener.drain()
      await new Promise((r) => setTimeout(r, 50))
      await assert.rejects(call(json({ n: 2 })), (e: unknown) => e instanceof MicroError && e.code === 503)
      release()
      assert.deepEqual(JSON.parse(Buffer.from((await inFlight).body).toString()), { n: 1 })
    })
  })
}
