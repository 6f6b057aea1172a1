import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { after, describe, test } from 'node:test'
import { createLogger } from '../logger/logger.js'
import { RegistryCache } from '../registry/cache.js'
import { MemoryRegistry } from '../registry/memory.js'
import { LeastInFlightSelector } from '../selector/least-in-flight.js'
import { type Context, TRANSPORT_HEADERS } from '../server/context.js'
import { createService } from '../service/service.js'
import { testServer } from '../testing/servers.js'
import { MicroTransport } from '../transport/micro-transport.js'
import { NatsTransport } from '../transport/nats-transport.js'
import { Client } from './client.js'
import type { CallOptions } from './options.js'

const quiet = createLogger({ level: 'silent' })
const nats = testServer('nats')
const cleanup: (() => Promise<void>)[] = []
after(async () => {
  for (const fn of cleanup.reverse()) await fn()
})

/** ctx.metadata without the keys a transport adds for itself (see TRANSPORT_HEADERS). */
function callMetadata(ctx: Context): Record<string, string> {
  const out: Record<string, string> = {}
  for (const key of Object.keys(ctx.metadata).sort()) {
    if (!TRANSPORT_HEADERS.has(key)) out[key] = ctx.metadata[key] as string
  }
  return out
}

class Meta {
  async Echo(_req: unknown, ctx: Context) {
    return callMetadata(ctx)
  }
  async *Watch(input: AsyncIterable<unknown>, ctx: Context) {
    for await (const _ of input) yield callMetadata(ctx)
  }
}

/** POST a JSON body over plain HTTP with `headers`; the parsed reply. */
function httpPost(address: string, path: string, headers: Record<string, string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const [host, port] = address.split(':') as [string, string]
    const req = httpRequest(
      {
        host,
        port: Number(port),
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = ''
        res.on('data', (d: Buffer) => {
          text += d.toString()
        })
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(text))))
      },
    )
    req.on('error', reject)
    req.end('{}')
  })
}

describe('a handler sees the same ctx.metadata however it is called', async () => {
  const registry = new MemoryRegistry()
  const target = createService({ name: 'meta-target', registry, logger: quiet, handleSignals: false })
  target.handle(new Meta())
  const caller = createService({ name: 'meta-caller', registry, logger: quiet, handleSignals: false })
  caller.handle({ Noop: async () => 0 }, { name: 'N' })
  cleanup.push(
    () => target.stop(),
    () => caller.stop(),
  )
  await target.start()
  await caller.start()
  const remote = new Client({
    lookup: new RegistryCache(registry),
    transport: new MicroTransport(),
    selector: new LeastInFlightSelector(),
    local: false,
    caller: 'meta-caller',
  })
  cleanup.push(() => remote.close())

  const cases: [string, CallOptions | undefined, Record<string, string>][] = [
    ['no options', undefined, { 'micro-caller': 'meta-caller' }],
    ['a timeout only', { timeout: 5000 }, { 'micro-caller': 'meta-caller' }],
    [
      'metadata',
      { metadata: { 'X-User': 'u7', trace: 'abc' } },
      { 'micro-caller': 'meta-caller', 'x-user': 'u7', trace: 'abc' },
    ],
  ]
  for (const [what, options, expected] of cases) {
    test(`unary, ${what}: in-process, TCP and HTTP agree`, async () => {
      const inProcess = await caller.client.call('meta-target', 'Meta.Echo', {}, options)
      const overTcp = await remote.call('meta-target', 'Meta.Echo', {}, options)
      const headers: Record<string, string> = { 'micro-caller': 'meta-caller' }
      for (const [k, v] of Object.entries(options?.metadata ?? {})) headers[k] = v
      const overHttp = await httpPost(target.address as string, '/Meta/Echo', headers)
      assert.deepEqual(inProcess, expected)
      assert.deepEqual(overTcp, expected)
      assert.deepEqual(overHttp, expected)
    })
  }

  test('a stream sees the same metadata in-process and over TCP', async () => {
    const options = { metadata: { 'x-user': 'u7' } }
    const read = async (client: Client) => {
      const stream = client.stream('meta-target', 'Meta.Watch', options)
      await stream.sendAll([{}])
      for await (const m of stream) return m
      return undefined
    }
    const expected = { 'micro-caller': 'meta-caller', 'x-user': 'u7' }
    assert.deepEqual(await read(caller.client), expected)
    assert.deepEqual(await read(remote), expected)
  })
})

describe('the same ctx.metadata over the NATS transport', { skip: nats.skip }, async () => {
  const registry = new MemoryRegistry()
  const address = nats.address as string
  const target = createService({
    name: 'meta-nats-target',
    registry,
    transport: new NatsTransport({ address }),
    logger: quiet,
    handleSignals: false,
  })
  target.handle(new Meta())
  const caller = createService({ name: 'meta-caller', registry, logger: quiet, handleSignals: false })
  caller.handle({ Noop: async () => 0 }, { name: 'N' })
  const remote = new Client({
    lookup: new RegistryCache(registry),
    transport: new NatsTransport({ address }),
    selector: new LeastInFlightSelector(),
    local: false,
    caller: 'meta-caller',
  })
  cleanup.push(
    () => target.stop(),
    () => caller.stop(),
    () => remote.close(),
  )
  await target.start()
  await caller.start()

  test('unary and stream calls over NATS agree with in-process ones', async () => {
    const options = { metadata: { 'x-user': 'u7' } }
    const expected = { 'micro-caller': 'meta-caller', 'x-user': 'u7' }
    assert.deepEqual(await remote.call('meta-nats-target', 'Meta.Echo', {}), {
      'micro-caller': 'meta-caller',
    })
    assert.deepEqual(await remote.call('meta-nats-target', 'Meta.Echo', {}, options), expected)
    assert.deepEqual(await caller.client.call('meta-nats-target', 'Meta.Echo', {}, options), expected)
    const stream = remote.stream('meta-nats-target', 'Meta.Watch', options)
    await stream.sendAll([{}])
    for await (const m of stream) {
      assert.deepEqual(m, expected)
      break
    }
  })
})
