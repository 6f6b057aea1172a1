import { badRequest, type MicroError } from '../../errors/errors.js'
import { ANY_NAMESPACE, DEFAULT_NAMESPACE, NAMESPACE_NAME } from '../../registry/registry.js'

/** The error id of everything the platform's block services raise themselves. */
export const PLATFORM_ERROR_ID = 'platform'

// Namespaces become NATS subjects, stream names, store scopes and topic prefixes: keep them
// to what every engine takes literally (the events rule, the strictest of the engines).
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** What the handlers with long-lived streams take. */
export interface StreamHandlerOptions {
  /**
   * Aborted when the platform closes: their streams (watches, subscriptions, consumers)
   * end at once instead of holding the shutdown until its timeout. Callers reconnect.
   */
  closing?: AbortSignal
}

/** The signal a stream handler runs under: the call's, and the platform's closing. */
export function streamSignal(ctx: { signal: AbortSignal }, closing: AbortSignal | undefined): AbortSignal {
  return closing ? AbortSignal.any([ctx.signal, closing]) : ctx.signal
}

/** A request body as an object, or a 400 naming the endpoint. */
export type Fields = Record<string, unknown>

/** The request as an object of fields; anything else (an array, a string, null) is a 400. */
export function fields(request: unknown, endpoint: string): Fields {
  if (typeof request !== 'object' || request === null || Array.isArray(request))
    throw invalid(`${endpoint} takes a JSON object`)
  return request as Fields
}

/**
 * The namespace a request names (`micro` when it names none), or a 400: letters, digits,
 * `_` and `-`, at most 64. `any` also accepts `*` (every namespace), for lists and watches.
 */
export function namespaceOf(request: Fields, any = false): string {
  const value = request.namespace
  if (value === undefined || value === null || value === '') return DEFAULT_NAMESPACE
  if (any && value === ANY_NAMESPACE) return ANY_NAMESPACE
  if (typeof value !== 'string' || !NAMESPACE_NAME.test(value))
    throw invalid(
      `bad namespace ${JSON.stringify(shorten(value))}: use letters, digits, _ and - (at most 64 characters)`,
    )
  return value
}

/** A string field that must be there. */
export function requiredString(request: Fields, field: string): string {
  const value = request[field]
  if (typeof value !== 'string' || value === '') throw invalid(`${field} is required (a non-empty string)`)
  return value
}

/** A string field, or undefined when absent (null counts as absent). */
export function optionalString(request: Fields, field: string): string | undefined {
  const value = request[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw invalid(`${field} must be a string`)
  return value
}

/** A finite number field, or undefined when absent. */
export function optionalNumber(request: Fields, field: string): number | undefined {
  const value = request[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`${field} must be a number`)
  return value
}

/** A boolean field, false when absent. */
export function flag(request: Fields, field: string): boolean {
  const value = request[field]
  if (value === undefined || value === null) return false
  if (typeof value !== 'boolean') throw invalid(`${field} must be true or false`)
  return value
}

/** An object of string values, or undefined when absent. */
export function optionalStringMap(request: Fields, field: string): Record<string, string> | undefined {
  const value = request[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid(`${field} must be an object of strings`)
  const copy: Record<string, string> = {}
  for (const [key, text] of Object.entries(value as Fields)) {
    if (typeof text !== 'string') throw invalid(`${field}.${key} must be a string`)
    if (key !== '__proto__') copy[key] = text
  }
  return copy
}

/**
 * A retry limit: a whole number, or `"Infinity"` (JSON has no infinity). Undefined when
 * absent; the block checks the range.
 */
export function retryLimitOf(request: Fields): number | undefined {
  const value = request.retryLimit
  if (value === undefined || value === null) return undefined
  if (value === 'Infinity') return Number.POSITIVE_INFINITY
  if (typeof value !== 'number') throw invalid('retryLimit must be a number or "Infinity"')
  return value
}

/** A retry limit as it travels: `"Infinity"` for no limit. */
export function wireRetryLimit(limit: number | undefined): number | 'Infinity' | undefined {
  return limit === Number.POSITIVE_INFINITY ? 'Infinity' : limit
}

/** A time field: ms since the epoch or an ISO 8601 string; undefined when absent. */
export function optionalTime(request: Fields, field: string): Date | undefined {
  const value = request[field]
  if (value === undefined || value === null) return undefined
  const date = typeof value === 'number' || typeof value === 'string' ? new Date(value) : undefined
  if (date === undefined || Number.isNaN(date.getTime()))
    throw invalid(`${field} must be a time: ms since the epoch or an ISO 8601 string`)
  return date
}

/** Bytes as they travel in JSON: standard base64. */
export function encodeBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/** Base64 text back to bytes, or a 400 naming the field. */
export function decodeBytes(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || value.length % 4 !== 0 || !BASE64.test(value))
    throw invalid(`${field} must be base64 text`)
  return Buffer.from(value, 'base64')
}

/** A 400 of the platform. */
export function invalid(detail: string): MicroError {
  return badRequest(PLATFORM_ERROR_ID, detail)
}

function shorten(value: unknown): unknown {
  return typeof value === 'string' && value.length > 40 ? `${value.slice(0, 40)}...` : value
}
