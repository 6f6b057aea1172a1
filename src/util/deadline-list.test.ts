import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DeadlineList, type Tracked } from './deadline-list.js'

function entry(deadline: number | undefined, onExpire: () => void = () => {}): Tracked {
  return { deadline, nextTracked: undefined, prevTracked: undefined, expire: onExpire }
}

describe('DeadlineList', () => {
  test('a deadline computed while the event loop is busy is not early', () => {
    const list = new DeadlineList()
    const held = entry(undefined)
    list.add(held)
    // Keep the loop busy: the list's coarse clock stops at the time of the add.
    const busyUntil = Date.now() + 60
    while (Date.now() < busyUntil) {}
    const before = Date.now()
    const deadline = list.deadlineAfter(100)
    assert.ok(deadline >= before + 100, `deadline ${deadline - before} ms ahead, not 100`)
    assert.ok(list.now() < before, 'the coarse clock did lag, so the check above meant something')
    list.remove(held)
  })

  test('entries past their deadline expire; removed ones do not; the list empties', async () => {
    const list = new DeadlineList()
    const expired: string[] = []
    const soon = entry(Date.now() + 20, () => {
      expired.push('soon')
      list.remove(soon)
    })
    const removed = entry(Date.now() + 20, () => expired.push('removed'))
    const never = entry(undefined, () => expired.push('never'))
    list.add(soon)
    list.add(removed)
    list.add(never)
    list.remove(removed)
    list.remove(removed)
    assert.equal(list.count, 2)
    await new Promise((resolve) => setTimeout(resolve, 80))
    assert.deepEqual(expired, ['soon'])
    list.remove(never)
    assert.equal(list.count, 0)
    assert.equal(await list.waitIdle(10), true)
  })
})
