import { parseDuration } from '../util/duration.js'
import { type Problems, unknownKeyFix } from './problems.js'

/** A TOML table as parsed. */
export type Table = Record<string, unknown>

/** Whether `value` is a TOML table (a plain object, not an array or a date). */
export function isTable(value: unknown): value is Table {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === null || proto === Object.prototype
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }

/**
 * Reads the keys of one table with typed accessors. A wrong value is recorded as a
 * problem naming the full key (and yields undefined); `done()` reports every key that no
 * accessor asked for, so unknown keys are never silently ignored.
 */
export class TableReader {
  readonly #table: Table
  readonly #prefix: string
  readonly #problems: Problems
  readonly #read = new Set<string>()

  constructor(table: Table | undefined, prefix: string, problems: Problems) {
    this.#table = table ?? {}
    this.#prefix = prefix
    this.#problems = problems
  }

  /** The full name of `key`, e.g. `runtime.http.base_path`. */
  keyOf(key: string): string {
    return this.#prefix ? `${this.#prefix}.${key}` : key
  }

  /** Record a problem with `key` of this table. */
  problem(key: string, message: string, fix?: string): void {
    this.#problems.add(this.keyOf(key), message, fix)
  }

  /** The raw value, marked as known. */
  raw(key: string): unknown {
    this.#read.add(key)
    return this.#table[key]
  }

  /** A string value, or undefined when absent (a wrong type is reported). */
  string(key: string, fix = `set ${key} = "..."`): string | undefined {
    const value = this.raw(key)
    if (value === undefined) return undefined
    if (typeof value !== 'string') return this.#wrong(key, 'a string', value, fix)
    return value
  }

  /** A boolean value, or undefined when absent (a wrong type is reported). */
  boolean(key: string): boolean | undefined {
    const value = this.raw(key)
    if (value === undefined) return undefined
    if (typeof value !== 'boolean') return this.#wrong(key, 'true or false', value, `set ${key} = true`)
    return value
  }

  /** An integer from `min` to `max`, or undefined when absent (a wrong type or range is reported). */
  integer(key: string, min: number, max: number): number | undefined {
    const value = this.raw(key)
    if (value === undefined) return undefined
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      return this.#wrong(key, 'an integer', value, `set ${key} = ${min}`)
    }
    if (value < min || value > max) {
      this.problem(key, `${value} is out of range`, `use an integer from ${min} to ${max}`)
      return undefined
    }
    return value
  }

  /** Milliseconds: a string such as "30s", "500ms", "5m", or an integer number of seconds. */
  duration(key: string): number | undefined {
    const value = this.raw(key)
    if (value === undefined) return undefined
    const fix = `write it as "500ms", "30s", "5m" or a number of seconds`
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value * 1000
    if (typeof value !== 'string') return this.#wrong(key, 'a duration', value, fix)
    try {
      return parseDuration(value, this.keyOf(key))
    } catch {
      this.problem(key, `"${value}" is not a duration`, fix)
      return undefined
    }
  }

  /** Bytes: an integer, or a string such as "512kb", "4mb" (1 kb = 1024 bytes). */
  size(key: string): number | undefined {
    const value = this.raw(key)
    if (value === undefined) return undefined
    const fix = `write it as a number of bytes or "512kb", "4mb"`
    if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value
    const match = typeof value === 'string' ? /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(value.trim()) : null
    if (!match) return this.#wrong(key, 'a size', value, fix)
    const unit = SIZE_UNITS[(match[2] ?? 'b').toLowerCase()] as number
    return Math.floor(Number(match[1]) * unit)
  }

  /** An array of strings, or undefined when absent (a wrong type is reported). */
  strings(key: string): string[] | undefined {
    const value = this.raw(key)
    if (value === undefined) return undefined
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      return this.#wrong(key, 'an array of strings', value, `set ${key} = ["..."]`)
    }
    return value as string[]
  }

  /** A nested table, or undefined when absent (a wrong type is reported). */
  table(key: string): Table | undefined {
    const value = this.raw(key)
    if (value === undefined) return undefined
    if (!isTable(value)) return this.#wrong(key, 'a table', value, `write it as [${this.keyOf(key)}]`)
    return value
  }

  /** A reader of the nested table `key` (already read with `table(key)`). */
  child(key: string, table: Table): TableReader {
    return new TableReader(table, this.keyOf(key), this.#problems)
  }

  /** Report every key no accessor read. */
  done(): void {
    const known = [...this.#read]
    for (const key of Object.keys(this.#table)) {
      if (!this.#read.has(key)) this.problem(key, 'unknown key', unknownKeyFix(key, known))
    }
  }

  #wrong(key: string, expected: string, value: unknown, fix: string): undefined {
    this.problem(key, `must be ${expected}, not ${describe(value)}`, fix)
    return undefined
  }
}

/** A short description of a TOML value for messages. */
export function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array'
  if (isTable(value)) return 'a table'
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`
  return String(value)
}
