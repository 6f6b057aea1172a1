import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DeadlineList, type Tracked } from './deadline-list.js'

function entry(timeout: number | undefined, onExpire: () => void = () => {}): Tracked {
  return { timeout, expiresAt: 0, nextTracked: undefined, prevTracked: undefined, expire: onExpire }
}

/** Wait until `check` holds, polling every 5 ms (fails after 5 s). */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('DeadlineList', () => {
  test('a deadline asked for while the event loop is busy is not early', () => {
    const list = new DeadlineList()
    const held = entry(undefined)
    list.add(held)
    const call = entry(100)
    list.add(call)
    // Keep the loop busy: the list's coarse clock stops at the time of the add.
    const busyUntil = Date.now() + 60
    while (Date.now() < busyUntil) {}
    const before = Date.now()
    const deadline = list.deadlineOf(call) as number
    assert.ok(deadline >= before + 100, `deadline ${deadline - before} ms ahead, not 100`)
    assert.ok(list.now() < before, 'the coarse clock did lag, so the check above meant something')
    assert.equal(list.deadlineOf(call), deadline, 'once fixed, the deadline stays')
    assert.equal(list.deadlineOf(held), undefined)
    list.remove(held)
    list.remove(call)
  })

  test('a deadline fixed by a sweep is never before the add plus the timeout', async () => {
    const list = new DeadlineList()
    const addedAt = Date.now()
    const call = entry(30)
    list.add(call)
    assert.ok(Number.isNaN(call.expiresAt), 'adding reads no clock: the deadline is not known yet')
    await until(() => !Number.isNaN(call.expiresAt), 'a sweep to fix the deadline')
    assert.ok(call.expiresAt >= addedAt + 30)
    list.remove(call)
  })

  test('entries past their deadline expire; removed ones do not; the list empties', async () => {
    const list = new DeadlineList()
    const expired: string[] = []
    const soon = entry(20, () => {
      expired.push('soon')
      list.remove(soon)
    })
    const removed = entry(20, () => expired.push('removed'))
    const never = entry(undefined, () => expired.push('never'))
    list.add(soon)
    list.add(removed)
    list.add(never)
    list.remove(removed)
    list.remove(removed)
    assert.equal(list.count, 2)
    await until(() => expired.length > 0, 'the short entry to expire')
    // A few more sweeps: nothing else expires.
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.deepEqual(expired, ['soon'])
    list.remove(never)
    assert.equal(list.count, 0)
    assert.equal(await list.waitIdle(10), true)
  })
})
