import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AttemptSignal } from './attempt-signal.js'

test('AttemptSignal: each listener still added runs once on abort; removed ones do not; none after', () => {
  const signal = new AttemptSignal()
  const heard: string[] = []
  const a = () => heard.push('a')
  const b = () => heard.push('b')
  const c = () => heard.push('c')
  signal.addEventListener('abort', a)
  signal.addEventListener('abort', b)
  signal.addEventListener('abort', c)
  signal.removeEventListener('abort', a)
  signal.removeEventListener('abort', c)
  signal.abort('gone')
  signal.abort('again')
  assert.deepEqual(heard, ['b'])
  assert.equal(signal.aborted, true)
  assert.equal(signal.reason, 'gone')
  signal.addEventListener('abort', a)
  assert.deepEqual(heard, ['b'], 'a listener added after the abort is not called')
  assert.throws(
    () => signal.throwIfAborted(),
    (e: unknown) => e === 'gone',
  )
})
