import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { directClient, startPlatform, type TestPlatform } from '../../test/support/auth-platform.js'
import type { Client } from '../client/client.js'
import type { MicroError } from '../errors/errors.js'
import { MemoryRegistry } from '../registry/memory.js'
import type { Context } from '../server/context.js'
import { endpoint } from '../server/endpoint.js'
import { createService, type Service } from '../service/service.js'
import { httpCall } from '../testing/http-call.js'
import { callAuthOf, callerOf, type LoginResult } from './index.js'

/**
 * The server wrapper on real services: `greeter` enforces with the platform's public keys
 * (no credentials: any account of the namespace), `orders` with its own service account
 * (the platform's rules, and its identity on the calls it makes).
 */

const code = (expected: number) => (error: MicroError) => {
  assert.equal(error.code, expected, error.detail)
  return true
}

class Greeter {
  async Hello(req: { name: string }) {
    return { message: `Hello ${req.name}` }
  }
  Write = endpoint({ scopes: ['orders:write'] }, async () => ({ written: true }))
  async Who(_req: unknown, ctx: Context) {
    return {
      caller: callerOf(ctx)?.id ?? null,
      callerType: callerOf(ctx)?.type ?? null,
      onBehalfOf: callAuthOf(ctx)?.onBehalfOf?.account.id ?? null,
      microCaller: ctx.metadata['micro-caller'] ?? null,
      account: ctx.metadata['micro-account'] ?? null,
      callerToken: ctx.metadata['micro-caller-token'] === undefined ? 'absent' : 'present',
    }
  }
  async *Chat(input: AsyncIterable<{ name: string }>, ctx: Context) {
    for await (const req of input) yield { message: `Hello ${req.name}`, caller: callerOf(ctx)?.id }
  }
}

let platform: TestPlatform
let admin: LoginResult
let bob: LoginResult
let plain: LoginResult
let tenant: LoginResult
let greeter: Service
let orders: Service
let client: Client
let greeterAddress: string

async function user(namespace: string, id: string, scopes: string[]): Promise<LoginResult> {
  const secret = `${id}-secret-value`
  await platform.call('Accounts.Create', { namespace, id, scopes, secret }, admin.token.accessToken)
  return platform.call<LoginResult>('Auth.Login', { namespace, id, secret })
}

const as = (login: LoginResult, metadata: Record<string, string> = {}) => ({
  address: greeterAddress,
  metadata: { authorization: `Bearer ${login.token.accessToken}`, ...metadata },
})

before(async () => {
  platform = await startPlatform()
  admin = await platform.bootstrapAdmin()
  bob = await user('micro', 'bob', ['orders:write'])
  plain = await user('micro', 'pat', [])
  tenant = await user('tenant', 'tia', ['orders:write'])
  await platform.call(
    'Accounts.Create',
    { id: 'orders', type: 'service', scopes: ['service'], secret: 'orders-service-secret' },
    admin.token.accessToken,
  )
  await platform.call(
    'Rules.Create',
    { rule: { id: 'users-orders', scope: '*', resource: 'service:orders:*' } },
    admin.token.accessToken,
  )
  const registry = new MemoryRegistry()
  greeter = createService({
    name: 'greeter',
    registry,
    handleSignals: false,
    env: {},
    logger: platform.service.logger,
    auth: { platform: platform.address },
  })
  greeter.handle(new Greeter())
  await greeter.start()
  greeterAddress = greeter.address as string
  orders = createService({
    name: 'orders',
    registry,
    handleSignals: false,
    env: {},
    logger: platform.service.logger,
    auth: { platform: platform.address, credentials: { id: 'orders', secret: 'orders-service-secret' } },
  })
  orders.handle(
    {
      // Calls greeter over the network with the handler's context: as itself, for its caller.
      Forward: async (_req: unknown, ctx: Context) =>
        orders.client.call('greeter', 'Greeter.Who', {}, { context: ctx, address: greeterAddress }),
      // The same, in-process (greeter runs in this process too).
      ForwardLocal: async (_req: unknown, ctx: Context) =>
        orders.client.call('greeter', 'Greeter.Who', {}, { context: ctx }),
    },
    { name: 'Orders' },
  )
  await orders.start()
  client = directClient()
})

after(async () => {
  await client.close()
  await orders.stop()
  await greeter.stop()
  await platform.close()
})

