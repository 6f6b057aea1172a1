import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { endpoint } from '../server/endpoint.js'
import { endpointsOf } from '../server/handlers.js'
import { assignToolNames, key, plainToolName, TOOL_NAME } from './naming.js'
import { endpointTool } from './tools.js'

describe('tool names', () => {
  test('<service>_<Handler>_<Method>, every other character an underscore', () => {
    assert.equal(plainToolName({ service: 'greeter', endpoint: 'Greeter.Hello' }), 'greeter_Greeter_Hello')
    assert.equal(
      plainToolName({ service: 'go.micro.srv.users', endpoint: 'Users.Get' }),
      'go_micro_srv_users_Users_Get',
    )
    assert.equal(plainToolName({ service: 'v1.foo', endpoint: 'Foo.Bar' }), 'v1_foo_Foo_Bar')
    assert.equal(plainToolName({ service: 'naïve svc', endpoint: 'A.B' }), 'na_ve_svc_A_B')
  })

  test('long names are cut to 64 with a stable hash of the whole identity', () => {
    const entry = { service: 'a'.repeat(80), endpoint: 'Handler.Method' }
    const name = plainToolName(entry)
    assert.equal(name.length, 64)
    assert.match(name, TOOL_NAME)
    assert.equal(plainToolName(entry), name, 'the same every time')
    assert.notEqual(plainToolName({ ...entry, endpoint: 'Handler.Other' }), name)
  })

  test('collisions: the first in code point order keeps the name, the others get a hash; order-independent', () => {
    const entries = [
      { service: 'a_b', endpoint: 'C.D' },
      { service: 'a.b', endpoint: 'C.D' },
      { service: 'a', endpoint: 'b_C.D' },
    ]
    const names = assignToolNames(entries)
    const reversed = assignToolNames([...entries].reverse())
    assert.deepEqual([...names.entries()].sort(), [...reversed.entries()].sort())
    const values = [...names.values()]
    assert.equal(new Set(values).size, 3, 'unique')
    assert.equal(names.get(key({ service: 'a', endpoint: 'b_C.D' })), 'a_b_C_D', '"a" sorts first')
    for (const value of values) assert.match(value, TOOL_NAME)
  })

  test('reserved (built-in) names are never given to an endpoint', () => {
    const names = assignToolNames([{ service: 'call', endpoint: 'Endpoint.X' }], new Set(['call_Endpoint_X']))
    assert.match(
      names.get(key({ service: 'call', endpoint: 'Endpoint.X' })) ?? '',
      /^call_Endpoint_X_[0-9a-f]{8}$/,
    )
  })
})

describe('tools from endpoints', () => {
  const call = async () => ({})

  test('description, examples, readOnly and destructive are published and become the tool', () => {
    class Orders {
      List = endpoint(
        { description: 'Lists orders.', examples: [{ limit: 5 }], readOnly: true },
        async () => [],
      )
      Drop = endpoint({ destructive: true }, async () => ({}))
      Add = endpoint({ destructive: false }, async () => ({}))
    }
    const records = Object.fromEntries(endpointsOf(new Orders()).map((d) => [d.name, d.record]))
    assert.deepEqual(records['Orders.List']?.metadata, {
      description: 'Lists orders.',
      examples: '[{"limit":5}]',
      readOnly: 'true',
    })
    assert.equal(records['Orders.Drop']?.metadata.destructive, 'true')
    assert.equal(records['Orders.Add']?.metadata.destructive, 'false')
    const list = endpointTool('orders_Orders_List', 'orders', records['Orders.List'] as never, call).tool
    assert.equal(list.description, 'Lists orders.')
    assert.deepEqual(list.inputSchema, { type: 'object', examples: [{ limit: 5 }] })
    const add = endpointTool('orders_Orders_Add', 'orders', records['Orders.Add'] as never, call).tool
    assert.equal(add.annotations?.destructiveHint, false)
    assert.equal(add.description, 'Calls Orders.Add of the orders service.')
  })

  test('bad endpoint options are refused at registration', () => {
    class Bad {
      A = endpoint({ examples: 'not a list' as never }, async () => ({}))
    }
    assert.throws(() => endpointsOf(new Bad()), /examples must be an array/)
    class Worse {
      B = endpoint({ description: 7 as never }, async () => ({}))
    }
    assert.throws(() => endpointsOf(new Worse()), /description must be text/)
  })

  test('a request schema that is not an object is wrapped as {request} and unwrapped when called', async () => {
    let got: unknown
    const entry = endpointTool(
      'n_N_N',
      'n',
      { name: 'N.N', metadata: { examples: '[3]' }, request: { type: 'number' } },
      async (_s, _e, request) => {
        got = request
        return {}
      },
    )
    assert.deepEqual(entry.tool.inputSchema, {
      type: 'object',
      properties: { request: { type: 'number' } },
      required: ['request'],
      examples: [{ request: 3 }],
    })
    await entry.run(
      { request: 7 },
      { metadata: {}, signal: new AbortController().signal, timeout: 1000, namespace: 'micro' },
    )
    assert.equal(got, 7)
  })
})
