import assert from 'node:assert/strict'
import { test } from 'node:test'
import { traceStoreConformance } from './conformance.js'
import { createTraceStore } from './index.js'
import { MemoryTraceStore } from './memory-store.js'

traceStoreConformance('memory', (setup) => new MemoryTraceStore(setup))

test('createTraceStore: bounds from MICRO_TRACES_* variables; nonsense is refused with the name', () => {
  const store = createTraceStore({}, { MICRO_TRACES_MAX_SPANS: '500', MICRO_TRACES_MAX_BYTES: '1048576' })
  assert.equal(store.stats().maxSpans, 500)
  assert.equal(store.stats().maxBytes, 1_048_576)
  assert.equal(createTraceStore({ maxSpans: 7 }, { MICRO_TRACES_MAX_SPANS: '500' }).stats().maxSpans, 7)
  assert.throws(() => createTraceStore({}, { MICRO_TRACES_MAX_SPANS: 'lots' }), /MICRO_TRACES_MAX_SPANS/)
  assert.throws(() => new MemoryTraceStore({ maxBytes: 0 }), /maxBytes/)
})
