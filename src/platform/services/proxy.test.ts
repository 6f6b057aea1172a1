import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { badRequest, MicroError } from '../../errors/errors.js'
import { createLogger } from '../../logger/logger.js'
import { MemoryRegistry } from '../../registry/memory.js'
import type { Context } from '../../server/context.js'
import { createService, type Service } from '../../service/service.js'
import type { PlatformService } from './platform.js'
import { startTestPlatform } from './test-platform.js'

class Greeter {
  async Hello(req: { name: string }, ctx: Context) {
    if (!req.name) throw badRequest('greeter', 'a name is needed')
    return { message: `Hello ${req.name}`, trace: ctx.metadata['x-trace'] }
  }

  async Slow(_req: unknown, ctx: Context) {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))
    return {}
  }

  async *Chat(input: AsyncIterable<{ name: string }>) {
    for await (const req of input) yield { message: `Hello ${req.name}` }
  }
}

describe('Proxy: calls to any service through the platform', () => {
  const registry = new MemoryRegistry()
  let platform: PlatformService
  let greeter: Service
  let elsewhere: Service
  before(async () => {
    platform = await startTestPlatform({ registry })
    const make = (namespace: string) =>
      createService({
        name: 'greeter',
        namespace,
        registry,
        handleSignals: false,
        logger: createLogger({ level: 'silent' }),
      }).handle(new Greeter())
    greeter = make('micro')
    elsewhere = make('tenant')
    await greeter.start()
    await elsewhere.start()
  })
  after(async () => {
    await greeter.stop()
    await elsewhere.stop()
    await platform.close()
    await registry.close()
  })

  // A client of its own that knows nothing but the platform's address.
  const call = <T>(request: unknown) =>
    platform.service.client.call<T>('platform', 'Proxy.Call', request, { address: platform.address })

  test('Proxy.Call forwards the request, metadata and namespace, and answers the reply', async () => {
    const reply = await call({
      service: 'greeter',
      endpoint: 'Greeter.Hello',
      request: { name: 'Ada' },
      metadata: { 'X-Trace': 't-1' },
    })
    assert.deepEqual(reply, { message: 'Hello Ada', trace: 't-1' })
    assert.deepEqual(
      await call({
        service: 'greeter',
        endpoint: 'Greeter.Hello',
        request: { name: 'B' },
        namespace: 'tenant',
      }),
      { message: 'Hello B' },
    )
  })

  test("the service's errors come back with their code; a missing service or a timeout is clear", async () => {
    const is = (code: number, detail?: RegExp) => (e: unknown) =>
      e instanceof MicroError && e.code === code && (!detail || detail.test(e.detail))
    await assert.rejects(
      call({ service: 'greeter', endpoint: 'Greeter.Hello', request: {} }),
      is(400, /a name is needed/),
    )
    await assert.rejects(
      call({ service: 'nobody', endpoint: 'X.Y', request: {} }),
      is(503, /nobody not found/),
    )
    await assert.rejects(
      call({ service: 'greeter', endpoint: 'Greeter.Hello', request: { name: 'x' }, namespace: 'empty' }),
      is(503, /not found in namespace empty/),
    )
    await assert.rejects(
      call({ service: 'greeter', endpoint: 'Greeter.Slow', request: {}, timeout: 100 }),
      is(408),
    )
  })

  test('Proxy.Stream carries a bidirectional stream both ways', async () => {
    const stream = platform.service.client.stream<unknown, { message: string }>('platform', 'Proxy.Stream', {
      address: platform.address,
    })
    await stream.send({ service: 'greeter', endpoint: 'Greeter.Chat' })
    await stream.send({ name: 'A' })
    await stream.send({ name: 'B' })
    await stream.closeSend()
    const replies: string[] = []
    for await (const reply of stream) replies.push(reply.message)
    assert.deepEqual(replies, ['Hello A', 'Hello B'])
  })

  test('Proxy.Stream to an unknown service fails the stream with the error', async () => {
    const stream = platform.service.client.stream('platform', 'Proxy.Stream', { address: platform.address })
    await stream.send({ service: 'nobody', endpoint: 'X.Chat' })
    await assert.rejects(
      (async () => {
        for await (const _ of stream) {
        }
      })(),
      (e: unknown) => e instanceof MicroError && e.code === 503,
    )
  })
})
