import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { AsyncQueue } from './async-queue.js'

describe('AsyncQueue', () => {
  test('take runs as each item is handed out, for a waiting consumer and from the buffer', async () => {
    const taken: number[] = []
    const queue = new AsyncQueue<number, string>({
      take: (n) => {
        taken.push(n)
        return `#${n}`
      },
    })
    const waiting = queue.next()
    queue.push(1)
    assert.deepEqual(await waiting, { value: '#1', done: false })
    queue.push(2)
    queue.push(3)
    assert.deepEqual(taken, [1], 'buffered items are not taken yet')
    assert.deepEqual(await queue.next(), { value: '#2', done: false })
    assert.deepEqual(taken, [1, 2])
    // return() drops what is still buffered without taking it.
    await queue.return()
    assert.deepEqual(await queue.next(), { value: undefined, done: true })
    assert.deepEqual(taken, [1, 2])
  })

  test('fail is thrown after the buffered items; end finishes after them', async () => {
    const failing = new AsyncQueue<number>()
    failing.push(1)
    failing.fail(new Error('boom'))
    assert.deepEqual(await failing.next(), { value: 1, done: false })
    await assert.rejects(failing.next(), /boom/)
    const ending = new AsyncQueue<number>()
    ending.push(1)
    ending.end()
    assert.deepEqual(
      [await ending.next(), await ending.next()],
      [
        { value: 1, done: false },
        { value: undefined, done: true },
      ],
    )
  })
})
