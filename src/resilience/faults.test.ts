import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import { isLost } from '../transport/transport-errors.js'
import { isRefusedHere, retryAfterMs } from './codes.js'
import { Resilience } from './resilience.js'
import { CountingTransport, clusterClient, load, startCluster, until } from './testing.js'

// Each policy under load (bounded counts, several calls in flight) with faults injected
// through src/testing's TCP proxy: a node that went away (its proxy closed), a connection
// cut mid-call, a slow network. Outcomes are counted (arrivals at the nodes, attempts per
// address, errors by kind), never timed.

const code = (e: unknown) => (e instanceof MicroError ? e.code : -1)

describe('retries under load', () => {
  test('a node that went away: every call succeeds on the others, idempotent or not', async () => {
    const { nodes, registry, stop } = await startCluster(3)
    const client = clusterClient(registry, {
      policies: { retries: { r: { maxRetries: 3, duration: '5ms' } } },
      targets: { services: { target: { retry: 'r' } } },
    })
    try {
      await nodes[1]?.proxy.close() // connection refused: never sent
      for (const endpoint of ['Node.Get', 'Node.Put']) {
        const { ok, errors } = await load(90, 15, () => client.call<{ node: string }>('target', endpoint, {}))
        assert.equal(errors.length, 0, `${endpoint}: ${errors[0]}`)
        assert.equal(ok.length, 90)
        assert.ok(ok.every((r) => r.node !== 'n1'))
      }
      assert.equal(nodes[1]?.arrivals.Get, undefined)
    } finally {
      await client.close()
      await stop()
    }
  })

  test('a connection cut mid-call: idempotent calls are retried elsewhere, others fail saying they may have run', async () => {
    const { nodes, registry, stop } = await startCluster(2)
    const client = clusterClient(registry, {
      policies: { retries: { r: { maxRetries: 2, duration: '5ms' } } },
      targets: { services: { target: { retry: 'r' } } },
    })
    const n0 = nodes[0]!
    try {
      // n0 holds Block (not idempotent) and Wait (idempotent) calls until its connection is cut.
      nodes[1]!.stuck = false
      const blocked = Array.from({ length: 6 }, () => client.call('target', 'Node.Block', {}).catch((e) => e))
      const waits = Array.from({ length: 6 }, () =>
        client.call<{ node: string }>('target', 'Node.Wait', {}).catch((e) => e),
      )
      await until(() => (n0.arrivals.Block ?? 0) === 3 && (n0.arrivals.Wait ?? 0) === 3)
      await until(() => (nodes[1]!.arrivals.Block ?? 0) === 3)
      n0.proxy.refuse()
      n0.proxy.cut()
      nodes[1]!.release()
      const blockOutcomes = await Promise.all(blocked)
      const lost = blockOutcomes.filter((e) => e instanceof MicroError && isLost(e))
      assert.equal(lost.length, 3, 'the calls on the cut connection fail, not retried')
      assert.ok(lost.every((e) => /may have run/.test((e as MicroError).detail)))
      assert.equal(blockOutcomes.filter((r) => !(r instanceof Error)).length, 3)
      assert.equal(nodes[1]!.arrivals.Block, 3, 'no Block call was sent twice')
      const waitOutcomes = await Promise.all(waits)
      assert.ok(
        waitOutcomes.every((r) => (r as { node?: string }).node === 'n1'),
        String(waitOutcomes),
      )
      assert.equal(
        nodes[1]!.arrivals.Wait,
        6,
        'the three cut idempotent calls were retried on the other node',
      )
    } finally {
      await client.close()
      await stop()
    }
  })

  test('only matching codes are retried: a 500 is not, unless the policy names it for an idempotent endpoint', async () => {
    const { nodes, registry, stop } = await startCluster(2)
    nodes[0]!.failWith = 500
    const strict = clusterClient(registry, {
      policies: { retries: { r: { maxRetries: 2, duration: '1ms' } } },
      targets: { services: { target: { retry: 'r' } } },
    })
    try {
      const { errors } = await load(20, 4, () => strict.call('target', 'Node.Flaky', {}))
      assert.ok(errors.length > 0 && errors.every((e) => code(e) === 500), 'every call that met n0 failed')
      assert.equal(
        (nodes[0]!.arrivals.Flaky ?? 0) + (nodes[1]!.arrivals.Flaky ?? 0),
        20,
        'no call was sent twice',
      )
    } finally {
      await strict.close()
      await stop()
    }
  })
})

