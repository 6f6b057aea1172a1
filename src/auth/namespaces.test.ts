import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startPlatform, type TestPlatform } from '../../test/support/auth-platform.js'
import type { MicroError } from '../errors/errors.js'
import type { Context } from '../server/context.js'
import { authorizeCall, callerOf, type LoginResult } from './index.js'

/**
 * Namespaces isolate. The platform's building-block handlers (stand-ins here, with the
 * contract the real ones follow: `authorizeCall(ctx, req.namespace, { admin })`) and its
 * Proxy are called with tokens of one namespace on another: read, publish, register and
 * call are refused (403); the same calls in the token's own namespace pass.
 */

const code = (expected: number) => (error: MicroError) => {
  assert.equal(error.code, expected, error.detail)
  return true
}

const seen: { endpoint: string; namespace: string; caller: string | undefined }[] = []
const record = (endpoint: string, req: { namespace?: string }, ctx: Context) => {
  seen.push({ endpoint, namespace: req.namespace ?? 'micro', caller: callerOf(ctx)?.id })
  return {}
}

/** Stand-ins with the real handlers' auth calls. */
class Store {
  Read(req: { namespace?: string }, ctx: Context) {
    authorizeCall(ctx, req.namespace ?? 'micro', { admin: true })
    return record('Store.Read', req, ctx)
  }
}
class Broker {
  Publish(req: { namespace?: string }, ctx: Context) {
    authorizeCall(ctx, req.namespace ?? 'micro')
    return record('Broker.Publish', req, ctx)
  }
}
class Registry {
  Register(req: { namespace?: string }, ctx: Context) {
    authorizeCall(ctx, req.namespace ?? 'micro', { admin: true })
    return record('Registry.Register', req, ctx)
  }
}
class ProxyStandIn {
  Call(req: { namespace?: string; service: string; endpoint: string }, ctx: Context) {
    return record(`Proxy.Call ${req.service} ${req.endpoint}`, req, ctx)
  }
  async *Stream(input: AsyncIterable<{ namespace?: string; service?: string }>, ctx: Context) {
    for await (const message of input) yield { got: message, caller: callerOf(ctx)?.id ?? null }
  }
}

let platform: TestPlatform
let admin: LoginResult
let alpha: LoginResult
let beta: LoginResult

before(async () => {
  platform = await startPlatform()
  for (const handler of [new Store(), new Broker(), new Registry()]) platform.service.handle(handler)
  platform.service.handle(new ProxyStandIn(), { name: 'Proxy' })
  admin = await platform.bootstrapAdmin()
  const make = async (namespace: string, id: string, scopes: string[]) => {
    await platform.call(
      'Accounts.Create',
      { namespace, id, scopes, secret: `${id}-secret-1` },
      admin.token.accessToken,
    )
    return platform.call<LoginResult>('Auth.Login', { namespace, id, secret: `${id}-secret-1` })
  }
  // alpha's admin, and a plain account of beta; beta's users may publish and call greeter.
  alpha = await make('alpha', 'root', ['admin'])
  beta = await make('beta', 'user', [])
  for (const ns of ['alpha', 'beta']) {
    await platform.call(
      'Rules.Create',
      { namespace: ns, rule: { id: 'publish', scope: '*', resource: 'service:platform:Broker.Publish' } },
      admin.token.accessToken,
    )
    await platform.call(
      'Rules.Create',
      { namespace: ns, rule: { id: 'greeter', scope: '*', resource: 'service:greeter:*' } },
      admin.token.accessToken,
    )
  }
})

after(async () => {
  await platform.close()
})

