import { parseDuration } from '../util/duration.js'
import type { Duration } from './policy.js'

/** Milliseconds of a policy duration (a number of ms, or `"500ms"`, `"2s"`); `fallback` when unset. */
export function durationOf(value: Duration | undefined, fallback: number, where: string): number {
  if (value === undefined) return fallback
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`${where} must be a duration >= 0`)
    return value
  }
  if (typeof value !== 'string') throw new TypeError(`${where} must be a duration like "500ms" or "2s"`)
  return parseDuration(value, where)
}
