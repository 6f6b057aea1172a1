import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { MicroError } from '../errors/errors.js'
import { abandonSync } from './base.js'
import { aborted, recordStatus, type SyncSuite, until } from './conformance-kit.js'
import type { Leader } from './sync.js'

/** Leader election, and locks lost behind their holder's back. */
export function leaderConformance({ withSyncs, options }: SyncSuite): void {
  test('one candidate leads; resigning reports lost and the other gains', () =>
    withSyncs(2, async ([a, b], namespace) => {
      const first = a!.leader('election', { namespace, ttl: 5000 })
      const second = b!.leader('election', { namespace, ttl: 5000 })
      const statusA = recordStatus(first.status)
      const statusB = recordStatus(second.status)
      await until(() => first.isLeader || second.isLeader, 5000, 'someone leads')
      await sleep(200)
      assert.ok(first.isLeader !== second.isLeader, 'exactly one leader')
      const [leader, other, leaderStatus, otherStatus]: [Leader, Leader, typeof statusA, typeof statusA] =
        first.isLeader ? [first, second, statusA, statusB] : [second, first, statusB, statusA]
      const term = leader.token
      assert.ok(term !== undefined && term > 0)
      assert.equal(other.token, undefined)
      await leader.resign()
      await leaderStatus.ended
      assert.deepEqual(leaderStatus.seen, ['gained', 'lost'])
      assert.equal(leader.isLeader, false)
      await until(() => other.isLeader, 5000, 'the other candidate gains')
      assert.ok(other.token! > term, 'the new term has a greater token')
      await until(() => otherStatus.seen.length === 1, 2000, 'gained is reported')
      assert.deepEqual(otherStatus.seen, ['gained'])
      await other.resign()
      await otherStatus.ended
      assert.deepEqual(otherStatus.seen, ['gained', 'lost'])
    }))

  test('a status iterated after gaining starts with gained; await using resigns', () =>
    withSyncs(1, async ([sync], namespace) => {
      let leader: Leader
      {
        await using candidate = sync!.leader('late', { namespace })
        leader = candidate
        await until(() => candidate.isLeader, 5000, 'it leads')
        const iterator = candidate.status[Symbol.asyncIterator]()
        assert.deepEqual(await iterator.next(), { value: 'gained', done: false })
      }
      assert.equal(leader.isLeader, false)
      const again = await sync!.lock('late', { namespace, wait: 0 })
      await again.unlock()
    }))

  test('a leader that dies: another candidate gains after the TTL', () =>
    withSyncs(2, async ([a, b], namespace) => {
      // Renewals come every ttl/3: a TTL of seconds keeps the live leader's lease through
      // the event-loop stalls of a loaded machine, which a 600 ms one did not.
      const ttl = 2000
      const first = a!.leader('dying', { namespace, ttl })
      await until(() => first.isLeader, 5000, 'the first candidate leads')
      const second = b!.leader('dying', { namespace, ttl })
      const statusB = recordStatus(second.status)
      await sleep(ttl)
      assert.equal(second.isLeader, false)
      abandonSync(a!)
      await until(() => second.isLeader, ttl + 10_000, 'the second candidate gains')
      assert.deepEqual(statusB.seen, ['gained'])
      await second.resign()
    }))

  test('a lock taken away from its holder: lost aborts with a 409', { skip: !options.steal }, () =>
    withSyncs(1, async ([sync], namespace) => {
      const ttl = 600
      const lock = await sync!.lock('stolen', { namespace, ttl })
      await options.steal!(namespace, 'stolen')
      await aborted(lock.lost, ttl + 5000, 'the holder notices')
      assert.equal(lock.held, false)
      assert.ok(lock.lost.reason instanceof MicroError && lock.lost.reason.code === 409)
      await lock.unlock()
    }),
  )

  test('a leader whose lock is lost reports lost; another candidate gains', { skip: !options.steal }, () =>
    withSyncs(2, async ([a, b], namespace) => {
      const ttl = 600
      // The first candidate waits long before campaigning again, so the second wins.
      const first = a!.leader('coup', { namespace, ttl, retryDelay: 10_000 })
      await until(() => first.isLeader, 5000, 'the first candidate leads')
      const statusA = recordStatus(first.status)
      const second = b!.leader('coup', { namespace, ttl })
      await until(() => statusA.seen.length === 1, 2000, 'the status starts with gained')
      await options.steal!(namespace, 'coup')
      await until(() => statusA.seen.includes('lost'), ttl + 5000, 'the first reports lost')
      assert.deepEqual(statusA.seen, ['gained', 'lost'])
      await until(() => second.isLeader, 10_000, 'the second gains')
      assert.equal(first.isLeader, false)
      await Promise.all([first.resign(), second.resign()])
    }),
  )
}