describe('circuit breakers under load', () => {
  test('per endpoint: after the trip, calls fail fast with 503 without reaching the node', async () => {
    const { nodes, registry, stop } = await startCluster(1)
    nodes[0]!.failWith = 503
    const client = clusterClient(registry, {
      policies: {
        circuitBreakers: { cb: { consecutiveFailures: 3, timeout: '1h' } },
        retries: { none: { maxRetries: 0 } },
      },
      targets: { services: { target: { circuitBreaker: 'cb', retry: 'none' } } },
    })
    try {
      const { errors } = await load(100, 8, () => client.call('target', 'Node.Flaky', {}))
      assert.equal(errors.length, 100)
      const arrived = nodes[0]!.arrivals.Flaky ?? 0
      const fast = errors.filter((e) => isRefusedHere(e) && code(e) === 503)
      // At most the calls in flight when it tripped reached the node.
      assert.ok(arrived >= 3 && arrived <= 3 + 8, `${arrived} calls reached the node`)
      assert.equal(fast.length, 100 - arrived)
      // Other endpoints have their own breaker.
      assert.deepEqual(await client.call('target', 'Node.Get', {}), { node: 'n0' })
    } finally {
      await client.close()
      await stop()
    }
  })

  test('per endpoint: half-open lets one probe through; its success closes the breaker', async () => {
    const { nodes, registry, stop } = await startCluster(1)
    nodes[0]!.failWith = 503
    const resilience = new Resilience({
      policies: {
        circuitBreakers: { cb: { consecutiveFailures: 2, timeout: '150ms', maxRequests: 1 } },
        retries: { none: { maxRetries: 0 } },
      },
      targets: { services: { target: { circuitBreaker: 'cb', retry: 'none' } } },
    })
    const client = clusterClient(registry, resilience)
    const breaker = resilience.outbound('target', 'Node.Flaky')?.breaker
    try {
      for (let i = 0; i < 4; i++) await client.call('target', 'Node.Flaky', {}).catch(() => {})
      assert.equal(breaker?.state, 'open')
      assert.equal(nodes[0]!.arrivals.Flaky, 2)
      nodes[0]!.failWith = 0
      await until(() => breaker?.available(Date.now()) === true)
      const { ok } = await load(10, 10, () => client.call('target', 'Node.Flaky', {}))
      // One probe, then (closed again) the rest; a call refused while the probe was out may fail fast.
      assert.ok(ok.length >= 1)
      assert.equal(breaker?.state, 'closed')
      const { ok: after } = await load(10, 2, () => client.call('target', 'Node.Flaky', {}))
      assert.equal(after.length, 10)
    } finally {
      await client.close()
      await stop()
    }
  })

  test('per node: a node whose connections are refused is left out after the trip', async () => {
    const { nodes, registry, stop } = await startCluster(2)
    const transport = new CountingTransport()
    const client = clusterClient(
      registry,
      {
        policies: {
          circuitBreakers: { perNode: { scope: 'node', consecutiveFailures: 2, timeout: '1h' } },
          retries: { r: { maxRetries: 2, duration: '1ms' } },
        },
        targets: { services: { target: { circuitBreaker: 'perNode', retry: 'r' } } },
      },
      { transport },
    )
    try {
      const dead = nodes[1]!
      await dead.proxy.close()
      const { ok, errors } = await load(100, 5, () => client.call<{ node: string }>('target', 'Node.Put', {}))
      assert.equal(errors.length, 0, String(errors[0]))
      assert.ok(ok.every((r) => r.node === 'n0'))
      const attemptsOnDead = transport.attempts.get(dead.record.address) ?? 0
      assert.ok(
        attemptsOnDead >= 2 && attemptsOnDead <= 2 + 5,
        `${attemptsOnDead} attempts went to the dead node`,
      )
      assert.equal(transport.attempts.get(nodes[0]!.record.address), 100)
    } finally {
      await client.close()
      await stop()
    }
  })
})