describe('enforcement on a service', () => {
  test('no token: 401; a valid token: 200; a bad token: 401', async () => {
    await assert.rejects(
      client.call('greeter', 'Greeter.Hello', { name: 'x' }, { address: greeterAddress }),
      code(401),
    )
    assert.deepEqual(await client.call('greeter', 'Greeter.Hello', { name: 'Bob' }, as(bob)), {
      message: 'Hello Bob',
    })
    const [h, p, s] = bob.token.accessToken.split('.') as [string, string, string]
    const tampered = `${h}.${p}.${s.slice(0, -4)}AAAA`
    await assert.rejects(
      client.call(
        'greeter',
        'Greeter.Hello',
        { name: 'x' },
        { address: greeterAddress, metadata: { authorization: `Bearer ${tampered}` } },
      ),
      code(401),
    )
    await assert.rejects(
      client.call(
        'greeter',
        'Greeter.Hello',
        { name: 'x' },
        { address: greeterAddress, metadata: { authorization: `Basic ${bob.token.accessToken}` } },
      ),
      code(401),
    )
  })

  test("a token of another namespace is refused (403): the service's namespace is micro", async () => {
    await assert.rejects(client.call('greeter', 'Greeter.Hello', { name: 'x' }, as(tenant)), code(403))
  })

  test('an endpoint declaring scopes needs a token holding one (403 without), and publishes them', async () => {
    assert.deepEqual(await client.call('greeter', 'Greeter.Write', {}, as(bob)), { written: true })
    await assert.rejects(client.call('greeter', 'Greeter.Write', {}, as(plain)), code(403))
    const [record] = await greeter.registry.getService('greeter')
    assert.equal(record?.endpoints.find((e) => e.name === 'Greeter.Write')?.metadata.scopes, 'orders:write')
    assert.equal(record?.endpoints.find((e) => e.name === 'Greeter.Hello')?.metadata.scopes, undefined)
  })

  test('HTTP callers get the 401 status and the error JSON', async () => {
    const response = await httpCall(`http://${greeterAddress}`, 'POST', '/Greeter/Hello', { name: 'x' })
    assert.equal(response.status, 401)
    assert.equal((response.body as { code: number }).code, 401)
    const ok = await httpCall(
      `http://${greeterAddress}`,
      'POST',
      '/Greeter/Hello',
      { name: 'y' },
      {
        authorization: `Bearer ${bob.token.accessToken}`,
      },
    )
    assert.equal(ok.status, 200)
  })

  test('streams are checked when they open', async () => {
    const refused = client.stream('greeter', 'Greeter.Chat', { address: greeterAddress })
    await refused.send({ name: 'a' })
    await refused.closeSend()
    await assert.rejects(
      (async () => {
        for await (const _ of refused) assert.fail('a refused stream yields nothing')
      })(),
      code(401),
    )
    const stream = client.stream<{ name: string }, { message: string; caller: string }>(
      'greeter',
      'Greeter.Chat',
      as(bob),
    )
    await stream.send({ name: 'a' })
    await stream.closeSend()
    const replies = []
    for await (const reply of stream) replies.push(reply)
    assert.deepEqual(replies, [{ message: 'Hello a', caller: 'bob' }])
  })
})

describe('the caller a handler sees', () => {
  test('forged caller metadata is dropped: micro-caller, micro-account and an unsigned caller token', async () => {
    const forgedToken = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"admin"}').toString('base64url')}.`
    const seen = await client.call<Record<string, string | null>>(
      'greeter',
      'Greeter.Who',
      {},
      as(bob, { 'micro-caller': 'orders', 'micro-account': 'admin', 'micro-caller-token': forgedToken }),
    )
    assert.deepEqual(seen, {
      caller: 'bob',
      callerType: 'user',
      onBehalfOf: null,
      microCaller: null,
      account: null,
      callerToken: 'absent',
    })
  })

  test("a user cannot claim to call for someone else, even with that one's real token", async () => {
    const seen = await client.call<Record<string, string | null>>(
      'greeter',
      'Greeter.Who',
      {},
      as(plain, { 'micro-caller-token': bob.token.accessToken }),
    )
    assert.equal(seen.caller, 'pat')
    assert.equal(seen.onBehalfOf, null)
  })

  test('a service calls on with its own identity; the original caller travels signed and is trusted', async () => {
    for (const endpointName of ['Orders.Forward', 'Orders.ForwardLocal']) {
      const seen = await client.call<Record<string, string | null>>(
        'orders',
        endpointName,
        {},
        {
          address: orders.address as string,
          metadata: { authorization: `Bearer ${bob.token.accessToken}` },
        },
      )
      assert.deepEqual(
        seen,
        {
          caller: 'orders',
          callerType: 'service',
          onBehalfOf: 'bob',
          microCaller: 'orders',
          account: null,
          callerToken: 'present',
        },
        endpointName,
      )
    }
  })

  test("the platform's rules apply to a service with credentials: an account without a rule is refused", async () => {
    await assert.rejects(
      client.call(
        'orders',
        'Orders.Forward',
        {},
        {
          address: orders.address as string,
          metadata: { authorization: `Bearer ${tenant.token.accessToken}` },
        },
      ),
      code(403),
    )
    await assert.rejects(
      client.call('orders', 'Orders.Forward', {}, { address: orders.address as string }),
      code(401),
    )
  })
})
