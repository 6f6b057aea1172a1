import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import type { MicroError } from '../errors/errors.js'
import { createLogger } from '../logger/logger.js'
import { RegistryCache } from '../registry/cache.js'
import { MemoryRegistry } from '../registry/memory.js'
import { LeastInFlightSelector } from '../selector/least-in-flight.js'
import type { Context } from '../server/context.js'
import { createService } from '../service/service.js'
import { MicroTransport } from '../transport/micro-transport.js'
import { Client } from './client.js'
import type { ServiceClient } from './proxy.js'

const quiet = createLogger({ level: 'silent' })
const cleanup: (() => Promise<void>)[] = []
after(async () => {
  for (const fn of cleanup.reverse()) await fn()
})

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 5))
  assert.ok(check(), what)
}

class Notes {
  readonly seen: string[] = []
  async Notify(req: { text: string }) {
    this.seen.push(req.text)
  }
  async Ping() {
    return 'pong'
  }
  async Greet(req?: { name?: string }) {
    return `hi ${req?.name ?? 'nobody'}`
  }
  async *Echo(input: AsyncIterable<{ n: number }>, _ctx: Context) {
    for await (const m of input) yield m.n
  }
  helper() {
    return 'not an endpoint'
  }
}

async function startNotes(name: string, registry: MemoryRegistry) {
  const notes = new Notes()
  const service = createService({ name, registry, logger: quiet, handleSignals: false })
  service.handle(notes)
  await service.start()
  cleanup.push(() => service.stop())
  return { notes, service }
}

function remoteClient(registry: MemoryRegistry): Client {
  const client = new Client({
    lookup: new RegistryCache(registry),
    transport: new MicroTransport(),
    selector: new LeastInFlightSelector(),
    local: false,
  })
  cleanup.push(() => client.close())
  return client
}

describe('typed proxies', () => {
  test('the first call starts at once, awaited or not (remote and in-process)', async () => {
    const registry = new MemoryRegistry()
    const { notes, service } = await startNotes('notes-eager', registry)
    void remoteClient(registry).service<Notes>('notes-eager').Notify({ text: 'remote' })
    await until(() => notes.seen.includes('remote'), 'the un-awaited remote call ran')
    void service.client.service<Notes>('notes-eager').Notify({ text: 'local' })
    await until(() => notes.seen.includes('local'), 'the un-awaited in-process call ran')
  })

  test('a zero-argument endpoint is called as proxy.Ping(); an optional request may be left out', async () => {
    const registry = new MemoryRegistry()
    const { service } = await startNotes('notes-ping', registry)
    const remote = remoteClient(registry).service<Notes>('notes-ping')
    assert.equal(await remote.Ping(), 'pong')
    assert.equal(await remote.Ping(), 'pong')
    assert.equal(await remote.Greet(), 'hi nobody')
    assert.equal(await remote.Greet({ name: 'Al' }), 'hi Al')
    assert.equal(await service.client.service<Notes>('notes-ping').Ping(), 'pong')
  })

  test('only endpoints (uppercase first letter) are on the proxy type', () => {
    const keys: (keyof ServiceClient<Notes>)[] = ['Notify', 'Ping', 'Greet', 'Echo']
    // @ts-expect-error helper is not an endpoint
    const helper: keyof ServiceClient<Notes> = 'helper'
    // @ts-expect-error fields are not endpoints either
    const seen: keyof ServiceClient<Notes> = 'seen'
    assert.equal(keys.length, 4)
    assert.ok(helper && seen)
  })

  test('a first call to a stream opens it when iterated; awaiting it says to iterate', async () => {
    const registry = new MemoryRegistry()
    await startNotes('notes-stream', registry)
    const client = remoteClient(registry)
    const numbers: number[] = []
    for await (const n of client.service<Notes>('notes-stream').Echo([{ n: 1 }, { n: 2 }])) numbers.push(n)
    assert.deepEqual(numbers, [1, 2])
    const fresh = client.service<Notes>('notes-stream')
    await assert.rejects(
      (fresh.Echo([{ n: 1 }]) as unknown as Promise<unknown>).then((x) => x),
      (e: MicroError) => e.code === 400 && /Notes.Echo is a streaming endpoint: iterate/.test(e.detail),
    )
  })

  test('when the registry cannot say, an async iterable argument is a stream, anything else unary', async () => {
    const registry = new MemoryRegistry()
    const { service } = await startNotes('notes-unlisted', registry)
    // A client with an empty registry, pointed at the node by address and told the handler.
    const client = remoteClient(new MemoryRegistry())
    const proxy = client.service<Notes>('notes-unlisted', {
      handler: 'Notes',
      address: service.address as string,
    })
    assert.equal(await proxy.Ping(), 'pong')
    const input = (async function* () {
      yield { n: 7 }
    })()
    const numbers: number[] = []
    for await (const n of client
      .service<Notes>('notes-unlisted', { handler: 'Notes', address: service.address as string })
      .Echo(input))
      numbers.push(n)
    assert.deepEqual(numbers, [7])
  })

  test('a method no handler serves is a 404 when awaited', async () => {
    const registry = new MemoryRegistry()
    await startNotes('notes-404', registry)
    const proxy = remoteClient(registry).service<{ Nope(): Promise<void> }>('notes-404')
    await assert.rejects(proxy.Nope(), (e: MicroError) => e.code === 404 && /\*\.Nope/.test(e.detail))
  })
})
