import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { startOrder, stopLevels } from './order.js'

const names = (list: { name: string }[]) => list.map((s) => s.name)

describe('dependency order', () => {
  test('every service after its dependencies; otherwise the order given', () => {
    const order = startOrder([
      { name: 'shop', depends: ['orders', 'users'] },
      { name: 'mail', depends: [] },
      { name: 'orders', depends: ['users'] },
      { name: 'users', depends: [] },
    ])
    assert.deepEqual(names(order), ['mail', 'users', 'orders', 'shop'])
  })

  test('a cycle is an error naming it, a service depending on itself too', () => {
    assert.throws(
      () =>
        startOrder([
          { name: 'web', depends: [] },
          { name: 'a', depends: ['b'] },
          { name: 'b', depends: ['c'] },
          { name: 'c', depends: ['a'] },
        ]),
      /services depend on each other in a cycle: a -> b -> c -> a/,
    )
    assert.throws(() => startOrder([{ name: 'a', depends: ['a'] }]), /cycle: a -> a/)
    // A cycle further down a chain is named without the services leading to it.
    assert.throws(
      () =>
        startOrder([
          { name: 'x', depends: ['y'] },
          { name: 'y', depends: ['z'] },
          { name: 'z', depends: ['y'] },
        ]),
      /cycle: y -> z -> y/,
    )
  })

  test('a dependency that is not in the list is an error', () => {
    assert.throws(() => startOrder([{ name: 'a', depends: ['ghost'] }]), /services\.a\.depends: names ghost/)
  })

  test('stop levels: dependents first, independent services together', () => {
    const levels = stopLevels([
      { name: 'users', depends: [] },
      { name: 'mail', depends: [] },
      { name: 'orders', depends: ['users'] },
      { name: 'shop', depends: ['orders', 'mail'] },
    ])
    assert.deepEqual(levels.map(names), [['shop'], ['orders'], ['users', 'mail']])
  })
})
