import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { WebSocket } from 'ws'
import { api } from '../../../test/support/dashboard/http.js'
import { Client } from '../../client/client.js'
import { MicroError } from '../../errors/errors.js'
import { createLogger } from '../../logger/logger.js'
import { RegistryCache } from '../../registry/cache.js'
import { MemoryRegistry } from '../../registry/memory.js'
import { sharedMemoryRegistry } from '../../registry/memory-shared.js'
import { createSelector } from '../../selector/from-name.js'
import { createService, type Service } from '../../service/service.js'
import { MicroTransport } from '../../transport/micro-transport.js'
import { childEnv } from './child-env.js'
import { type MicroServer, startServer } from './server.js'

// `startServer` in this process on memory engines (so the auth records share the store the
// Store block serves): the namespace checks of the platform's blocks, the guard on the auth
// database, the dashboard held to the same rules, and a taken port named clearly.

const MEMORY = {
  MICRO_REGISTRY: 'memory',
  MICRO_STORE: 'memory',
  MICRO_EVENTS: 'memory',
  MICRO_BROKER: 'memory',
}
const silent = createLogger({ level: 'silent' })

async function start(dir: string, auth: boolean, env: Record<string, string> = {}): Promise<MicroServer> {
  return startServer({
    address: '127.0.0.1:0',
    platformAddress: '127.0.0.1:0',
    auth,
    runtimeDir: join(dir, 'runtime'),
    authDir: join(dir, 'auth'),
    logger: silent,
    env: { ...MEMORY, ...env },
  })
}

function client(): Client {
  return new Client({
    lookup: new RegistryCache(new MemoryRegistry()),
    transport: new MicroTransport(),
    selector: createSelector(),
    local: false,
    retry: { retries: 0 },
  })
}

/** A user account and its access token. */
async function user(
  server: MicroServer,
  namespace: string,
  id: string,
  scopes: string[] = [],
): Promise<string> {
  const secret = `${id}-secret-123`
  await server.authority.accounts.create({ namespace, id, type: 'user', scopes, secret })
  return (await server.authority.login(namespace, id, secret, 'test')).token.accessToken
}

/** A service `who` in `namespace` (on the registry MICRO_REGISTRY=memory shares), answering with its namespace. */
async function who(namespace: string): Promise<Service> {
  const service = createService({
    name: 'who',
    namespace,
    registry: sharedMemoryRegistry(),
    logger: silent,
    handleSignals: false,
    shutdownTimeout: 1000,
  })
  service.handle(
    {
      Name: async () => ({ namespace }),
      async *Ticks(input: AsyncIterable<unknown>) {
        for await (const _ of input) {
          yield { namespace }
          return
        }
      },
    },
    { name: 'Who' },
  )
  await service.run()
  return service
}

/** POST to the server's gateway; the status and the parsed body. */
async function gatewayPost(
  server: MicroServer,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://${server.address}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: await res.json().catch(() => undefined) }
}

/** Open a WebSocket to the server's gateway: the first message it gets, or the HTTP status it was refused with. */
function firstMessage(url: string, headers: Record<string, string>): Promise<unknown> {
  const ws = new WebSocket(url, { headers })
  return new Promise((resolve, reject) => {
    ws.once('open', () => ws.send('{}'))
    ws.once('message', (data) => {
      resolve(JSON.parse(String(data)))
      ws.close()
    })
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode)
      ws.terminate()
    })
    ws.once('error', reject)
  })
}

async function refused(call: Promise<unknown>, codes: number[]): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof MicroError, String(error))
    assert.ok(codes.includes(error.code), `${error.code} ${error.detail}`)
    return true
  })
}

