import { badRequest } from '../errors/errors.js'
import type { InferOutput, StandardResult, StandardSchema } from '../server/standard-schema.js'
import { toBool, toDuration, toInt, toMap, toNumber, toStringArray, toText } from './convert.js'
import { Secret } from './secret.js'
import { isPlainObject } from './tree.js'

const ID = 'micro.config'

/**
 * The config value at one path, with typed getters. A getter returns its default (or
 * undefined without one) when the path is unset or null, converts strings (environment
 * variables and flags are always strings), and throws a 400 MicroError naming the path
 * when the value does not convert. Secrets convert from their plaintext but are never shown.
 */
export class Value {
  /** The dotted path this value was read from ('' is the root). */
  readonly path: string
  readonly #raw: unknown

  constructor(path: string, raw: unknown) {
    this.path = path
    this.#raw = raw
  }

  /** Whether the path holds a value (null counts as unset, so a later layer can mask one). */
  get exists(): boolean {
    return this.#raw !== undefined && this.#raw !== null
  }

  /** The value as loaded: frozen plain data, secrets as {@link Secret}. */
  get raw(): unknown {
    return this.#raw
  }

  /** The value as a string, or undefined when the path is not set. */
  string(): string | undefined
  /** The value as a string, or `fallback` when the path is not set. */
  string(fallback: string): string
  string(fallback?: string): string | undefined {
    return this.exists ? toText(this.#raw, this.path) : fallback
  }

  /** The value as a number (a numeric string converts), or undefined when the path is not set. */
  number(): number | undefined
  /** The value as a number (a numeric string converts), or `fallback` when the path is not set. */
  number(fallback: number): number
  number(fallback?: number): number | undefined {
    return this.exists ? toNumber(this.#raw, this.path) : fallback
  }

  /** A safe integer (a fractional number is an error, not rounded). */
  int(): number | undefined
  int(fallback: number): number
  int(fallback?: number): number | undefined {
    return this.exists ? toInt(this.#raw, this.path) : fallback
  }

  /** The value as a boolean (`true`/`false`, `1`/`0`, `yes`/`no` convert), or undefined when the path is not set. */
  bool(): boolean | undefined
  /** The value as a boolean (`true`/`false`, `1`/`0`, `yes`/`no` convert), or `fallback` when the path is not set. */
  bool(fallback: boolean): boolean
  bool(fallback?: boolean): boolean | undefined {
    return this.exists ? toBool(this.#raw, this.path) : fallback
  }

  /** Milliseconds. The fallback is milliseconds or a duration string such as `"30s"`. */
  duration(): number | undefined
  duration(fallback: number | string): number
  duration(fallback?: number | string): number | undefined {
    if (this.exists) return toDuration(this.#raw, this.path)
    return typeof fallback === 'string' ? toDuration(fallback, `${this.path} (default)`) : fallback
  }

  /** A list of strings, from a list or a comma-separated string. */
  stringArray(): string[] | undefined
  stringArray(fallback: string[]): string[]
  stringArray(fallback?: string[]): string[] | undefined {
    return this.exists ? toStringArray(this.#raw, this.path) : fallback
  }

  /** The object at this path, read-only, secrets masked. */
  map<T = unknown>(): Readonly<Record<string, T>> | undefined
  map<T = unknown>(fallback: Record<string, T>): Readonly<Record<string, T>>
  map<T = unknown>(fallback?: Record<string, T>): Readonly<Record<string, T>> | undefined {
    return this.exists ? toMap<T>(this.#raw, this.path) : fallback
  }

  /** The value as a {@link Secret} (a plain string is wrapped so it prints masked too). */
  secret(): Secret | undefined {
    if (!this.exists || this.#raw instanceof Secret) return this.#raw as Secret | undefined
    return Secret.of(toText(this.#raw, this.path))
  }

  /**
   * A mutable copy with secrets revealed, to use as typed settings. With a Standard Schema
   * (zod, valibot, ...) the copy is validated and the schema's output returned; failures
   * are a 400 MicroError listing each issue with its path.
   */
  scan<T = unknown>(): T
  scan<S extends StandardSchema>(schema: S): InferOutput<S>
  scan(schema?: StandardSchema): unknown {
    const data = revealed(this.#raw)
    if (!schema) return data
    const result = schema['~standard'].validate(data)
    if (result instanceof Promise)
      throw new TypeError(`the schema for config ${this.path || '(root)'} is asynchronous: use scanAsync`)
    return this.#checked(result)
  }

  /** {@link scan} with a schema that may validate asynchronously. */
  async scanAsync<S extends StandardSchema>(schema: S): Promise<InferOutput<S>> {
    return this.#checked(await schema['~standard'].validate(revealed(this.#raw))) as InferOutput<S>
  }

  /** The value for JSON output, secrets masked. */
  toJSON(): unknown {
    return this.#raw
  }

  #checked(result: StandardResult<unknown>): unknown {
    if (!result.issues) return result.value
    const issues = result.issues.map((issue) => {
      const where = (issue.path ?? [])
        .map((p) => String(typeof p === 'object' && p !== null ? p.key : p))
        .join('.')
      return where ? `${where}: ${issue.message}` : issue.message
    })
    throw badRequest(ID, 'config %s is invalid: %s', this.path || '(root)', issues.join('; '))
  }
}

/** A deep, mutable copy with every secret replaced by its plaintext. */
function revealed(value: unknown): unknown {
  if (value instanceof Secret) return value.reveal()
  if (Array.isArray(value)) return value.map(revealed)
  if (!isPlainObject(value)) return value
  const out: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(value)) out[key] = revealed(child)
  return out
}
