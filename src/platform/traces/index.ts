export { tracesHandler } from './handler.js'
export { MemoryTraceStore, type MemoryTraceStoreOptions } from './memory-store.js'
export { DEFAULT_SPAN_LIMITS, decodeExportRequest, type SpanLimits } from './otlp-decode.js'
export { createOtlpReceiver, type OtlpReceiver, type OtlpReceiverOptions } from './receiver.js'
export type { TraceStore } from './trace-store.js'
export type * from './types.js'

import { MemoryTraceStore, type MemoryTraceStoreOptions } from './memory-store.js'

/**
 * The platform's trace store with its bounds from `options`, else from
 * MICRO_TRACES_MAX_SPANS and MICRO_TRACES_MAX_BYTES, else the defaults (20,000 spans,
 * 32 MiB).
 */
export function createTraceStore(
  options: MemoryTraceStoreOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): MemoryTraceStore {
  const fromEnv = (name: string): number | undefined => {
    const raw = env[name]
    if (raw === undefined || raw === '') return undefined
    const n = Number(raw)
    if (!Number.isFinite(n) || n < 1) throw new TypeError(`${name} must be a positive number, got ${raw}`)
    return n
  }
  return new MemoryTraceStore({
    ...options,
    maxSpans: options.maxSpans ?? fromEnv('MICRO_TRACES_MAX_SPANS'),
    maxBytes: options.maxBytes ?? fromEnv('MICRO_TRACES_MAX_BYTES'),
  })
}