describe('bulkheads under load', () => {
  test('server side: maxConcurrent run, maxQueue wait, the rest get 503 at once; nothing more reaches the handler', async () => {
    const { nodes, registry, stop } = await startCluster(1, {
      policies: { bulkheads: { small: { maxConcurrent: 2, maxQueue: 3, queueTimeout: '10s' } } },
      targets: { services: { target: { inbound: { endpoints: { 'Node.Block': { bulkhead: 'small' } } } } } },
    })
    const client = clusterClient(registry, undefined)
    const n0 = nodes[0]!
    n0.proxy.delay(5)
    try {
      const calls = Array.from({ length: 20 }, () =>
        client.call('target', 'Node.Block', {}, { retries: 0 }).then(
          () => 'ok',
          (e) => e,
        ),
      )
      await until(() => n0.arrivals.Block === 2)
      const refused: unknown[] = []
      for (const c of calls) void c.then((r) => r !== 'ok' && refused.push(r))
      await until(() => refused.length === 15)
      assert.ok(refused.every((e) => code(e) === 503 && /bulkhead full/.test((e as MicroError).detail)))
      assert.equal(n0.arrivals.Block, 2, 'queued calls wait; refused ones never reach the handler')
      while (
        (await Promise.race([Promise.all(calls), new Promise((r) => setTimeout(r, 20, 'wait'))])) === 'wait'
      ) {
        n0.release()
      }
      const outcomes = await Promise.all(calls)
      assert.equal(outcomes.filter((r) => r === 'ok').length, 5)
      assert.equal(n0.arrivals.Block, 5)
    } finally {
      await client.close()
      await stop()
    }
  })

  test('client side: calls past the bulkhead are refused here and never sent', async () => {
    const { nodes, registry, stop } = await startCluster(1)
    const transport = new CountingTransport()
    const client = clusterClient(
      registry,
      {
        policies: { bulkheads: { three: { maxConcurrent: 3 } }, retries: { none: { maxRetries: 0 } } },
        targets: { services: { target: { bulkhead: 'three', retry: 'none' } } },
      },
      { transport },
    )
    try {
      const calls = Array.from({ length: 10 }, () =>
        client.call('target', 'Node.Block', {}).then(
          () => 'ok',
          (e) => e,
        ),
      )
      await until(() => nodes[0]!.arrivals.Block === 3)
      nodes[0]!.release()
      const outcomes = await Promise.all(calls)
      assert.equal(outcomes.filter((r) => r === 'ok').length, 3)
      assert.equal(outcomes.filter((e) => isRefusedHere(e) && code(e) === 503).length, 7)
      assert.equal(transport.attempts.get(nodes[0]!.record.address), 3)
    } finally {
      await client.close()
      await stop()
    }
  })
})

