import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { abandonSync } from './base.js'
import {
  expectCode,
  expectTimeout,
  type SyncConformanceOptions,
  type SyncSuite,
  syncSuite,
} from './conformance-kit.js'
import { leaderConformance } from './conformance-leader.js'
import type { Lock, Sync } from './sync.js'

export type { SyncConformanceOptions } from './conformance-kit.js'

/**
 * The behaviour every Sync implementation must show, as node:test tests. Call it from a
 * `*.test.ts` file with a factory; every instance it makes must share one engine (they
 * stand for separate processes). Each test uses a fresh namespace.
 */
export function syncConformance(
  name: string,
  create: () => Promise<Sync> | Sync,
  options: SyncConformanceOptions = {},
): void {
  const suite = syncSuite(create, options)
  describe(`sync conformance: ${name}`, () => {
    lockConformance(suite)
    expiryConformance(suite)
    leaderConformance(suite)
  })
}

function lockConformance({ withSyncs }: SyncSuite): void {
  test('lock, unlock, lock again: tokens increase, held and lost tell the state', () =>
    withSyncs(1, async ([sync], namespace) => {
      const first = await sync!.lock('job', { namespace })
      assert.equal(first.id, 'job')
      assert.equal(first.namespace, namespace)
      assert.ok(Number.isSafeInteger(first.token) && first.token > 0, `token ${first.token}`)
      assert.equal(first.held, true)
      assert.equal(first.lost.aborted, false)
      await first.unlock()
      assert.equal(first.held, false)
      assert.equal(first.lost.aborted, false, 'unlock is not a loss')
      await first.unlock()
      const second = await sync!.lock('job', { namespace, wait: 0 })
      assert.ok(second.token > first.token, `${second.token} > ${first.token}`)
      await second.unlock()
    }))

  test('mutual exclusion under contention; tokens strictly increase across holders', () =>
    withSyncs(2, async (syncs, namespace) => {
      let inside = 0
      let most = 0
      const tokens: number[] = []
      const worker = async (sync: Sync) => {
        for (let round = 0; round < 4; round++) {
          const lock = await sync.lock('counter', { namespace, ttl: 10_000, wait: 30_000 })
          inside++
          most = Math.max(most, inside)
          tokens.push(lock.token)
          await sleep(2 + Math.random() * 8)
          inside--
          await lock.unlock()
        }
      }
      await Promise.all([0, 1, 2].flatMap(() => syncs.map((sync) => worker(sync))))
      assert.equal(most, 1, 'two holders at once')
      assert.equal(tokens.length, 24)
      for (let i = 1; i < tokens.length; i++)
        assert.ok(tokens[i]! > tokens[i - 1]!, `token ${tokens[i]} after ${tokens[i - 1]}`)
    }))

  test('wait: a LockTimeoutError (409) once it passes; wait 0 tries once', () =>
    withSyncs(2, async ([a, b], namespace) => {
      const held = await a!.lock('busy', { namespace })
      const started = Date.now()
      await expectTimeout(b!.lock('busy', { namespace, wait: 300 }))
      assert.ok(Date.now() - started >= 290, `gave up after ${Date.now() - started} ms`)
      await expectTimeout(b!.lock('busy', { namespace, wait: 0 }))
      await held.unlock()
      const mine = await b!.lock('busy', { namespace, wait: 0 })
      await mine.unlock()
    }))

  test('unlock wakes a waiter long before the TTL', () =>
    withSyncs(2, async ([a, b], namespace) => {
      const held = await a!.lock('handoff', { namespace, ttl: 30_000 })
      let got: Lock | undefined
      const waiting = b!.lock('handoff', { namespace, wait: 20_000 }).then((lock) => {
        got = lock
        return lock
      })
      await sleep(150)
      assert.equal(got, undefined, 'the waiter got a held lock')
      const releasedAt = Date.now()
      await held.unlock()
      const lock = await waiting
      assert.ok(Date.now() - releasedAt < 5000, `woken ${Date.now() - releasedAt} ms after unlock`)
      assert.ok(lock.token > held.token)
      await lock.unlock()
    }))

  test('await using unlocks at the end of the block', () =>
    withSyncs(2, async ([a, b], namespace) => {
      {
        await using lock = await a!.lock('scoped', { namespace })
        assert.equal(lock.held, true)
        await expectTimeout(b!.lock('scoped', { namespace, wait: 0 }))
      }
      const after = await b!.lock('scoped', { namespace, wait: 0 })
      await after.unlock()
    }))

  test('different ids and namespaces do not exclude each other', () =>
    withSyncs(1, async ([sync], namespace) => {
      const locks = await Promise.all([
        sync!.lock('x', { namespace, wait: 0 }),
        sync!.lock('y', { namespace, wait: 0 }),
        sync!.lock('x', { namespace: `${namespace}-b`, wait: 0 }),
      ])
      for (const lock of locks) await lock.unlock()
    }))

  test('bad options are 400s; an aborted wait is a 499; after close() a 503', () =>
    withSyncs(2, async ([a, b], namespace) => {
      await expectCode(a!.lock('', { namespace }), 400)
      await expectCode(a!.lock('k', { namespace, ttl: 0 }), 400)
      await expectCode(a!.lock('k', { namespace, wait: -1 }), 400)
      await expectCode(a!.lock('k', { namespace: '' }), 400)
      const held = await a!.lock('k', { namespace })
      const controller = new AbortController()
      const waiting = b!.lock('k', { namespace, signal: controller.signal })
      setTimeout(() => controller.abort(), 100)
      await expectCode(waiting, 499)
      await held.unlock()
      await b!.close()
      await expectCode(b!.lock('k', { namespace }), 503)
    }))

  test('close() releases the locks it holds', () =>
    withSyncs(2, async ([a, b], namespace) => {
      const held = await a!.lock('closing', { namespace })
      await a!.close()
      assert.equal(held.held, false)
      const mine = await b!.lock('closing', { namespace, wait: 2000 })
      await mine.unlock()
    }))
}

