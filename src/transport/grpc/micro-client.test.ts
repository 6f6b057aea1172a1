import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { isMessage } from '@bufbuild/protobuf'
import { Client } from '../../client/client.js'
import { MicroError } from '../../errors/errors.js'
import { createLogger } from '../../logger/logger.js'
import { RegistryCache } from '../../registry/cache.js'
import type { MemoryRegistry } from '../../registry/memory.js'
import { createSelector } from '../../selector/from-name.js'
import { createService, type Service } from '../../service/service.js'
import { MicroTransport } from '../micro-transport.js'
import { type GrpcClient, grpcClient } from './client.js'
import { Greeter, HelloReplySchema, Mood } from './testdata/gen/greeter_pb.js'
import type { GreeterLog } from './testdata/greeter.js'
import { serveGreeter } from './testdata/serve.js'

const waitFor = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('micro client calling a gRPC service', () => {
  let service: Service
  let log: GreeterLog
  let registry: MemoryRegistry
  let client: Client
  let greeter: GrpcClient<typeof Greeter>

  before(async () => {
    ;({ service, log, registry } = await serveGreeter())
    // A client of another process: its own transport is micro; it reaches the gRPC node
    // with the gRPC transport because the node says so.
    client = new Client({
      lookup: new RegistryCache(registry),
      transport: new MicroTransport(),
      selector: createSelector(),
      local: false,
      caller: 'tester',
    })
    greeter = grpcClient(client, Greeter, 'greeter')
  })
  after(async () => {
    await client.close()
    await service.stop()
  })

  test('typed unary call over gRPC: messages in, messages out, caller and metadata carried', async () => {
    const reply = await greeter.sayHello(
      { name: 'Alice', count: 41n, mood: Mood.HAPPY },
      { metadata: { 'X-Req': 'r1' } },
    )
    assert.ok(isMessage(reply, HelloReplySchema))
    assert.equal(reply.message, 'Hello Alice')
    assert.equal(reply.count, 42n)
    assert.equal(reply.mood, Mood.HAPPY)
    const seen = log.metadata.at(-1) as Record<string, string>
    assert.equal(seen['micro-caller'], 'tester')
    assert.equal(seen['x-req'], 'r1')
  })

  test('typed streams of every kind', async () => {
    const lots: string[] = []
    for await (const r of greeter.lots({ name: 'n', count: 3n })) lots.push(r.message)
    assert.deepEqual(lots, ['n 0', 'n 1', 'n 2'])
    const gathered = await greeter.gather(
      (async function* () {
        yield { name: 'a' }
        yield { name: 'b' }
      })(),
    )
    assert.equal(gathered.message, 'a,b')
    assert.equal(gathered.count, 2n)
    const chat: string[] = []
    for await (const r of greeter.chat([{ name: 'x' }, { name: 'y' }])) chat.push(r.message)
    assert.deepEqual(chat, ['Hi x', 'Hi y'])
  })

  test('an untyped JSON call (what micro call and the gateway send) uses protobuf JSON', async () => {
    const reply = await client.call('greeter', 'Greeter.SayHello', {
      name: 'Json',
      count: '9',
      mood: 'MOOD_GRUMPY',
    })
    assert.deepEqual(reply, { message: 'Hello Json', count: '10', mood: 'MOOD_GRUMPY' })
    await assert.rejects(
      client.call('greeter', 'Greeter.SayHello', { name: 'x', bogus: 1 }),
      (e: unknown) => e instanceof MicroError && e.code === 400,
    )
  })

  test('errors come back exactly as raised: {id, code, detail, status}', async () => {
    for (const code of [400, 403, 404, 409, 429, 500, 503]) {
      await assert.rejects(greeter.sayHello({ name: `fail:${code}` }, { retries: 0 }), (e: unknown) => {
        assert.ok(e instanceof MicroError)
        assert.deepEqual(
          { id: e.id, code: e.code, detail: e.detail },
          { id: 'greeter', code, detail: `asked to fail with fail:${code}` },
        )
        return true
      })
    }
    await assert.rejects(
      client.call('greeter', 'Greeter.Nope', {}),
      (e: unknown) => e instanceof MicroError && e.code === 404,
    )
  })

  test('a deadline fails the call with 408 and aborts the handler', async () => {
    const before = log.waits.length
    await assert.rejects(
      greeter.wait({ name: 'slow' }, { timeout: 200 }),
      (e: unknown) => e instanceof MicroError && e.code === 408,
    )
    await waitFor(() => log.waits[before]?.signal.aborted === true)
  })

  test('an abort fails the call with 499 and aborts the handler', async () => {
    const before = log.waits.length
    const controller = new AbortController()
    const pending = greeter.wait({ name: 'cancel' }, { signal: controller.signal })
    await waitFor(() => log.waits.length > before)
    controller.abort()
    await assert.rejects(pending, (e: unknown) => e instanceof MicroError && e.code === 499)
    await waitFor(() => log.waits[before]?.signal.aborted === true)
  })

  test('breaking out of a server stream cancels it on the server', async () => {
    const replies: string[] = []
    for await (const r of greeter.lots({ name: 'many', count: 100000n })) {
      replies.push(r.message)
      if (replies.length === 3) break
    }
    assert.deepEqual(replies, ['many 0', 'many 1', 'many 2'])
    // The service answers the next call: nothing is stuck behind the abandoned stream.
    assert.equal((await greeter.sayHello({ name: 'next' })).message, 'Hello next')
  })
})

describe('in-process calls to a protobuf service', () => {
  test('typed calls get messages; JSON-style calls get the protobuf JSON mapping', async () => {
    const { service, registry } = await serveGreeter()
    const caller = createService({
      name: 'caller',
      registry,
      logger: createLogger({ level: 'silent' }),
      handleSignals: false,
    })
    try {
      const greeter = grpcClient(caller.client, Greeter, 'greeter')
      const reply = await greeter.sayHello({ name: 'Local', count: 1n })
      assert.ok(isMessage(reply, HelloReplySchema))
      assert.equal(reply.count, 2n)
      assert.deepEqual(await caller.client.call('greeter', 'Greeter.SayHello', { name: 'J', count: '1' }), {
        message: 'Hello J',
        count: '2',
      })
    } finally {
      await caller.stop()
      await service.stop()
    }
  })
})
