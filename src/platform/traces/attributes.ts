import type { Attributes, AttributeValue } from './types.js'

/** Caps on what one span may carry; past them values are cut or dropped, never refused. */
export interface AttributeLimits {
  /** Attributes kept per span, event, link or resource. */
  maxAttributes: number
  /** Characters kept of a string value (longer ones end with `…`). */
  maxValueLength: number
  /** Elements kept of an array or key/value list value. */
  maxArrayLength: number
  /** Nesting of arrays and key/value lists kept. */
  maxDepth: number
}

export const DEFAULT_ATTRIBUTE_LIMITS: AttributeLimits = {
  maxAttributes: 128,
  maxValueLength: 4096,
  maxArrayLength: 128,
  maxDepth: 4,
}

/**
 * OTLP KeyValue list (JSON form: `[{key, value: {stringValue | intValue | ...}}]`) to a
 * plain object, bounded by `limits`. Malformed entries are skipped.
 */
export function attributesOf(list: unknown, limits: AttributeLimits): Attributes {
  const out: Attributes = {}
  if (!Array.isArray(list)) return out
  let kept = 0
  for (const entry of list) {
    if (kept >= limits.maxAttributes) break
    if (!isObject(entry) || typeof entry.key !== 'string' || entry.key === '') continue
    const key = cut(entry.key, limits.maxValueLength)
    // An own property named __proto__ would change the object's prototype through assignment.
    if (key === '__proto__') continue
    out[key] = anyValueOf(entry.value, limits, 0)
    kept++
  }
  return out
}

/** One OTLP AnyValue (JSON form) to a plain value. */
export function anyValueOf(value: unknown, limits: AttributeLimits, depth: number): AttributeValue {
  if (!isObject(value)) return null
  if (typeof value.stringValue === 'string') return cut(value.stringValue, limits.maxValueLength)
  if (typeof value.boolValue === 'boolean') return value.boolValue
  if (value.intValue !== undefined) return intOf(value.intValue)
  if (value.doubleValue !== undefined) return doubleOf(value.doubleValue)
  if (typeof value.bytesValue === 'string') return cut(value.bytesValue, limits.maxValueLength)
  if (isObject(value.arrayValue)) {
    if (depth >= limits.maxDepth) return '[nested too deep]'
    const values = Array.isArray(value.arrayValue.values) ? value.arrayValue.values : []
    return values.slice(0, limits.maxArrayLength).map((v) => anyValueOf(v, limits, depth + 1))
  }
  if (isObject(value.kvlistValue)) {
    if (depth >= limits.maxDepth) return '[nested too deep]'
    const values = Array.isArray(value.kvlistValue.values) ? value.kvlistValue.values : []
    return attributesOf(values.slice(0, limits.maxArrayLength), limits)
  }
  return null
}

/** int64 as JSON gives it (a number or a decimal string): a number when exact, else the string. */
function intOf(raw: unknown): AttributeValue {
  if (typeof raw === 'number') return Number.isFinite(raw) ? Math.trunc(raw) : null
  if (typeof raw === 'string' && /^-?\d{1,20}$/.test(raw)) {
    const n = Number(raw)
    return Number.isSafeInteger(n) ? n : raw
  }
  return null
}

/** Doubles in proto3 JSON may be numbers or the strings NaN / Infinity / -Infinity. */
function doubleOf(raw: unknown): AttributeValue {
  if (typeof raw === 'number') return raw
  if (typeof raw === 'string') {
    const n = Number(raw)
    return Number.isFinite(n) ? n : raw.slice(0, 16)
  }
  return null
}

/** `text`, at most `max` characters. */
export function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

export function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