function expiryConformance({ withSyncs }: SyncSuite): void {
  test('renewal keeps a lock past its TTL while held', () =>
    withSyncs(2, async ([a, b], namespace) => {
      const ttl = 600
      const held = await a!.lock('renewed', { namespace, ttl })
      await sleep(ttl * 3)
      assert.equal(held.held, true)
      assert.equal(held.lost.aborted, false, String(held.lost.reason))
      await expectTimeout(b!.lock('renewed', { namespace, wait: 0 }))
      await held.unlock()
      const mine = await b!.lock('renewed', { namespace, wait: 2000 })
      await mine.unlock()
    }))

  test('a holder that dies: its lock frees after the TTL and a waiter gets it', () =>
    withSyncs(2, async ([a, b], namespace) => {
      const ttl = 600
      const held = await a!.lock('orphan', { namespace, ttl })
      let acquiredAt = 0
      const waiting = b!.lock('orphan', { namespace, ttl, wait: 20_000 }).then((lock) => {
        acquiredAt = Date.now()
        return lock
      })
      await sleep(ttl) // renewed at least once before dying
      assert.equal(acquiredAt, 0, 'the waiter got the lock while its holder was alive')
      const diedAt = Date.now()
      abandonSync(a!)
      const lock = await waiting
      const after = acquiredAt - diedAt
      assert.ok(after >= 0 && after < ttl + 10_000, `freed ${after} ms after the holder died`)
      assert.ok(lock.token > held.token, `${lock.token} > ${held.token}`)
      await lock.unlock()
    }))

  test('a waiter polling a dead holder does not get the lock before the TTL', () =>
    withSyncs(2, async ([a, b], namespace) => {
      const ttl = 1500
      await a!.lock('slow-orphan', { namespace, ttl })
      const diedAt = Date.now()
      abandonSync(a!)
      await expectTimeout(b!.lock('slow-orphan', { namespace, ttl, wait: ttl / 3 }))
      const lock = await b!.lock('slow-orphan', { namespace, ttl, wait: 20_000 })
      assert.ok(Date.now() - diedAt < ttl + 10_000)
      await lock.unlock()
    }))
}