describe('rate limits under load', () => {
  test('per endpoint and per caller: 429 with a retry-after hint beyond the limit; limited calls never run', async () => {
    const { nodes, registry, stop } = await startCluster(1, {
      policies: {
        rateLimits: { endpoint: { rate: 10, per: '1h' }, caller: { rate: 4, per: '1h', scope: 'caller' } },
      },
      targets: {
        services: {
          target: {
            inbound: {
              endpoints: { 'Node.Get': { rateLimit: 'endpoint' }, 'Node.Put': { rateLimit: ['caller'] } },
            },
          },
        },
      },
    })
    nodes[0]!.proxy.delay(2)
    const a = clusterClient(registry, undefined, { caller: 'a' })
    const b = clusterClient(registry, undefined, { caller: 'b' })
    try {
      const gets = await load(40, 8, () => a.call('target', 'Node.Get', {}, { retries: 0 }))
      assert.equal(gets.ok.length, 10)
      assert.equal(gets.errors.length, 30)
      assert.ok(gets.errors.every((e) => code(e) === 429 && (retryAfterMs(e) ?? 0) > 0))
      assert.equal(nodes[0]!.arrivals.Get, 10)
      const [fromA, fromB] = await Promise.all([
        load(10, 5, () => a.call('target', 'Node.Put', {}, { retries: 0 })),
        load(10, 5, () => b.call('target', 'Node.Put', {}, { retries: 0 })),
      ])
      assert.equal(fromA.ok.length, 4)
      assert.equal(fromB.ok.length, 4)
      assert.ok(
        [...fromA.errors, ...fromB.errors].every(
          (e) => code(e) === 429 && /for [ab];/.test((e as MicroError).detail),
        ),
      )
      assert.equal(nodes[0]!.arrivals.Put, 8)
    } finally {
      await a.close()
      await b.close()
      await stop()
    }
  })
})

describe('timeouts and fallbacks under load', () => {
  test('a timeout policy bounds calls to a slow node (408); a fallback answers for calls that failed for good', async () => {
    const { nodes, registry, stop } = await startCluster(1)
    const client = clusterClient(registry, {
      policies: {
        timeouts: { short: '100ms' },
        retries: { none: { maxRetries: 0 } },
        fallbacks: { cached: { value: { node: 'cache' }, codes: [503] } },
      },
      targets: {
        services: {
          target: {
            retry: 'none',
            endpoints: { 'Node.Wait': { timeout: 'short' }, 'Node.Get': { fallback: 'cached' } },
          },
        },
      },
    })
    try {
      const waits = await load(6, 6, () => client.call('target', 'Node.Wait', {}))
      assert.equal(waits.errors.length, 6)
      assert.ok(waits.errors.every((e) => code(e) === 408))
      await until(
        () => nodes[0]!.contexts.filter((c) => c.endpoint === 'Node.Wait' && c.signal.aborted).length === 6,
      )
      await nodes[0]!.proxy.close()
      const gets = await load(20, 5, () => client.call<{ node: string }>('target', 'Node.Get', {}))
      assert.equal(gets.errors.length, 0)
      assert.ok(gets.ok.every((r) => r.node === 'cache'))
      // A fallback limited to 503 lets other errors through.
      await assert.rejects(client.call('target', 'Node.Nope', {}), (e: unknown) => code(e) === 503)
    } finally {
      await client.close()
      await stop()
    }
  })
})

describe('hedged requests under load', () => {
  test('a slow node: the hedge to another node answers first and the slow call is canceled', async () => {
    const { nodes, registry, stop } = await startCluster(3)
    const [fast1, slow, fast2] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]
    slow.proxy.delay(20) // a slow network to it, on top of a handler that answers only when canceled
    const client = clusterClient(registry, {
      policies: { hedging: { h: { delay: '30ms', maxAttempts: 2 } }, retries: { none: { maxRetries: 0 } } },
      targets: { services: { target: { endpoints: { 'Node.Wait': { hedging: 'h', retry: 'none' } } } } },
    })
    try {
      // Only the slow node is stuck: the fast ones answer Wait at once.
      fast1.stuck = false
      fast2.stuck = false
      const { ok, errors } = await load(30, 5, () => client.call<{ node: string }>('target', 'Node.Wait', {}))
      assert.equal(errors.length, 0, String(errors[0]))
      assert.equal(ok.length, 30)
      assert.ok(
        ok.every((r) => r.node !== slow.name),
        'no answer came from the slow node',
      )
      const slowCalls = slow.contexts.filter((c) => c.endpoint === 'Node.Wait')
      assert.ok(slowCalls.length >= 1, 'some first attempts went to the slow node (round-robin)')
      // Every call the slow node got lost the race and was canceled there.
      await until(() => slowCalls.every((c) => c.signal.aborted))
    } finally {
      await client.close()
      await stop()
    }
  })
})
