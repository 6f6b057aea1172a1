import { randomBytes } from 'node:crypto'

/** A W3C trace context: the ids of a span and its trace, sampling flags, vendor state. */
export interface TraceContext {
  /** 32 lower-case hex digits. */
  traceId: string
  /** 16 lower-case hex digits. */
  spanId: string
  /** Bit 0: sampled. */
  flags: number
  /** The `tracestate` header, passed on unchanged. */
  state?: string
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/
const ZERO_TRACE = '0'.repeat(32)
const ZERO_SPAN = '0'.repeat(16)

/**
 * Parse a `traceparent` header (W3C Trace Context level 1). Invalid values give undefined,
 * as the spec says: the receiver then starts a new trace.
 */
export function parseTraceparent(value: string | undefined, state?: string): TraceContext | undefined {
  if (!value) return undefined
  const match = TRACEPARENT.exec(value.trim().toLowerCase())
  if (!match) return undefined
  const [, version, traceId, spanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ]
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined
  const context: TraceContext = { traceId, spanId, flags: Number.parseInt(flags, 16) }
  if (state) context.state = state
  return context
}

/** The `traceparent` header of a context. */
export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.flags & 0xff).toString(16).padStart(2, '0')}`
}

/** A random trace id (never all zeros). */
export function newTraceId(): string {
  const id = randomBytes(16).toString('hex')
  return id === ZERO_TRACE ? newTraceId() : id
}

/** A random span id (never all zeros). */
export function newSpanId(): string {
  const id = randomBytes(8).toString('hex')
  return id === ZERO_SPAN ? newSpanId() : id
}
