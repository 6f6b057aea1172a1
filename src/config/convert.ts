import { badRequest } from '../errors/errors.js'
import { parseDuration } from '../util/duration.js'
import { Secret } from './secret.js'
import { isPlainObject } from './tree.js'

const ID = 'micro.config'
const TRUE = new Set(['true', '1', 'yes', 'on'])
const FALSE = new Set(['false', '0', 'no', 'off'])

// Environment variables and flags are always strings, so every getter accepts the string
// spelling of its type; a secret converts from its plaintext.

/** A string from a string, number, boolean or secret. */
export function toText(raw: unknown, path: string): string {
  if (typeof raw === 'string') return raw
  if (typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint') return String(raw)
  if (raw instanceof Secret) return raw.reveal()
  throw mismatch(raw, path, 'a string')
}

/** A finite number from a number or a numeric string. */
export function toNumber(raw: unknown, path: string): number {
  if (typeof raw === 'number' && Number.isFinite(raw)) return raw
  const text = scalarText(raw)
  if (text !== undefined && text.trim() !== '') {
    const value = Number(text.trim())
    if (Number.isFinite(value)) return value
  }
  throw mismatch(raw, path, 'a number')
}

/** A safe integer from a number or a numeric string. */
export function toInt(raw: unknown, path: string): number {
  const value = toNumber(raw, path)
  if (!Number.isSafeInteger(value)) throw mismatch(raw, path, 'an integer')
  return value
}

/** A boolean from true/false, 1/0, or the strings true/false, 1/0, yes/no, on/off (any case). */
export function toBool(raw: unknown, path: string): boolean {
  if (typeof raw === 'boolean') return raw
  if (raw === 1 || raw === 0) return raw === 1
  const text = scalarText(raw)?.trim().toLowerCase()
  if (text !== undefined && TRUE.has(text)) return true
  if (text !== undefined && FALSE.has(text)) return false
  throw mismatch(raw, path, 'a boolean (true/false, yes/no, on/off, 1/0)')
}

/**
 * Milliseconds from `"500ms"`, `"30s"`, `"5m"`, `"1h"`, or a bare number of seconds: a
 * number is read like its string spelling, so `timeout: 30` in YAML and `SHOP_TIMEOUT=30`
 * mean the same.
 */
export function toDuration(raw: unknown, path: string): number {
  const text = scalarText(raw)
  if (text !== undefined) {
    try {
      return parseDuration(text, path)
    } catch {
      // reported below without echoing a secret
    }
  }
  throw mismatch(raw, path, 'a duration like 500ms, 30s, 5m or a number of seconds')
}

/** Strings from an array of scalars, or from a comma-separated string (empty items dropped). */
export function toStringArray(raw: unknown, path: string): string[] {
  if (Array.isArray(raw)) return raw.map((item, i) => toText(item, `${path}.${i}`))
  const text = scalarText(raw)
  if (typeof text === 'string')
    return text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
  throw mismatch(raw, path, 'a list or a comma-separated string')
}

/** The object at a path (read-only; secrets stay masked). */
export function toMap<T>(raw: unknown, path: string): Readonly<Record<string, T>> {
  if (isPlainObject(raw)) return raw as Record<string, T>
  throw mismatch(raw, path, 'an object')
}

function scalarText(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw)
  if (raw instanceof Secret) return raw.reveal()
  return undefined
}

/** The mismatch error; a secret's value is never part of it, other values are shown short. */
function mismatch(raw: unknown, path: string, expected: string) {
  return badRequest(ID, `config ${path || '(root)'} must be ${expected}; it is ${describe(raw)}`)
}

function describe(raw: unknown): string {
  if (raw instanceof Secret) return 'a secret that does not convert'
  if (Array.isArray(raw)) return 'a list'
  if (isPlainObject(raw)) return 'an object'
  if (raw === null) return 'null'
  const text = typeof raw === 'string' ? JSON.stringify(raw) : String(raw)
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}