describe('micro server enforcing auth (memory engines)', () => {
  let dir: string
  let server: MicroServer
  let platform: Client
  let aUser: string
  let aAdmin: string
  let bAdmin: string
  let microAdmin: string
  const call = (endpoint: string, body: unknown, token?: string) =>
    platform.call<any>('platform', endpoint, body, {
      address: server.platformAddress,
      metadata: token ? { authorization: `Bearer ${token}` } : {},
    })

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'micro-server-'))
    server = await start(dir, true)
    platform = client()
    aUser = await user(server, 'ns-a', 'ann')
    aAdmin = await user(server, 'ns-a', 'boss', ['admin'])
    bAdmin = await user(server, 'ns-b', 'bea', ['admin'])
    microAdmin = await user(server, 'micro', 'root', ['admin'])
  })
  after(async () => {
    await platform.close()
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })

  test("an admin of namespace A cannot read or write namespace B's store; B's admin can", async () => {
    await call('Store.Write', { namespace: 'ns-b', key: 'k', value: { v: 1 } }, bAdmin)
    await refused(call('Store.Read', { namespace: 'ns-b', key: 'k' }, aAdmin), [403])
    await refused(call('Store.Write', { namespace: 'ns-b', key: 'k', value: 2 }, aAdmin), [403])
    await refused(call('Store.List', { namespace: 'ns-b' }, aAdmin), [403])
    const read = await call('Store.Read', { namespace: 'ns-b', key: 'k' }, bAdmin)
    assert.deepEqual(read.records[0].value, { v: 1 })
    // The micro namespace's admins count in every namespace.
    assert.deepEqual(
      (await call('Store.Read', { namespace: 'ns-b', key: 'k' }, microAdmin)).records[0].value,
      { v: 1 },
    )
  })

  test('a plain user of a namespace reads its registry but cannot write it, nor use its store', async () => {
    await server.authority.rules.create('ns-a', {
      id: 'members',
      scope: '*',
      resource: { type: 'service', name: 'platform', endpoint: '*' },
      access: 'granted',
      priority: 1,
    })
    assert.deepEqual((await call('Registry.ListServices', { namespace: 'ns-a' }, aUser)).services, [])
    const service = { name: 'fake', version: '1', metadata: {}, endpoints: [], nodes: [] }
    await refused(call('Registry.Register', { namespace: 'ns-a', service }, aUser), [403])
    await refused(call('Store.Read', { namespace: 'ns-a', key: 'k' }, aUser), [403])
    await refused(call('Config.Set', { namespace: 'ns-a', path: 'x', value: 1 }, aUser), [403])
    await refused(call('Config.Get', { namespace: 'ns-a', path: 'x', secret: true }, aUser), [403])
    // Every namespace at once is for micro's admins.
    await refused(call('Registry.ListServices', { namespace: '*' }, aAdmin), [403])
    await call('Registry.ListServices', { namespace: '*' }, microAdmin)
    // And the namespace's admin may write what the user may not.
    await call('Config.Set', { namespace: 'ns-a', path: 'x', value: 1 }, aAdmin)
  })

  test('no token: everything but login is a 401 (streams too)', async () => {
    await refused(call('Store.Read', { key: 'k' }), [401])
    await refused(call('Runtime.Read', {}), [401])
    const stream = platform.stream('platform', 'Registry.Watch', { address: server.platformAddress })
    await stream.send({ namespace: 'ns-a' })
    await refused(
      (async () => {
        for await (const _ of stream) break
      })(),
      [401],
    )
  })

  test("the auth database of namespace micro is never served by the Store block, not even to micro's admin", async () => {
    for (const [endpoint, body] of [
      ['Store.Read', { database: 'auth', table: 'accounts', prefix: '' }],
      ['Store.List', { database: 'auth' }],
      ['Store.Tables', { database: 'auth' }],
      ['Store.Write', { database: 'auth', table: 'accounts', key: 'micro/evil', value: {} }],
      ['Store.Delete', { database: 'auth', table: 'keys', key: 'x' }],
    ] as const) {
      await refused(call(endpoint, body, microAdmin), [403])
    }
    // Its own namespace's store is fine.
    await call('Store.Write', { key: 'plain', value: 1 }, microAdmin)
  })

  test('Auth.Login through the HTTP port is answered in-process (limits per client); cross-site refused', async () => {
    const url = `http://${server.address}/api/platform/Auth.Login`
    const good = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ namespace: 'ns-a', id: 'ann', secret: 'ann-secret-123' }),
    })
    assert.equal(good.status, 200)
    const pair = ((await good.json()) as { token: { accessToken: string } }).token
    assert.ok((await server.authority.verifier.verify(pair.accessToken)).caller.account.id === 'ann')
    const wrong = await fetch(url, {
      method: 'POST',
      body: JSON.stringify({ namespace: 'ns-a', id: 'ann', secret: 'nope' }),
    })
    assert.equal(wrong.status, 401)
    const crossSite = await fetch(url, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
      body: JSON.stringify({ namespace: 'ns-a', id: 'ann', secret: 'ann-secret-123' }),
    })
    assert.equal(crossSite.status, 403)
    assert.equal((await fetch(url, { method: 'POST', body: '{nope' })).status, 400)
    assert.equal((await fetch(url)).status, 405)
  })

  test('the dashboard: a login of namespace A sees A, not B; store pages need an admin', async () => {
    const as = (token: string) => ({ authorization: `Bearer ${token}` })
    const url = `http://${server.address}`
    assert.equal((await api(url, 'GET', '/services?namespace=ns-a', undefined, as(aUser))).status, 200)
    assert.equal((await api(url, 'GET', '/services?namespace=ns-b', undefined, as(aUser))).status, 403)
    assert.equal((await api(url, 'GET', '/store/databases?namespace=ns-a', undefined, as(aUser))).status, 403)
    assert.equal(
      (await api(url, 'GET', '/store/databases?namespace=ns-a', undefined, as(aAdmin))).status,
      200,
    )
    assert.equal(
      (await api(url, 'GET', '/store/databases?namespace=ns-b', undefined, as(aAdmin))).status,
      403,
    )
    assert.equal(
      (await api(url, 'GET', '/traces', undefined, as(aAdmin))).status,
      403,
      "traces are every namespace's",
    )
    assert.equal((await api(url, 'GET', '/traces', undefined, as(microAdmin))).status, 200)
    const records = await api(
      url,
      'GET',
      '/store/records?database=auth&table=accounts',
      undefined,
      as(microAdmin),
    )
    assert.equal(records.status, 403, 'the auth database stays out of the store pages')
    // The explorer's calls are held to the rules: no rule in ns-b lets ann call anything.
    const explored = await api(
      url,
      'POST',
      '/call',
      { service: 'platform', endpoint: 'Registry.ListServices', request: {}, namespace: 'ns-b' },
      as(aAdmin),
    )
    assert.equal(explored.status, 403)
  })

  test("the gateway: Micro-Namespace, else the token's namespace; a token of A is refused in B, micro's admin is not", async () => {
    const services = [await who('ns-a'), await who('ns-b')]
    try {
      for (const namespace of ['ns-a', 'ns-b']) {
        await server.authority.rules.create(namespace, {
          id: 'who-members',
          scope: '*',
          resource: { type: 'service', name: 'who', endpoint: '*' },
          access: 'granted',
          priority: 1,
        })
      }
      const as = (token: string, namespace?: string) => ({
        authorization: `Bearer ${token}`,
        ...(namespace ? { 'micro-namespace': namespace } : {}),
      })
      // No header: the token's namespace.
      assert.deepEqual(await gatewayPost(server, '/api/who/name', {}, as(aUser)), {
        status: 200,
        body: { namespace: 'ns-a' },
      })
      assert.deepEqual(await gatewayPost(server, '/api/who/name', {}, as(aUser, 'ns-a')), {
        status: 200,
        body: { namespace: 'ns-a' },
      })
      // Another namespace: 403 with the error JSON, for its users and its admins alike.
      for (const token of [aUser, aAdmin]) {
        const other = await gatewayPost(server, '/api/who/name', {}, as(token, 'ns-b'))
        assert.equal(other.status, 403, JSON.stringify(other.body))
        assert.equal(other.body.code, 403)
        assert.match(other.body.detail, /may not act in namespace ns-b/)
      }
      const rpc = { service: 'who', endpoint: 'Who.Name', request: {} }
      assert.equal((await gatewayPost(server, '/rpc', rpc, as(aUser, 'ns-b'))).status, 403)
      // micro's admin reaches every namespace.
      assert.deepEqual(await gatewayPost(server, '/api/who/name', {}, as(microAdmin, 'ns-b')), {
        status: 200,
        body: { namespace: 'ns-b' },
      })
      assert.deepEqual(await gatewayPost(server, '/rpc', rpc, as(microAdmin, 'ns-a')), {
        status: 200,
        body: { namespace: 'ns-a' },
      })
      // No token: the gateway's namespace, whose rules refuse.
      assert.equal(
        (await gatewayPost(server, '/api/who/name', {}, { 'micro-namespace': 'ns-a' })).status,
        401,
      )
      const bad = await gatewayPost(server, '/api/who/name', {}, as(microAdmin, '../micro'))
      assert.deepEqual([bad.status, bad.body.code], [400, 400])

      // Streams: SSE and WebSocket are held to the same namespace.
      const sse = (token: string, namespace: string) =>
        fetch(`http://${server.address}/api/who/ticks`, {
          headers: { accept: 'text/event-stream', ...as(token, namespace) },
        })
      const refusedSse = await sse(aUser, 'ns-b')
      assert.equal(refusedSse.status, 403)
      await refusedSse.text()
      const allowedSse = await sse(microAdmin, 'ns-b')
      assert.equal(allowedSse.status, 200)
      assert.match(await allowedSse.text(), /data: \{"namespace":"ns-b"\}/)
      const ws = `ws://${server.address}/api/who/ticks`
      assert.equal(await firstMessage(ws, as(aUser, 'ns-b')), 403)
      assert.deepEqual(await firstMessage(ws, as(aUser)), { namespace: 'ns-a' })
      assert.deepEqual(await firstMessage(ws, as(microAdmin, 'ns-b')), { namespace: 'ns-b' })
    } finally {
      await Promise.all(services.map((s) => s.stop()))
    }
  })

  test('/metrics needs a token of an admin of micro or of a micro account holding the metrics scope', async () => {
    const scrape = (token?: string) =>
      fetch(`http://${server.address}/metrics`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      })
    const anonymous = await scrape()
    assert.equal(anonymous.status, 401)
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="micro"')
    assert.equal(((await anonymous.json()) as { code: number }).code, 401)
    const scraper = await user(server, 'micro', 'prometheus', ['metrics'])
    const plain = await user(server, 'micro', 'plain')
    const foreignScraper = await user(server, 'ns-a', 'prom-a', ['metrics'])
    for (const token of [aUser, aAdmin, plain, foreignScraper]) {
      const res = await scrape(token)
      assert.equal(res.status, 403)
      assert.equal(((await res.json()) as { code: number }).code, 403)
    }
    assert.equal((await scrape('not.a.token')).status, 401)
    for (const token of [microAdmin, scraper]) {
      const res = await scrape(token)
      assert.equal(res.status, 200)
      assert.match(await res.text(), /# HELP micro_gateway_requests_total/)
    }
  })
})

