import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { MemoryBroker, MemoryHub } from '../../broker/memory.js'
import type { ClientStream } from '../../client/client-stream.js'
import { MicroError } from '../../errors/errors.js'
import { createLogger } from '../../logger/logger.js'
import type { PlatformService } from './platform.js'
import { startTestPlatform } from './test-platform.js'

/** The next message of a stream, or the error it failed with. */
async function next<T>(iterator: AsyncIterator<T>): Promise<T | MicroError | 'ended'> {
  try {
    const result = await iterator.next()
    return result.done ? 'ended' : result.value
  } catch (error) {
    return MicroError.from(error)
  }
}

const is400 = (value: unknown, detail: RegExp) =>
  value instanceof MicroError && value.code === 400 && detail.test(value.detail)

describe('the stream endpoints against a misbehaving caller', () => {
  const hub = new MemoryHub()
  let platform: PlatformService
  before(async () => {
    platform = await startTestPlatform({
      broker: new MemoryBroker({ hub, logger: createLogger({ level: 'silent' }) }),
    })
  })
  after(() => platform.close())

  const open = <T = Record<string, unknown>>(endpoint: string): ClientStream<unknown, T> =>
    platform.service.client.stream<unknown, T>('platform', endpoint, { address: platform.address })

  test('a stream closed before its first message, or opened with a bad one, fails with a 400', async () => {
    for (const endpoint of ['Registry.Watch', 'Broker.Subscribe', 'Events.Consume', 'Proxy.Stream']) {
      const empty = open(endpoint)
      await empty.closeSend()
      assert.ok(is400(await next(empty[Symbol.asyncIterator]()), /first message/), endpoint)
    }
    const bad: [string, unknown, RegExp][] = [
      ['Registry.Watch', { namespace: 'no spaces' }, /bad namespace/],
      ['Registry.Watch', 'just text', /JSON object/],
      ['Broker.Subscribe', { topic: 'a.*' }, /bad topic/],
      ['Broker.Subscribe', { topic: 'ok', queue: 'a b' }, /queue/],
      ['Broker.Subscribe', { topic: 'ok', retryLimit: -1 }, /retryLimit/],
      ['Events.Consume', { topic: 'ok', group: 'a.b' }, /group/],
      ['Events.Consume', { topic: 'ok', maxInFlight: 1_000_000 }, /maxInFlight/],
      ['Events.Consume', { topic: 'ok', offset: 'last tuesday' }, /offset/],
    ]
    for (const [endpoint, first, detail] of bad) {
      const stream = open(endpoint)
      await stream.send(first)
      const answer = await next(stream[Symbol.asyncIterator]())
      assert.ok(is400(answer, detail), `${endpoint} ${JSON.stringify(first)}: ${String(answer)}`)
    }
  })

  test('Broker.Subscribe: unknown settlements are answered with an error; a half-close unsubscribes', async () => {
    const namespace = `s-${randomUUID().slice(0, 8)}`
    const stream = open<Record<string, unknown>>('Broker.Subscribe')
    await stream.send({ namespace, topic: 'orders' })
    const replies = stream[Symbol.asyncIterator]()
    assert.deepEqual(await next(replies), { ready: true })
    assert.equal(hub.topics.has(`${namespace}.orders`), true)
    await stream.send({ tag: 42, settle: 'ack' })
    const unknown = (await next(replies)) as { tag: number; error: { code: number } }
    assert.deepEqual([unknown.tag, unknown.error.code], [42, 400])
    await stream.send('garbage')
    assert.equal(((await next(replies)) as { error: { code: number } }).error.code, 400)
    await stream.closeSend()
    assert.equal(await next(replies), 'ended')
    assert.equal(hub.topics.has(`${namespace}.orders`), false, 'the engine subscription is gone')
  })

  test('Events.Consume: a greedy pull is capped, unknown tags are refused, a half-close ends it', async () => {
    const namespace = `s-${randomUUID().slice(0, 8)}`
    const call = (endpoint: string, request: unknown) =>
      platform.service.client.call<Record<string, unknown>>('platform', endpoint, request, {
        address: platform.address,
      })
    for (let n = 0; n < 3; n++) await call('Events.Publish', { namespace, topic: 'audit', payload: { n } })
    const stream = open<Record<string, unknown>>('Events.Consume')
    await stream.send({ namespace, topic: 'audit', group: 'greedy', offset: 0, maxInFlight: 2 })
    const replies = stream[Symbol.asyncIterator]()
    assert.equal(((await next(replies)) as { started: boolean }).started, true)
    await stream.send({ pull: 1, max: 1_000_000_000 })
    const got: { tag: number; event: { data: string } }[] = []
    for (;;) {
      const message = (await next(replies)) as Record<string, unknown>
      if ('ended' in message) break
      got.push(message as unknown as { tag: number; event: { data: string } })
    }
    assert.equal(got.length, 2, 'no more than maxInFlight for one pull')
    await stream.send({ tag: 999, settle: 'ack' })
    assert.equal(((await next(replies)) as { error: { code: number } }).error.code, 400)
    await stream.send({ tag: got[0]?.tag, settle: 'ack' })
    assert.deepEqual(await next(replies), { tag: got[0]?.tag, settled: true })
    await stream.closeSend()
    assert.equal(await next(replies), 'ended')
    // The platform still serves, and the acked event is settled in the group.
    const again = open<Record<string, unknown>>('Events.Consume')
    await again.send({ namespace, topic: 'audit', group: 'greedy' })
    assert.equal(((await next(again[Symbol.asyncIterator]())) as { started: boolean }).started, true)
    again.cancel()
  })
})
