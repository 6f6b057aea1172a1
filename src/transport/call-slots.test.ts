import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { CallSlots } from './call-slots.js'

const entry = (id: number) => ({ id })

describe('CallSlots', () => {
  test('holds entries by id; a free slot is reported as such; delete only removes the entry held', () => {
    const slots = new CallSlots<{ id: number }>()
    const a = entry(5)
    assert.equal(slots.isFree(5), true)
    slots.reserve()
    slots.add(a)
    assert.equal(slots.get(5), a)
    assert.equal(slots.isFree(5), false)
    assert.equal(slots.get(5 + 64), undefined, 'another id in the same slot is not this entry')
    assert.equal(slots.delete(entry(5)), false, 'an equal id that is not the entry held')
    assert.equal(slots.size, 1)
    assert.equal(slots.delete(a), true)
    assert.equal(slots.delete(a), false)
    assert.equal(slots.size, 0)
    assert.equal(slots.get(5), undefined)
  })

  test('ids sharing a slot (a server takes what its peer chose) all stay reachable', () => {
    const slots = new CallSlots<{ id: number }>()
    const colliding = [3, 3 + 64, 3 + 128, 3 + 1024].map(entry)
    for (const e of colliding) {
      slots.reserve()
      slots.add(e)
    }
    for (const e of colliding) assert.equal(slots.get(e.id), e)
    assert.deepEqual(
      slots
        .values()
        .map((e) => e.id)
        .sort((x, y) => x - y),
      [3, 67, 131, 1027],
    )
    assert.equal(slots.delete(colliding[2] as { id: number }), true)
    assert.equal(slots.get(131), undefined)
    assert.equal(slots.size, 3)
  })

  test('grows past half full and keeps every entry, including ones that had collided', () => {
    const slots = new CallSlots<{ id: number }>()
    const held = []
    for (let id = 1; id <= 1000; id++) {
      slots.reserve()
      const e = entry(id * 3)
      slots.add(e)
      held.push(e)
    }
    assert.equal(slots.size, 1000)
    for (const e of held) assert.equal(slots.get(e.id), e)
    assert.equal(slots.values().length, 1000)
    slots.clear()
    assert.equal(slots.size, 0)
    assert.equal(slots.get(3), undefined)
    assert.deepEqual(slots.values(), [])
  })

  test('a client taking the next id with a free slot: 64 in flight finishing out of order over 20,000 ids', () => {
    const slots = new CallSlots<{ id: number }>()
    let next = 1
    const inFlight: { id: number }[] = []
    // 64 in flight, finishing out of order, over many thousands of ids.
    for (let i = 0; i < 20_000; i++) {
      slots.reserve()
      while (!slots.isFree(next)) next++
      const e = entry(next++)
      slots.add(e)
      inFlight.push(e)
      if (inFlight.length > 64) {
        const [done] = inFlight.splice((i * 7919) % inFlight.length, 1)
        assert.equal(slots.delete(done as { id: number }), true)
      }
    }
    assert.equal(slots.size, 64)
    for (const e of inFlight) assert.equal(slots.get(e.id), e)
  })
})