describe('micro server open on loopback (memory engines)', () => {
  let dir: string
  let server: MicroServer
  let platform: Client

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'micro-server-'))
    server = await start(dir, false)
    platform = client()
  })
  after(async () => {
    await platform.close()
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })

  test('anonymous local callers may do anything; a caller that sends a token is held to it', async () => {
    const at = { address: server.platformAddress }
    await platform.call('platform', 'Store.Write', { namespace: 'ns-b', key: 'k', value: 1 }, at)
    const token = await user(server, 'ns-a', 'ann', ['admin'])
    await refused(
      platform.call(
        'platform',
        'Store.Read',
        { namespace: 'ns-b', key: 'k' },
        { ...at, metadata: { authorization: `Bearer ${token}` } },
      ),
      [403],
    )
    assert.equal(server.bootstrap, undefined, 'an open server prints no login line')
  })

  test('the gateway: Micro-Namespace picks the namespace; /metrics answers without a token', async () => {
    const services = [await who('open-a'), await who('open-b')]
    try {
      for (const namespace of ['open-a', 'open-b']) {
        assert.deepEqual(await gatewayPost(server, '/api/who/name', {}, { 'micro-namespace': namespace }), {
          status: 200,
          body: { namespace },
        })
      }
      assert.equal((await gatewayPost(server, '/api/who/name', {})).status, 404, 'none in micro')
    } finally {
      await Promise.all(services.map((s) => s.stop()))
    }
    const metrics = await fetch(`http://${server.address}/metrics`)
    assert.equal(metrics.status, 200)
    assert.match(await metrics.text(), /micro_gateway_requests_total\{service="who"/)
  })

  test('OTLP posted to /v1/traces shows on the dashboard; the platform does not trace itself', async () => {
    const traceId = 'ab'.repeat(16)
    const now = BigInt(Date.now()) * 1_000_000n
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'orders' } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId,
                  spanId: 'cd'.repeat(8),
                  name: 'Orders.Place',
                  kind: 2,
                  startTimeUnixNano: String(now),
                  endTimeUnixNano: String(now + 5_000_000n),
                  status: { code: 2, message: 'broken' },
                },
              ],
            },
          ],
        },
      ],
    }
    const res = await fetch(`http://${server.address}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    assert.equal(res.status, 200)
    const list = (await api(`http://${server.address}`, 'GET', '/traces?endpoint=orders.place')).body as any
    assert.equal(list.traces[0]?.traceId, traceId)
    const spans = (await api(`http://${server.address}`, 'GET', `/traces/${traceId}`)).body as any
    assert.equal(spans.spans[0].status, 'error')
    const errors = (await api(`http://${server.address}`, 'GET', '/errors')).body as any
    assert.ok(errors.errors.some((e: any) => e.traceId === traceId))
    // Platform calls made above were not traced into the store by the platform itself.
    const all = (await api(`http://${server.address}`, 'GET', '/traces?service=platform')).body as any
    assert.deepEqual(all.traces, [])
  })

  test('a taken address is a clear error that names it; nothing is left listening', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const address = `127.0.0.1:${(taken.address() as { port: number }).port}`
    try {
      for (const which of ['address', 'platformAddress'] as const) {
        await assert.rejects(
          startServer({
            address: '127.0.0.1:0',
            platformAddress: '127.0.0.1:0',
            [which]: address,
            runtimeDir: join(dir, 'runtime2'),
            authDir: join(dir, 'auth2'),
            logger: silent,
            env: MEMORY,
          }),
          (error: Error) => {
            assert.match(error.message, new RegExp(`${address} is in use: another micro server or micro run`))
            return true
          },
        )
      }
    } finally {
      taken.close()
    }
  })
})

