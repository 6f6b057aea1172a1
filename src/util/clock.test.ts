import assert from 'node:assert/strict'
import { test } from 'node:test'
import { turnClock } from './clock.js'

test('the turn clock follows the system clock across turns and within a long one', async () => {
  const first = turnClock()
  assert.ok(Math.abs(first - Date.now()) < 1000)
  await new Promise((resolve) => setTimeout(resolve, 30))
  const later = turnClock()
  assert.ok(later >= first + 30, `after a 30 ms pause it moved ${later - first} ms`)
  // Within one turn it is refreshed every 64 reads, so a long turn does not stop it.
  const busyUntil = Date.now() + 30
  while (Date.now() < busyUntil) {}
  let moved = turnClock()
  for (let i = 0; i < 65; i++) moved = turnClock()
  assert.ok(moved >= busyUntil, 'the clock moved within a long turn')
})
