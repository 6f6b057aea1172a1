import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Codec } from './codec.js'

/** Values every structured codec must carry unchanged. */
const SAMPLES: unknown[] = [
  { name: 'Alice', age: 42, tags: ['a', 'b'], nested: { ok: true, none: null } },
  [1, 2.5, -3, 'x'],
  'plain string with ünïcödé ✓',
  0,
  true,
  null,
  { big: 'x'.repeat(100_000) },
]

/**
 * The behaviour every codec for structured values must have: round-trips, an empty body
 * decodes as `{}`, malformed bytes throw (so the server can answer 400).
 */
export function codecConformance(codec: Codec, malformed: Uint8Array): void {
  describe(`codec conformance: ${codec.contentType}`, () => {
    test('round-trips values', () => {
      for (const value of SAMPLES) assert.deepEqual(codec.decode(codec.encode(value)), value)
    })

    test('decodes from a view into a larger buffer', () => {
      const encoded = codec.encode({ a: 1 })
      const padded = new Uint8Array(encoded.byteLength + 10)
      padded.set(encoded, 5)
      assert.deepEqual(codec.decode(padded.subarray(5, 5 + encoded.byteLength)), { a: 1 })
    })

    test('an empty body is {} and undefined encodes as {}', () => {
      assert.deepEqual(codec.decode(new Uint8Array(0)), {})
      assert.deepEqual(codec.decode(codec.encode(undefined)), {})
    })

    test('malformed bytes throw', () => {
      assert.throws(() => codec.decode(malformed))
    })
  })
}
