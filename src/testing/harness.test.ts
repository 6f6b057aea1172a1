import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import example from '../../examples/kinds/rpc/service.js'
import { clientSpec, defineService, rpcHandler, type ServiceDefinition } from '../definition/index.js'
import { DefinitionError } from '../definition/problems.js'
import { MicroError } from '../errors/errors.js'
import { MemoryRegistry } from '../registry/memory.js'
import type { Context } from '../server/context.js'
import { testService } from './harness.js'

// The example imports 'micro-ts' (the built package), so its types are dist's, not src's;
// at run time a definition is recognised by a shared symbol either way.
const inventory = example as unknown as ServiceDefinition

interface Users {
  Get(req: { id: number }): Promise<{ id: number; name: string }>
}

class Orders {
  readonly #created: { item: string; user: string }[] = []
  constructor(
    private readonly max: number,
    private readonly users: {
      Get(req: { id: number }, options?: { context?: Context }): Promise<{ name: string }>
    },
  ) {}

  async Create(req: { item: string; user: number }, ctx: Context) {
    if (this.#created.length >= this.max) throw new MicroError('orders', 'too many orders', 409)
    const user = await this.users.Get({ id: req.user }, { context: ctx })
    this.#created.push({ item: req.item, user: user.name })
    return { id: this.#created.length, item: req.item, user: user.name }
  }

  async *Watch(input: AsyncIterable<{ id: number }>) {
    for await (const { id } of input) yield this.#created[id - 1] ?? null
  }
}

const TOML = {
  name: 'orders',
  types: ['rpc', 'http:8080'],
  version: 'v1.2.0',
  product: 'shop',
  envs: ['DATABASE_URL'],
  features: { tracing: { enabled: true } },
  clients: { users: {} },
  runtime: { http: { base_path: '/orders' } },
}

const orders = defineService({
  env: { DATABASE_URL: 'string', MAX_ITEMS: { type: 'int', default: 50 } },
  clients: { users: clientSpec<Users>() },
  rpc: ({ env, clients }) => new Orders(env.MAX_ITEMS, clients.users),
  http:
    ({ clients }) =>
    async (request: Request) => {
      const body = (await request.json()) as { item: string }
      const user = await clients.users.Get({ id: 1 })
      return Response.json({ created: body.item, for: user.name }, { status: 201 })
    },
})

const fakeUsers = { Get: ({ id }: { id: number }) => ({ id, name: `user-${id}` }) }

describe('testService', () => {
  test('the issue example: env, fake clients, call and http', async () => {
    const t = await testService(orders, {
      config: TOML,
      env: { DATABASE_URL: 'x' },
      clients: { users: fakeUsers },
    })
    try {
      assert.deepEqual(await t.call('Orders.Create', { item: 'book', user: 7 }), {
        id: 1,
        item: 'book',
        user: 'user-7',
      })
      const res = await t.http('POST', '/orders', { item: 'book' })
      assert.equal(res.status, 201)
      assert.deepEqual(res.body, { created: 'book', for: 'user-1' })
      assert.equal(t.env.MAX_ITEMS, 50)
      assert.equal(t.info.version, '1.2.0')
      assert.ok(t.features.tracing)
      assert.match(t.address('http') ?? '', /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.ok(!(t.address('http') ?? '').endsWith(':8080'), 'the test ports are chosen by the system')
    } finally {
      await t.stop()
    }
  })

  test('streams reach streaming endpoints', async () => {
    const t = await testService(orders, {
      config: TOML,
      env: { DATABASE_URL: 'x' },
      clients: { users: fakeUsers },
    })
    try {
      await t.call('Orders.Create', { item: 'pen', user: 1 })
      const stream = t.stream<{ id: number }, unknown>('Orders.Watch')
      await stream.send({ id: 1 })
      await stream.send({ id: 9 })
      await stream.closeSend()
      const seen: unknown[] = []
      for await (const m of stream) seen.push(m)
      assert.deepEqual(seen, [{ item: 'pen', user: 'user-1' }, null])
    } finally {
      await t.stop()
    }
  })

  test('a fake without the method called rejects with a 501 naming it', async () => {
    const t = await testService(orders, { config: TOML, env: { DATABASE_URL: 'x' }, clients: { users: {} } })
    try {
      await assert.rejects(t.call('Orders.Create', { item: 'x', user: 1 }), (e: MicroError) => {
        assert.equal(e.code, 501)
        assert.match(e.detail, /the fake users client has no method Get/)
        return true
      })
    } finally {
      await t.stop()
    }
  })

  test('clients without a fake are real clients on the test registry', async () => {
    const registry = new MemoryRegistry()
    const namespace = `shared-${Date.now()}`
    const named = defineService({
      rpc: () =>
        rpcHandler(
          { Get: async ({ id }: { id: number }) => ({ id, name: `real-${id}` }) },
          { name: 'Users' },
        ),
    })
    const usersT = await testService(named, {
      config: { name: 'users', version: '1.0.0', types: ['rpc'] },
      registry,
      namespace,
    })
    const ordersT = await testService(orders, {
      config: TOML,
      env: { DATABASE_URL: 'x' },
      registry,
      namespace,
    })
    try {
      assert.deepEqual(await ordersT.call('Orders.Create', { item: 'cup', user: 3 }), {
        id: 1,
        item: 'cup',
        user: 'real-3',
      })
    } finally {
      await ordersT.stop()
      await usersT.stop()
      await registry.close()
    }
  })

  test('[clients.<name>] settings apply: the service name and version to call', async () => {
    const registry = new MemoryRegistry()
    const namespace = `renamed-${Date.now()}`
    const people = defineService({
      rpc: () =>
        rpcHandler(
          { Get: async ({ id }: { id: number }) => ({ id, name: `person-${id}` }) },
          { name: 'Users' },
        ),
    })
    const p = await testService(people, {
      config: { name: 'people', version: 'v2.0.0', types: ['rpc'] },
      registry,
      namespace,
    })
    const config = { ...TOML, clients: { users: { service: 'people', version: 'v2.0.0', timeout: '2s' } } }
    const o = await testService(orders, { config, env: { DATABASE_URL: 'x' }, registry, namespace })
    const wrongVersion = {
      ...TOML,
      name: 'orders-b',
      clients: { users: { service: 'people', version: '9.9.9' } },
    }
    const w = await testService(orders, {
      config: wrongVersion,
      env: { DATABASE_URL: 'x' },
      registry,
      namespace,
    })
    try {
      assert.deepEqual(await o.call('Orders.Create', { item: 'hat', user: 4 }), {
        id: 1,
        item: 'hat',
        user: 'person-4',
      })
      await assert.rejects(
        w.call('Orders.Create', { item: 'hat', user: 4 }),
        (e: MicroError) => e.code >= 400,
      )
    } finally {
      await w.stop()
      await o.stop()
      await p.stop()
      await registry.close()
    }
  })

  test('an rpc factory returning a plain object is told how to name it', async () => {
    const plain = defineService({ rpc: () => ({ Get: async () => 1 }) })
    await assert.rejects(
      testService(plain, { config: { name: 'users', version: '1.0.0', types: ['rpc'] } }),
      /kind rpc failed to start: the rpc factory returned a plain object.*rpcHandler\(obj, \{ name: 'Orders' \}\)/,
    )
  })

  test('lifecycle hooks run only when asked for', async () => {
    const seen: string[] = []
    const hooked = defineService({
      rpc: () => new Orders(1, { Get: async (req: { id: number }) => fakeUsers.Get(req) }),
      onStart: ({ service }) => void seen.push(`start ${service.name}`),
      onStop: () => void seen.push('stop'),
    })
    const config = { name: 'hooked', version: '1.0.0', types: ['rpc'] }
    const quiet = await testService(hooked, { config })
    await quiet.stop()
    assert.deepEqual(seen, [])
    const t = await testService(hooked, { config, lifecycle: true })
    assert.deepEqual(seen, ['start hooked'])
    await t.stop()
    assert.deepEqual(seen, ['start hooked', 'stop'])
  })

  test('publish waits until the service has handled the message; store and events are the test memory ones', async () => {
    const counter = defineService({
      rpc: async ({ broker, store }) => {
        await broker.subscribe('orders.created', async (m) => {
          const n = await store.read<number>('count').then(
            (r) => r.value,
            () => 0,
          )
          await new Promise((r) => setTimeout(r, 20))
          await store.write('count', n + Number(new TextDecoder().decode(m.body)))
        })
        await broker.subscribe('orders.created', async () => {}, { queue: 'audit' })
        return rpcHandlerOf(store)
      },
    })
    const t = await testService(counter, { config: { name: 'counter', version: '1.0.0', types: ['rpc'] } })
    try {
      await t.publish('orders.created', 2)
      await t.publish('orders.created', '3')
      assert.equal((await t.store.read('count')).value, 5)
      assert.equal(await t.call('Count.Get'), 5)
      await t.publish('nobody.listens', { x: 1 })
      await t.events.publish('audit', { n: 1 })
      assert.equal((await t.events.read('audit')).length, 1)
    } finally {
      await t.stop()
    }
  })

  test('environment mistakes are thrown at once as a DefinitionError', async () => {
    await assert.rejects(
      testService(orders, { config: TOML, env: { MAX_ITEMS: 'lots' } }),
      (e: DefinitionError) => {
        assert.ok(e instanceof DefinitionError)
        assert.deepEqual(
          e.problems.map((p) => p.key),
          ['env.DATABASE_URL', 'env.MAX_ITEMS'],
        )
        return true
      },
    )
  })

  test('the toml beside the definition is found by itself', async () => {
    const t = await testService(inventory, { env: { INITIAL_STOCK: '2' } })
    try {
      assert.equal(t.info.name, 'inventory')
      assert.deepEqual(await t.call('Inventory.Reserve', { item: 'pen', count: 2 }), { item: 'pen', left: 0 })
      await assert.rejects(t.call('Inventory.Reserve', { item: 'pen' }), (e: MicroError) => e.code === 409)
      assert.deepEqual(await t.call('Health.Live'), { status: 'ok' })
    } finally {
      await t.stop()
    }
  })

  test('without a toml the kinds the definition has are run; scripts run on demand', async () => {
    const job = defineService({ env: { CODE: 'int' }, script: ({ env }) => env.CODE })
    const t = await testService(job, { env: { CODE: '3' } })
    try {
      assert.equal(t.info.name, 'test-service')
      assert.equal(await t.script(), 3)
      await assert.rejects(t.call('X.Y'), /runs no rpc kind/)
      await assert.rejects(t.http('GET', '/'), /runs no http kind/)
    } finally {
      await t.stop()
    }
  })
})

function rpcHandlerOf(store: { read<T>(key: string): Promise<{ value: T }> }) {
  return new (class Count {
    async Get() {
      return (await store.read<number>('count')).value
    }
  })()
}
