import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { defineService } from '../definition/define.js'
import { DefinitionError } from '../definition/problems.js'
import { MicroError } from '../errors/errors.js'
import { testService } from '../testing/harness.js'

class Orders {
  async Create() {
    return { ok: true }
  }
  async List() {
    return []
  }
}

const orders = defineService({ rpc: () => new Orders() })
const toml = (resilience: Record<string, unknown>) => ({
  name: 'orders',
  version: 'v1.0.0',
  types: ['rpc'],
  resilience,
})

describe('[resilience] in service.toml', () => {
  test('inbound policies apply to the calls the service serves', async () => {
    await using t = await testService(orders, {
      config: toml({
        policies: { rateLimits: { two: { rate: 2, per: '1h' } } },
        targets: {
          services: { orders: { inbound: { endpoints: { 'Orders.Create': { rateLimit: 'two' } } } } },
        },
      }),
    })
    await t.call('Orders.Create', {})
    await t.call('Orders.Create', {})
    await assert.rejects(
      t.call('Orders.Create', {}),
      (e: unknown) => e instanceof MicroError && e.code === 429,
    )
    assert.deepEqual(await t.call('Orders.List', {}), [], 'other endpoints are not limited')
  })

  test('a table with mistakes stops the service before it starts, with every problem', async () => {
    await assert.rejects(
      testService(orders, {
        config: toml({
          policies: { bulkheads: { b: { maxConcurrent: 0 } } },
          targets: { services: { orders: { retry: 'missing' } } },
        }),
      }),
      (e: unknown) => {
        assert.ok(e instanceof DefinitionError)
        const text = e.problems.map((p) => `${p.key}: ${p.message}`).join('\n')
        assert.match(text, /maxConcurrent must be a whole number/)
        assert.match(text, /resilience\.targets\.services\.orders\.retry: no retries policy named "missing"/)
        return true
      },
    )
  })
})