describe('namespaces isolate', () => {
  test('a token of one namespace cannot read, publish, register or call in another', async () => {
    const token = alpha.token.accessToken
    await assert.rejects(platform.call('Store.Read', { namespace: 'beta' }, token), code(403))
    await assert.rejects(platform.call('Broker.Publish', { namespace: 'beta' }, token), code(403))
    await assert.rejects(platform.call('Registry.Register', { namespace: 'beta' }, token), code(403))
    await assert.rejects(
      platform.call(
        'Proxy.Call',
        { namespace: 'beta', service: 'greeter', endpoint: 'Greeter.Hello' },
        token,
      ),
      code(403),
    )
    // Leaving the namespace out means micro's: refused too.
    await assert.rejects(platform.call('Store.Read', {}, token), code(403))
    assert.deepEqual(seen, [], 'no handler ran')
  })

  test('in its own namespace the same token may', async () => {
    const token = alpha.token.accessToken
    await platform.call('Store.Read', { namespace: 'alpha' }, token)
    await platform.call('Broker.Publish', { namespace: 'alpha' }, token)
    await platform.call('Registry.Register', { namespace: 'alpha' }, token)
    await platform.call(
      'Proxy.Call',
      { namespace: 'alpha', service: 'greeter', endpoint: 'Greeter.Hello' },
      token,
    )
    assert.deepEqual(
      seen.splice(0).map((s) => `${s.endpoint}@${s.namespace}:${s.caller}`),
      [
        'Store.Read@alpha:root',
        'Broker.Publish@alpha:root',
        'Registry.Register@alpha:root',
        'Proxy.Call greeter Greeter.Hello@alpha:root',
      ],
    )
  })

  test('admin operations need an admin: a plain account publishes but does not read the store or register', async () => {
    const token = beta.token.accessToken
    await platform.call('Broker.Publish', { namespace: 'beta' }, token)
    await assert.rejects(platform.call('Store.Read', { namespace: 'beta' }, token), code(403))
    await assert.rejects(platform.call('Registry.Register', { namespace: 'beta' }, token), code(403))
    seen.splice(0)
  })

  test("the proxy checks the forwarded call's rules: a service without a rule is refused", async () => {
    await assert.rejects(
      platform.call(
        'Proxy.Call',
        { namespace: 'beta', service: 'billing', endpoint: 'Billing.Pay' },
        beta.token.accessToken,
      ),
      code(403),
    )
    await assert.rejects(
      platform.call('Proxy.Call', { namespace: 'beta', service: 'greeter', endpoint: 'Greeter.Hello' }),
      code(401),
    )
    await assert.rejects(
      platform.call('Proxy.Call', { namespace: 'beta' }, beta.token.accessToken),
      code(400),
    )
  })

  test('the proxy stream is checked on its first message, which the handler still gets', async () => {
    const open = (token: string | undefined) =>
      platform.client.stream('platform', 'Proxy.Stream', {
        address: platform.address,
        metadata: token ? { authorization: `Bearer ${token}` } : {},
      })
    const ok = open(beta.token.accessToken)
    await ok.send({ namespace: 'beta', service: 'greeter', endpoint: 'Greeter.Chat' })
    await ok.send({ name: 'second' })
    await ok.closeSend()
    const replies: unknown[] = []
    for await (const reply of ok) replies.push(reply)
    assert.deepEqual(replies, [
      { got: { namespace: 'beta', service: 'greeter', endpoint: 'Greeter.Chat' }, caller: 'user' },
      { got: { name: 'second' }, caller: 'user' },
    ])
    const refused = open(beta.token.accessToken)
    await refused.send({ namespace: 'alpha', service: 'greeter', endpoint: 'Greeter.Chat' })
    await refused.closeSend()
    await assert.rejects(
      (async () => {
        for await (const _ of refused) assert.fail('nothing comes back')
      })(),
      code(403),
    )
  })

  test("micro's admin crosses namespaces", async () => {
    await platform.call('Store.Read', { namespace: 'beta' }, admin.token.accessToken)
    await platform.call('Registry.Register', { namespace: 'alpha' }, admin.token.accessToken)
    assert.equal(seen.splice(0).length, 2)
  })
})
