import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { backoffSettings, CrashBackoff } from './backoff.js'

describe('CrashBackoff', () => {
  test('quick crashes double the delay up to max; from crashLoopAfter on it is a loop at max', () => {
    const backoff = new CrashBackoff(
      backoffSettings({ initial: 100, max: 1000, resetAfter: 5000, crashLoopAfter: 6 }),
    )
    const delays = [1, 2, 3, 4, 5].map(() => backoff.crashed(10))
    assert.deepEqual(delays, [100, 200, 400, 800, 1000])
    assert.equal(backoff.crashLooping, false)
    assert.equal(backoff.crashed(10), 1000)
    assert.equal(backoff.crashLooping, true)
    assert.equal(backoff.crashed(10), 1000)
  })

  test('a process that stayed up resetAfter starts the delays over', () => {
    const backoff = new CrashBackoff(backoffSettings({ initial: 100, resetAfter: 5000, crashLoopAfter: 2 }))
    backoff.crashed(0)
    backoff.crashed(0)
    assert.equal(backoff.crashLooping, true)
    assert.equal(backoff.crashed(5000), 100)
    assert.equal(backoff.crashLooping, false)
    backoff.crashed(0)
    backoff.reset()
    assert.equal(backoff.quickCrashes, 0)
  })

  test('the defaults are 100 ms doubling to 30 s, a loop after 5 quick crashes', () => {
    assert.deepEqual(backoffSettings(), {
      initial: 100,
      max: 30_000,
      factor: 2,
      resetAfter: 10_000,
      crashLoopAfter: 5,
    })
  })

  test('nonsense settings are refused', () => {
    assert.throws(() => backoffSettings({ initial: 0 }), /initial/)
    assert.throws(() => backoffSettings({ initial: 10, max: 5 }), /initial/)
    assert.throws(() => backoffSettings({ crashLoopAfter: 0 }), /crashLoopAfter/)
  })
})
