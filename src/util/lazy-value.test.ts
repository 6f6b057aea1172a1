import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { LazyValue } from './lazy-value.js'

class Engine {
  closed = 0
  async close() {
    this.closed++
  }
}

describe('LazyValue', () => {
  test('nothing loads until asked; concurrent callers share one load', async () => {
    let loads = 0
    const lazy = new LazyValue(async () => {
      loads++
      return new Engine()
    })
    assert.equal(loads, 0)
    assert.equal(lazy.now, undefined)
    const [a, b] = await Promise.all([lazy.get(), lazy.get()])
    assert.equal(loads, 1)
    assert.equal(a, b)
    assert.equal(lazy.now, a)
  })

  test('a failed load reaches its caller and the next call loads again', async () => {
    let attempts = 0
    const lazy = new LazyValue(async () => {
      attempts++
      if (attempts === 1) throw new Error('bad address')
      return new Engine()
    })
    await assert.rejects(lazy.get(), /bad address/)
    assert.ok((await lazy.get()) instanceof Engine)
    assert.equal(attempts, 2)
  })

  test('closing before any use loads nothing; a later use gets the engine closed', async () => {
    let loads = 0
    const engine = new Engine()
    const lazy = new LazyValue(async () => {
      loads++
      return engine
    })
    await lazy.close()
    assert.equal(loads, 0)
    assert.equal(await lazy.get(), engine)
    assert.equal(engine.closed, 1)
  })

  test('closing during the load closes the engine once it is there, once', async () => {
    const engine = new Engine()
    let finish: (e: Engine) => void = () => {}
    const lazy = new LazyValue(() => new Promise<Engine>((resolve) => (finish = resolve)))
    const using = lazy.get()
    const closing = lazy.close()
    finish(engine)
    await Promise.all([using, closing])
    assert.equal(engine.closed, 1)
    await lazy.close()
    assert.equal(engine.closed, 2, 'a second close reaches the engine, whose own close is idempotent')
  })
})