test("the runtime's children get the platform, never the server's own settings or secrets", () => {
  const env = childEnv(
    {
      PATH: '/bin',
      MICRO_SERVER_HTTP_ADDRESS: '0.0.0.0:8080',
      MICRO_SERVER_PLATFORM_ADDRESS: '0.0.0.0:8081',
      MICRO_SERVER_ADDRESS: '127.0.0.1:9000',
      MICRO_AUTH: 'on',
      MICRO_AUTH_PRIVATE_KEY: 'pem',
      MICRO_AUTH_ENCRYPTION_KEY: 'seal',
      MICRO_CONFIG_SECRET_KEY: 'k',
      MICRO_STORE_ADDRESS: '/var/lib/micro/store',
      MICRO_EVENTS: 'file',
      MICRO_REGISTRY: 'nats',
      MICRO_REGISTRY_ADDRESS: 'nats://10.0.0.1:4222',
    },
    { platform: '127.0.0.1:8081' },
  )
  assert.deepEqual(env, {
    PATH: '/bin',
    MICRO_REGISTRY: 'nats',
    MICRO_REGISTRY_ADDRESS: 'nats://10.0.0.1:4222',
    MICRO_PLATFORM: '127.0.0.1:8081',
  })
})

test("devPlatformHttp: micro run's HTTP side (gateway, dashboard, OTLP, OpenAPI) over a registry", async () => {
  const { MemoryRegistry } = await import('../../registry/memory.js')
  const { createService } = await import('../../service/service.js')
  const { listenHttp } = await import('../http/listen.js')
  const { MemoryTraceStore } = await import('../traces/memory-store.js')
  const { devPlatformHttp } = await import('./mount.js')
  const registry = new MemoryRegistry()
  const greeter = createService({ name: 'greeter', registry, logger: silent, handleSignals: false })
  greeter.handle(
    { Hello: async (req: { name: string }) => ({ message: `Hello ${req.name}` }) },
    { name: 'Greeter' },
  )
  await greeter.run()
  const lookup = client()
  const calls = new Client({
    lookup: new RegistryCache(registry),
    transport: new MicroTransport(),
    selector: createSelector(),
    local: false,
  })
  const traces = new MemoryTraceStore()
  const http = devPlatformHttp({ registry, client: calls, namespace: 'micro', traces, logger: silent })
  const listener = await listenHttp('127.0.0.1:0', http)
  const url = `http://${listener.address}`
  try {
    const hello = await fetch(`${url}/api/greeter/hello`, { method: 'POST', body: '{"name":"Dev"}' })
    assert.deepEqual(await hello.json(), { message: 'Hello Dev' })
    assert.equal((await fetch(`${url}/`)).status, 200)
    const info = (await api(url, 'GET', '/info')).body as any
    assert.equal(info.features.traces, true)
    assert.equal(info.features.runtime, false)
    assert.ok(
      ((await (await fetch(`${url}/openapi.json`)).json()) as any).paths['/api/greeter/Greeter.Hello'],
    )
    const otlp = await fetch(`${url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"resourceSpans":[]}',
    })
    assert.equal(otlp.status, 200)
  } finally {
    await listener.close()
    await http.close()
    await calls.close()
    await lookup.close()
    await greeter.stop()
  }
})
