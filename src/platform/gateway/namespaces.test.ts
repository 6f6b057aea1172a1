import assert from 'node:assert/strict'
import { once } from 'node:events'
import { after, before, describe, test } from 'node:test'
import { WebSocket } from 'ws'
import { type GatewayWorld, startService, startWorld } from '../../../test/support/gateway.js'
import type { Service } from '../../service/service.js'
import { httpCall } from '../../testing/http-call.js'

// One gateway, a service named `who` in three namespaces (each answering with its own
// namespace): `Micro-Namespace` picks whose is called, for /api/..., POST /rpc, SSE and
// WebSocket; the auth hook may pick the namespace of a request that names none.

/** Answers with the namespace it was started in. */
class Who {
  constructor(readonly namespace: string) {}
  async Name() {
    return { namespace: this.namespace }
  }
  async *Ticks(input: AsyncIterable<unknown>) {
    for await (const _ of input) {
      yield { namespace: this.namespace }
      return
    }
  }
}

const NS_A = 'gw-ns-a'
const NS_B = 'gw-ns-b'

describe('gateway: the Micro-Namespace header', () => {
  let world: GatewayWorld
  let services: Service[]
  before(async () => {
    world = await startWorld({ namespace: 'gw-default' })
    services = await Promise.all(
      ['gw-default', NS_A, NS_B].map((namespace) =>
        startService(world.registry, 'who', [new Who(namespace)], { namespace }),
      ),
    )
  })
  after(async () => {
    await Promise.all(services.map((s) => s.stop()))
    await world.close()
  })

  test('/api/... and POST /rpc call the named namespace, else the default one', async () => {
    for (const namespace of [NS_A, NS_B]) {
      const api = await httpCall(world.base, 'POST', '/api/who/name', {}, { 'micro-namespace': namespace })
      assert.deepEqual([api.status, api.body], [200, { namespace }])
      const rpc = await httpCall(
        world.base,
        'POST',
        '/rpc',
        { service: 'who', endpoint: 'Who.Name', request: {} },
        { 'Micro-Namespace': namespace },
      )
      assert.deepEqual([rpc.status, rpc.body], [200, { namespace }])
    }
    const plain = await httpCall(world.base, 'POST', '/api/who/name', {})
    assert.deepEqual(plain.body, { namespace: 'gw-default' })
    // The default namespace's greeter is not in NS_A.
    const elsewhere = await httpCall(
      world.base,
      'POST',
      '/api/greeter/hello',
      {},
      { 'micro-namespace': NS_A },
    )
    assert.equal(elsewhere.status, 404)
  })

  test('a bad namespace name is a 400 with the error JSON', async () => {
    for (const bad of ['a/b', '*', 'x'.repeat(65), 'a b']) {
      const r = await httpCall(world.base, 'POST', '/api/who/name', {}, { 'micro-namespace': bad })
      assert.equal(r.status, 400, bad)
      assert.equal((r.body as { code: number }).code, 400)
      assert.match((r.body as { detail: string }).detail, /Micro-Namespace/)
    }
  })

  test('SSE and WebSocket streams open in the named namespace', async () => {
    const sse = await fetch(`${world.base}/api/who/ticks`, {
      headers: { accept: 'text/event-stream', 'micro-namespace': NS_B },
    })
    assert.equal(sse.status, 200)
    assert.match(await sse.text(), new RegExp(`data: \\{"namespace":"${NS_B}"\\}`))
    const ws = new WebSocket(`ws://${world.gateway.address}/api/who/ticks`, {
      headers: { 'micro-namespace': NS_A },
    })
    await once(ws, 'open')
    const closed = once(ws, 'close')
    ws.send('{}')
    const [message] = (await once(ws, 'message')) as [Buffer]
    assert.deepEqual(JSON.parse(String(message)), { namespace: NS_A })
    assert.equal(((await closed) as [number])[0], 1000)
  })

  test('browsers may send the header cross-origin (preflight lists it)', async () => {
    const cors = await startWorld({ corsOrigins: ['http://app.example'] })
    try {
      const res = await fetch(`${cors.base}/api/who/name`, {
        method: 'OPTIONS',
        headers: { origin: 'http://app.example', 'access-control-request-method': 'POST' },
      })
      assert.equal(res.status, 204)
      assert.match(res.headers.get('access-control-allow-headers') ?? '', /micro-namespace/)
    } finally {
      await cors.close()
    }
  })
})

describe('gateway: the auth hook and the namespace', () => {
  let world: GatewayWorld
  let services: Service[]
  const seen: (string | undefined)[] = []
  before(async () => {
    world = await startWorld({
      namespace: 'gw-default2',
      // A stand-in for the platform's hook: `x-ns` plays the token's namespace.
      authorize: (req, _route, named) => {
        seen.push(named)
        const own = req.headers['x-ns'] as string | undefined
        if (named !== undefined && own !== undefined && named !== own)
          return { allow: false, code: 403, detail: `a token of ${own} may not act in ${named}` }
        return { allow: true, namespace: own }
      },
    })
    services = await Promise.all(
      [NS_A, NS_B].map((namespace) =>
        startService(world.registry, 'who', [new Who(namespace)], { namespace }),
      ),
    )
  })
  after(async () => {
    await Promise.all(services.map((s) => s.stop()))
    await world.close()
  })

  test("the hook sees the named namespace; its pick serves a request that names none; a refusal is the hook's", async () => {
    const picked = await httpCall(world.base, 'POST', '/api/who/name', {}, { 'x-ns': NS_B })
    assert.deepEqual([picked.status, picked.body], [200, { namespace: NS_B }])
    const named = await httpCall(world.base, 'POST', '/api/who/name', {}, { 'micro-namespace': NS_A })
    assert.deepEqual([named.status, named.body], [200, { namespace: NS_A }])
    const refused = await httpCall(
      world.base,
      'POST',
      '/api/who/name',
      {},
      { 'micro-namespace': NS_A, 'x-ns': NS_B },
    )
    assert.equal(refused.status, 403)
    assert.equal((refused.body as { code: number }).code, 403)
    assert.deepEqual(seen, [undefined, NS_A, NS_A])
  })
})
