import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import { lostError, unsentError } from '../transport/transport-errors.js'
import { Bulkhead, BulkheadSettings } from './bulkhead.js'
import { BreakerSettings, CircuitBreaker } from './circuit-breaker.js'
import { isRefusedHere, retryAfterMs } from './codes.js'
import { race } from './hedging.js'
import { LatencyHistogram } from './latency.js'
import { loadResiliencePolicies } from './load.js'
import { RateLimiter, RateLimitSettings } from './rate-limit.js'
import { Resilience, ResilienceConfigError } from './resilience.js'
import { RetryRule } from './retry.js'

const err = (code: number) => new MicroError('svc', `failed with ${code}`, code)

describe('resilience spec', () => {
  test('targets resolve per service and endpoint; "*" applies to services without their own', () => {
    const r = new Resilience({
      policies: {
        timeouts: { fast: '200ms', slow: 5000 },
        retries: { few: { maxRetries: 1 } },
        hedging: { reads: { delay: 'p95' } },
        bulkheads: { small: { maxConcurrent: 2 } },
        rateLimits: { api: { rate: 10 }, each: { rate: 1, scope: 'caller' } },
      },
      targets: {
        services: {
          '*': { timeout: 'slow' },
          greeter: {
            timeout: 'fast',
            endpoints: { 'Greeter.Get': { hedging: 'reads', retry: 'few' } },
            inbound: { bulkhead: 'small', endpoints: { 'Greeter.Get': { rateLimit: ['api', 'each'] } } },
          },
        },
      },
    })
    assert.equal(r.outbound('greeter', 'Greeter.Put')?.timeout, 200)
    assert.equal(r.outbound('greeter', 'Greeter.Put')?.hedging, undefined)
    const get = r.outbound('greeter', 'Greeter.Get')
    assert.equal(get?.timeout, 200)
    assert.ok(get?.hedging && get.retry)
    assert.equal(r.outbound('other', 'X.Y')?.timeout, 5000)
    assert.equal(r.outbound('greeter', 'Greeter.Get'), get, 'resolution is cached')
    assert.equal(r.inbound('greeter', 'Greeter.Get')?.rateLimits.length, 2)
    assert.ok(r.inbound('greeter', 'Greeter.Put')?.bulkhead)
    assert.notEqual(
      r.inbound('greeter', 'Greeter.Put')?.bulkhead,
      r.inbound('greeter', 'Greeter.Get')?.bulkhead,
    )
    assert.equal(r.inbound('other', 'X.Y'), undefined)
    assert.equal(
      new Resilience({}).outbound('greeter', 'Greeter.Get'),
      undefined,
      'no policies: nothing to apply',
    )
  })

  test('every mistake is listed at once', () => {
    assert.throws(
      () =>
        new Resilience({
          policies: {
            timeouts: { bad: 'soon' },
            retries: { r: { policy: 'linear' as never, maxRetries: -5 } },
            bulkheads: { b: { maxConcurrent: 0 } },
            circuitBreakers: { c: { trip: 'errors > 3' } },
          },
          targets: { services: { greeter: { retry: 'nope', inbound: { rateLimit: 'missing' } } } },
        }),
      (e: unknown) => {
        assert.ok(e instanceof ResilienceConfigError)
        const text = e.problems.join('\n')
        for (const part of [
          'timeouts.bad',
          'retries.r',
          'bulkheads.b',
          'circuitBreakers.c',
          'no retries policy named "nope"',
          'no rateLimits policy named "missing"',
        ]) {
          assert.ok(text.includes(part), `${part} not reported in:\n${text}`)
        }
        return true
      },
    )
  })

  test('loadResiliencePolicies reads YAML, JSON and TOML files and text, under `resilience` or not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'micro-res-'))
    try {
      const yaml =
        'resilience:\n  policies:\n    timeouts:\n      fast: 100ms\n  targets:\n    services:\n      a:\n        timeout: fast\n'
      const json = JSON.stringify({
        policies: { timeouts: { fast: 100 } },
        targets: { services: { a: { timeout: 'fast' } } },
      })
      const toml = '[policies.timeouts]\nfast = "100ms"\n[targets.services.a]\ntimeout = "fast"\n'
      for (const [file, text] of [
        ['p.yaml', yaml],
        ['p.json', json],
        ['p.toml', toml],
      ] as const) {
        writeFileSync(join(dir, file), text)
        assert.equal(loadResiliencePolicies(join(dir, file)).outbound('a', 'A.B')?.timeout, 100, file)
        assert.equal(loadResiliencePolicies(text).outbound('a', 'A.B')?.timeout, 100, `${file} as text`)
      }
      writeFileSync(join(dir, 'bad.yaml'), 'policies: [unclosed\n')
      assert.throws(() => loadResiliencePolicies(join(dir, 'bad.yaml')), ResilienceConfigError)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('retry rule', () => {
  test('retries only what cannot have run, unless the endpoint is idempotent; matches codes', () => {
    const rule = new RetryRule(
      { maxRetries: 2, matching: { codes: [503, '500-504'], grpcCodes: ['RESOURCE_EXHAUSTED'] } },
      'r',
    )
    assert.equal(rule.shouldRetry(unsentError('refused'), 1, false), true)
    assert.equal(rule.shouldRetry(err(503), 1, false), true, 'a 503 answered: not run')
    assert.equal(rule.shouldRetry(err(429), 1, false), true, 'RESOURCE_EXHAUSTED is 429')
    assert.equal(rule.shouldRetry(lostError('gone'), 1, false), false, 'lost mid-call may have run')
    assert.equal(rule.shouldRetry(lostError('gone'), 1, true), true)
    assert.equal(rule.shouldRetry(err(500), 1, false), false)
    assert.equal(rule.shouldRetry(err(500), 1, true), true)
    assert.equal(rule.shouldRetry(err(404), 1, true), false)
    assert.equal(rule.shouldRetry(err(503), 3, true), false, 'maxRetries')
    const constant = new RetryRule({ policy: 'constant', duration: '30ms' }, 'c')
    assert.equal(constant.backoff(5, err(503)), 30)
    assert.equal(constant.backoff(1, err429(250)), 250, 'a 429 asks for at least its retry-after')
  })
})

function err429(ms: number) {
  return new MicroError('svc', `rate limit exceeded; retry after ${ms} ms`, 429)
}

describe('circuit breaker', () => {
  test('opens after consecutive failures, fails fast, half-opens for probes, closes on success', () => {
    const b = new CircuitBreaker(
      new BreakerSettings({ trip: 'consecutiveFailures > 2', timeout: 1000, maxRequests: 2 }, 'b'),
    )
    let t = 0
    for (let i = 0; i < 3; i++) {
      assert.equal(b.allow(t), true)
      b.record(err(503), t)
    }
    assert.equal(b.state, 'open')
    assert.equal(b.allow(t + 999), false)
    t += 1000
    assert.equal(b.allow(t), true, 'first probe')
    assert.equal(b.state, 'half-open')
    assert.equal(b.allow(t), true, 'second probe')
    assert.equal(b.allow(t), false, 'no third while probing')
    b.record(undefined, t)
    b.record(undefined, t)
    assert.equal(b.state, 'closed')
    // A failed probe opens it again.
    for (let i = 0; i < 3; i++) b.record(err(500), t)
    t += 1000
    assert.equal(b.allow(t), true)
    b.record(err(500), t)
    assert.equal(b.state, 'open')
  })

  test('client errors and cancels do not trip it; a failure ratio over a window does', () => {
    const b = new CircuitBreaker(new BreakerSettings({ consecutiveFailures: 2 }, 'b'))
    for (let i = 0; i < 10; i++) b.record(err(404), 0)
    for (let i = 0; i < 10; i++) b.record(err(499), 0)
    assert.equal(b.state, 'closed')
    const ratio = new CircuitBreaker(
      new BreakerSettings({ failureRatio: 0.5, minRequests: 4, interval: '10s' }, 'r'),
    )
    ratio.record(undefined, 0)
    ratio.record(err(500), 1)
    ratio.record(undefined, 2)
    assert.equal(ratio.state, 'closed')
    ratio.record(err(500), 3)
    assert.equal(ratio.state, 'open')
  })
})

describe('bulkhead', () => {
  test('takes maxConcurrent, queues maxQueue, refuses the rest with 503 at once', async () => {
    const b = new Bulkhead(
      new BulkheadSettings({ maxConcurrent: 2, maxQueue: 1, queueTimeout: '10s' }, 'b'),
      'bulkhead b',
    )
    assert.equal(b.acquire(undefined, 'svc'), undefined)
    assert.equal(b.acquire(undefined, 'svc'), undefined)
    const queued = b.acquire(undefined, 'svc')
    assert.ok(queued instanceof Promise)
    assert.throws(
      () => b.acquire(undefined, 'svc'),
      (e: unknown) => e instanceof MicroError && e.code === 503 && isRefusedHere(e),
    )
    b.release()
    await queued
    assert.equal(b.active, 2)
    b.release()
    b.release()
    assert.equal(b.active, 0)
  })

  test('tryAcquire takes a free slot, and never one a waiter is queued for', async () => {
    const b = new Bulkhead(new BulkheadSettings({ maxConcurrent: 1, maxQueue: 1 }, 'b'), 'bulkhead b')
    assert.equal(b.tryAcquire(), true)
    assert.equal(b.tryAcquire(), false)
    const queued = b.acquire(undefined, 'svc') as Promise<void>
    b.release()
    // The slot went to the waiter: nothing is free until it gives it back.
    assert.equal(b.tryAcquire(), false)
    await queued
    assert.equal(b.active, 1)
    b.release()
    assert.equal(b.tryAcquire(), true)
  })

  test('a wait past the deadline is refused', async () => {
    const b = new Bulkhead(new BulkheadSettings({ maxConcurrent: 1, maxQueue: 5 }, 'b'), 'bulkhead b')
    b.acquire(undefined, 'svc')
    await assert.rejects(
      b.acquire(Date.now() + 20, 'svc') as Promise<void>,
      (e: unknown) => e instanceof MicroError && e.code === 503,
    )
    assert.equal(b.queued, 0)
  })
})

describe('rate limit', () => {
  test('per endpoint: a burst, then 429 with a retry-after hint', () => {
    const limiter = new RateLimiter(new RateLimitSettings({ rate: 5, per: '1h' }, 'l'), 'rate limit l')
    const ctx = { metadata: {}, remote: '127.0.0.1:5' }
    for (let i = 0; i < 5; i++) limiter.take(ctx, 'svc')
    assert.throws(
      () => limiter.take(ctx, 'svc'),
      (e: unknown) => e instanceof MicroError && e.code === 429 && (retryAfterMs(e) ?? 0) > 0,
    )
  })

  test('per caller: each caller has its own bucket (micro-caller, else the address)', () => {
    const limiter = new RateLimiter(
      new RateLimitSettings({ rate: 2, per: '1h', scope: 'caller' }, 'l'),
      'rate limit l',
    )
    const a = { metadata: { 'micro-caller': 'a' }, remote: '127.0.0.1:1' }
    const b = { metadata: { 'micro-caller': 'b' }, remote: '127.0.0.1:1' }
    const anonymous = { metadata: {}, remote: '10.0.0.9:7' }
    for (const ctx of [a, a, b, b, anonymous, anonymous]) limiter.take(ctx, 'svc')
    for (const ctx of [a, b, anonymous])
      assert.throws(
        () => limiter.take(ctx, 'svc'),
        (e: MicroError) => e.code === 429,
      )
  })
})

describe('latency histogram', () => {
  test('percentiles within a bucket (25%) of the truth, following recent samples', () => {
    const h = new LatencyHistogram()
    for (let i = 1; i <= 1000; i++) h.record(i / 100) // 0.01 .. 10 ms
    const p95 = h.percentile(0.95) as number
    assert.ok(p95 >= 9.5 && p95 <= 9.5 * 1.25 * 1.25, `p95 ${p95}`)
    for (let i = 0; i < 20_000; i++) h.record(100)
    const later = h.percentile(0.5) as number
    assert.ok(later >= 100 && later <= 125 * 1.25, `p50 after the change ${later}`)
  })
})

describe('hedged race', () => {
  test('the first success wins and the others are aborted with the reason', async () => {
    const aborted: unknown[] = []
    let made = 0
    let release!: () => void
    const value = await race<string>(
      () => {
        const n = ++made
        if (n > 2) return undefined
        return (signal) =>
          new Promise<string>((resolve) => {
            signal.addEventListener('abort', () => aborted.push(signal.reason))
            if (n === 1) release = () => resolve('slow')
            else resolve('fast')
          })
      },
      1,
      3,
      undefined,
      () => new MicroError('c', 'lost the race', 499),
    )
    assert.equal(value, 'fast')
    assert.equal(made, 2, 'the race ended with the second attempt: no third was asked for')
    assert.equal(aborted.length, 1)
    assert.equal((aborted[0] as MicroError).detail, 'lost the race')
    release()
  })

  test('no hedge before the delay has really passed (node times timers in whole ms)', async () => {
    // A 1.5 ms timer fires once two whole ms have ticked: anywhere from 1 to 2 ms after it was
    // set. Each first attempt answers 1.4 ms after the race began, by the clock.
    let hedges = 0
    for (let trial = 0; trial < 20; trial++) {
      const answerAt = performance.now() + 1.4
      let made = 0
      const value = await race<string>(
        () => {
          if (++made > 1) {
            hedges++
            return () => Promise.resolve('hedge')
          }
          return () =>
            new Promise<string>((resolve) => {
              const poll = () => (performance.now() >= answerAt ? resolve('first') : setImmediate(poll))
              poll()
            })
        },
        1.5,
        2,
        undefined,
        () => err(499),
      )
      assert.equal(value, 'first')
    }
    assert.equal(hedges, 0, 'every first attempt answered within the delay')
  })

  test('an answer that has arrived when the hedge timer fires wins without a hedge', async () => {
    // The answer is in the socket while the loop is busy past the delay: the timer and the
    // data are both due in the next turn, and timers run first.
    const { createServer, connect } = await import('node:net')
    let serverSide: import('node:net').Socket | undefined
    const server = createServer((socket) => {
      serverSide = socket
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    const client = connect(port, '127.0.0.1')
    try {
      await new Promise((resolve) => client.once('connect', resolve))
      while (serverSide === undefined) await new Promise((resolve) => setImmediate(resolve))
      const answering = serverSide
      let made = 0
      const racing = race<string>(
        () => {
          made++
          if (made > 1) return () => Promise.resolve('hedge')
          return () =>
            new Promise<string>((resolve) => {
              client.once('data', (chunk) => resolve(chunk.toString()))
              answering.write('answer')
            })
        },
        5,
        2,
        undefined,
        () => err(499),
      )
      // Busy past the 5 ms delay, the answer already sent.
      const until = performance.now() + 50
      while (performance.now() < until) {}
      assert.equal(await racing, 'answer')
      assert.equal(made, 1)
    } finally {
      client.destroy()
      server.close()
    }
  })

  test('when every attempt fails the last failure is the result', async () => {
    let n = 0
    await assert.rejects(
      race(
        () => (n++ < 2 ? () => Promise.reject(err(500 + n)) : undefined),
        0,
        2,
        undefined,
        () => err(499),
      ),
      (e: MicroError) => e.code === 501 || e.code === 502,
    )
  })
})
