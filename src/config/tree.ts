import { Secret } from './secret.js'

/** A config tree: nested plain objects whose leaves are strings, numbers, booleans, arrays or secrets. */
export type ConfigObject = { [key: string]: unknown }

/** Keys that would reach Object.prototype when assigned; dropped everywhere, as the codecs do. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/** `a.b.c` as `['a', 'b', 'c']`; the empty path is the root. Empty segments are a TypeError. */
export function splitPath(path: string): string[] {
  if (path === '') return []
  const parts = path.split('.')
  for (const part of parts) {
    if (part === '') throw new TypeError(`config path "${path}" has an empty segment`)
    if (UNSAFE_KEYS.has(part)) throw new TypeError(`config path "${path}" uses the reserved key ${part}`)
  }
  return parts
}

/** A plain object (not an array, Date, Secret or class instance): the only thing merged into. */
export function isPlainObject(value: unknown): value is ConfigObject {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** The value at `parts` in `tree`, or undefined. */
export function getAt(tree: unknown, parts: readonly string[]): unknown {
  let node = tree
  for (const part of parts) {
    if (!isPlainObject(node) || !Object.hasOwn(node, part)) return undefined
    node = node[part]
  }
  return node
}

/** Set the value at `parts`, creating (or replacing non-object) parents. Mutates `tree`. */
export function setAt(tree: ConfigObject, parts: readonly string[], value: unknown): void {
  let node = tree
  for (const part of parts.slice(0, -1)) {
    const next = node[part]
    if (isPlainObject(next)) {
      node = next
    } else {
      const created: ConfigObject = {}
      node[part] = created
      node = created
    }
  }
  const last = parts[parts.length - 1]
  if (last !== undefined) node[last] = value
}

/** Remove the value at `parts`; true when something was removed. Mutates `tree`. */
export function deleteAt(tree: ConfigObject, parts: readonly string[]): boolean {
  const parent = getAt(tree, parts.slice(0, -1))
  const last = parts[parts.length - 1]
  if (last === undefined || !isPlainObject(parent) || !Object.hasOwn(parent, last)) return false
  delete parent[last]
  return true
}

/**
 * A deep copy of plain data: objects and arrays are copied, Secrets and other leaves are
 * shared (they are immutable), Dates become ISO strings, and unsafe keys are dropped.
 */
export function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone)
  if (value instanceof Date) return value.toISOString()
  if (!isPlainObject(value)) return value
  const out: ConfigObject = {}
  for (const [key, child] of Object.entries(value)) {
    if (!UNSAFE_KEYS.has(key)) out[key] = clone(child)
  }
  return out
}

/**
 * Merge `overlay` into a copy of `base`: objects merge key by key, anything else in the
 * overlay (arrays included: replaced, not concatenated) wins.
 */
export function merge(base: ConfigObject, overlay: ConfigObject): ConfigObject {
  const out = clone(base) as ConfigObject
  for (const [key, value] of Object.entries(overlay)) {
    if (UNSAFE_KEYS.has(key)) continue
    const current = out[key]
    out[key] = isPlainObject(current) && isPlainObject(value) ? merge(current, value) : clone(value)
  }
  return out
}

/** Structural equality of config values; two secrets are equal when they hold the same text. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a instanceof Secret || b instanceof Secret)
    return a instanceof Secret && b instanceof Secret && a.sameAs(b)
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    return a.every((item, i) => deepEqual(item, b[i]))
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a)
    if (keys.length !== Object.keys(b).length) return false
    return keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]))
  }
  return Number.isNaN(a) && Number.isNaN(b)
}

/** Freeze a tree in place so values handed to callers cannot change the loaded config. */
export function deepFreeze<T>(value: T): T {
  if (Array.isArray(value) || isPlainObject(value)) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

/**
 * Apply `fn` to every string leaf (arrays included), returning a new tree. Used for `${VAR}`
 * expansion and for turning `enc:v1:` strings into secrets.
 */
export function mapStrings(value: unknown, fn: (text: string, path: string) => unknown, path = ''): unknown {
  if (typeof value === 'string') return fn(value, path)
  if (Array.isArray(value)) return value.map((item, i) => mapStrings(item, fn, join(path, String(i))))
  if (!isPlainObject(value)) return value
  const out: ConfigObject = {}
  for (const [key, child] of Object.entries(value)) out[key] = mapStrings(child, fn, join(path, key))
  return out
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}
