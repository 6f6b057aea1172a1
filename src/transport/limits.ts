import { DEFAULT_MAX_JSON_DEPTH } from '../codec/json.js'
import { parseDuration } from '../util/duration.js'

/**
 * What one peer may make a service port hold. Every field applies to the micro protocol
 * and HTTP alike (and, where it makes sense, to the NATS transport). `Infinity` turns a
 * limit off.
 */
export interface ServerLimits {
  /**
   * Inbound bytes one connection may have buffered across all its calls and streams
   * (request bodies of calls in flight, stream messages not yet read by their handler).
   * Past it the server stops reading that socket until handlers catch up, so TCP pushes
   * back on the sender. Default 16 MiB.
   */
  maxConnectionBytes: number
  /** Calls plus streams in flight on one connection; more are answered 503 at once. Default 1024. */
  maxConnectionCalls: number
  /** An HTTP request head or a micro frame header must arrive within this, ms. Default 10 s. */
  headerTimeout: number
  /** An HTTP request body or the rest of a micro frame must arrive within this (from its start), ms. Default 30 s. */
  requestTimeout: number
  /** A connection with nothing in flight is closed after this, ms. Default 120 s. */
  idleTimeout: number
  /**
   * JSON nested deeper than this is refused (400) before it is parsed. Default 128. Applies
   * to the default codecs; a service given its own `codecs` sets it on its JSON codec
   * (`createJsonCodec({ maxDepth })`).
   */
  maxJsonDepth: number
  /**
   * Origins (`scheme://host[:port]`, or `*` for any) whose browsers may call over HTTP.
   * A request with any other `Origin` header is refused with 403. Default none.
   */
  allowedOrigins: readonly string[]
}

/** The defaults: generous for services talking to each other, tight enough for a public port. */
export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxConnectionBytes: 16 * 1024 * 1024,
  maxConnectionCalls: 1024,
  headerTimeout: 10_000,
  requestTimeout: 30_000,
  idleTimeout: 120_000,
  maxJsonDepth: DEFAULT_MAX_JSON_DEPTH,
  allowedOrigins: Object.freeze([]) as readonly string[],
})

/**
 * Every resource limit off (`limits: false`, `MICRO_SERVER_LIMITS=off`). The cross-site
 * rules (content type and Origin checks on HTTP) stay: they are not resource limits.
 */
export const NO_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxConnectionBytes: Number.POSITIVE_INFINITY,
  maxConnectionCalls: Number.POSITIVE_INFINITY,
  headerTimeout: Number.POSITIVE_INFINITY,
  requestTimeout: Number.POSITIVE_INFINITY,
  idleTimeout: Number.POSITIVE_INFINITY,
  maxJsonDepth: Number.POSITIVE_INFINITY,
  allowedOrigins: DEFAULT_LIMITS.allowedOrigins,
})

/** The `MICRO_SERVER_*` variable of each limit. */
export const LIMIT_VARIABLES: Readonly<Record<keyof ServerLimits, string>> = Object.freeze({
  maxConnectionBytes: 'MICRO_SERVER_MAX_CONNECTION_BYTES',
  maxConnectionCalls: 'MICRO_SERVER_MAX_CONNECTION_CALLS',
  headerTimeout: 'MICRO_SERVER_HEADER_TIMEOUT',
  requestTimeout: 'MICRO_SERVER_REQUEST_TIMEOUT',
  idleTimeout: 'MICRO_SERVER_IDLE_TIMEOUT',
  maxJsonDepth: 'MICRO_SERVER_MAX_JSON_DEPTH',
  allowedOrigins: 'MICRO_SERVER_ALLOWED_ORIGINS',
})

/**
 * Resolve a service's limits: an option wins, then its `MICRO_SERVER_*` variable, then the
 * default. `false` (or `MICRO_SERVER_LIMITS=off`) starts from NO_LIMITS instead of the
 * defaults. Throws a TypeError naming the setting for a value that is not a valid limit.
 */
export function resolveLimits(
  option: Partial<ServerLimits> | false | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ServerLimits {
  const off = option === false || isOff(env.MICRO_SERVER_LIMITS)
  const base = off ? NO_LIMITS : DEFAULT_LIMITS
  const given = option || {}
  const read = (key: 'maxConnectionBytes' | 'maxConnectionCalls' | 'maxJsonDepth', parse: Parser) =>
    checked(key, given[key] ?? fromEnv(env, LIMIT_VARIABLES[key], parse) ?? base[key])
  const origins = given.allowedOrigins ?? envList(env[LIMIT_VARIABLES.allowedOrigins])
  return {
    maxConnectionBytes: read('maxConnectionBytes', parseBytes),
    maxConnectionCalls: read('maxConnectionCalls', parseCount),
    headerTimeout: checked('headerTimeout', given.headerTimeout ?? envTime(env, 'headerTimeout', base)),
    requestTimeout: checked('requestTimeout', given.requestTimeout ?? envTime(env, 'requestTimeout', base)),
    idleTimeout: checked('idleTimeout', given.idleTimeout ?? envTime(env, 'idleTimeout', base)),
    maxJsonDepth: read('maxJsonDepth', parseCount),
    allowedOrigins: Object.freeze([...(origins ?? base.allowedOrigins)]),
  }
}

type Parser = (text: string, name: string) => number

function isOff(value: string | undefined): boolean {
  return value !== undefined && /^(off|false|0|no)$/i.test(value.trim())
}

function fromEnv(env: NodeJS.ProcessEnv, name: string, parse: Parser): number | undefined {
  const value = env[name]
  if (value === undefined || value.trim() === '') return undefined
  return isOff(value) && value.trim() !== '0' ? Number.POSITIVE_INFINITY : parse(value, name)
}

function envTime(env: NodeJS.ProcessEnv, key: keyof ServerLimits, base: Readonly<ServerLimits>): number {
  return fromEnv(env, LIMIT_VARIABLES[key], parseDuration) ?? (base[key] as number)
}

function envList(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined
  return value
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '')
}

function checked(key: keyof ServerLimits, value: number): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new TypeError(`limit ${key} must be a positive number (or Infinity for none), not ${value}`)
  }
  return value
}

function parseCount(text: string, name: string): number {
  const trimmed = text.trim()
  if (!/^\d+$/.test(trimmed)) throw new TypeError(`${name} must be a whole number or "off", not "${text}"`)
  return Number(trimmed)
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 }

/** Bytes from `"16777216"`, `"512KiB"`, `"16MiB"` or `"1GiB"`. */
export function parseBytes(text: string, name = 'size'): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
  const unit = BYTE_UNITS[match?.[2]?.toLowerCase() ?? 'x']
  if (!match || unit === undefined) {
    throw new TypeError(`${name} must be a number of bytes, or with a KiB/MiB/GiB suffix, not "${text}"`)
  }
  return Math.floor(Number(match[1]) * unit)
}
