import { format } from 'node:util'
import { scrubPaths } from './scrub.js'
import { statusFor } from './status.js'

/** The shape an error has on the wire, as in Go Micro: `{id, code, detail, status}`. */
export interface MicroErrorJSON {
  id: string
  code: number
  detail: string
  status: string
}

/**
 * The one error type that crosses service boundaries.
 *
 * `id` names who raised it (a service name or `micro.client`), `code` is an HTTP-style
 * status code, `detail` is the human-readable reason and `status` the code's reason phrase.
 */
export class MicroError extends Error implements MicroErrorJSON {
  readonly id: string
  readonly code: number
  readonly detail: string
  readonly status: string

  constructor(id: string, detail: string, code: number, options?: ErrorOptions) {
    super(detail, options)
    this.name = 'MicroError'
    this.id = id
    this.code = code
    this.detail = detail
    this.status = statusFor(code)
  }

  /**
   * What goes on the wire: never the stack or the cause, and no absolute file paths in the
   * detail (`.../name` instead: see scrubPaths). `detail` itself keeps them for local logs.
   */
  toJSON(): MicroErrorJSON {
    return { id: this.id, code: this.code, detail: scrubPaths(this.detail), status: this.status }
  }

  override toString(): string {
    return JSON.stringify(this.toJSON())
  }

  /**
   * Normalise anything thrown into a MicroError. A MicroError passes through; anything
   * else becomes a 500 whose detail is the message only, so stacks never leak to callers.
   */
  static from(reason: unknown, id = 'micro'): MicroError {
    if (reason instanceof MicroError) return reason
    if (isMicroErrorLike(reason)) return new MicroError(reason.id, reason.detail, reason.code)
    if (reason instanceof Error) {
      if (reason.name === 'AbortError')
        return new MicroError(id, reason.message || 'canceled', 499, { cause: reason })
      if (reason.name === 'TimeoutError')
        return new MicroError(id, reason.message || 'timed out', 408, { cause: reason })
      return new MicroError(id, reason.message || reason.name, 500, { cause: reason })
    }
    return new MicroError(id, typeof reason === 'string' ? reason : 'unknown error', 500)
  }

  /**
   * Parse an error from its wire text. Text that is not the error JSON becomes the detail
   * of a 500, as Go Micro's `errors.Parse` does.
   */
  static parse(text: string, id = 'micro'): MicroError {
    try {
      const value: unknown = JSON.parse(text)
      if (isMicroErrorLike(value)) return new MicroError(value.id, value.detail, value.code)
    } catch {
      // not JSON: fall through and keep the text as the detail
    }
    return new MicroError(id, text, 500)
  }
}

function isMicroErrorLike(value: unknown): value is MicroErrorJSON {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return typeof v.code === 'number' && typeof v.detail === 'string' && typeof v.id === 'string'
}

function detailOf(detail: string, args: unknown[]): string {
  return args.length === 0 ? detail : format(detail, ...args)
}

/** A custom error with any code. */
export function newError(id: string, detail: string, code: number): MicroError {
  return new MicroError(id, detail, code)
}

/** 400: the request is malformed or fails validation. `detail` may use util.format placeholders. */
export const badRequest = (id: string, detail: string, ...args: unknown[]) =>
  new MicroError(id, detailOf(detail, args), 400)
/** 401: the caller has no valid credentials. */
export const unauthorized = (id: string, detail: string, ...args: unknown[]) =>
  new MicroError(id, detailOf(detail, args), 401)
/** 403: the caller may not do this. */
export const forbidden = (id: string, detail: string, ...args: unknown[]) =>
  new MicroError(id, detailOf(detail, args), 403)
/** 404: unknown service, endpoint or record. */
export const notFound = (id: string, detail: string, ...args: unknown[]) =>
  new MicroError(id, detailOf(detail, args), 404)
/** 405: the method is not allowed. */
export const methodNotAllowed = (id: string, detail: string, ...args: unknown[]) =>
  new MicroError(id, detailOf(detail, args), 405)
/** 408: the deadline passed. */
export const timeout = (id: string, detail: string, ...args: unknown[]) =>
  new MicroError(id, detailOf(detail, args), 408)
/** 409: a conflicting state. */
export const conflict = (id: string, detail: string, ...args: unknown[]) =>
  new MicroError(id, detailOf(detail, args), 409)
/** 413: a frame or body over the configured maximum. */
export const payloadTooLarge = (id: string, detail: string, ...args: unknown[]) =>
  new MicroError(id, detailOf(detail, args), 413)
/** 415: the body's content type is not accepted. */
export const unsupportedMediaType = (id: string, detail: string, ...args: unknown[]) =>
  new MicroError(id, detailOf(detail, args), 415)
/** 499: the caller canceled the call. */
export const canceled = (id: string, detail: string, ...args: unknown[]) =>
  new MicroError(id, detailOf(detail, args), 499)
/** 500: the handler failed. */
export const internalServerError = (id: string, detail: string, ...args: unknown[]) =>
  new MicroError(id, detailOf(detail, args), 500)
/** 503: no node can take the call now (none found, draining, connection failed). */
export const serviceUnavailable = (id: string, detail: string, ...args: unknown[]) =>
  new MicroError(id, detailOf(detail, args), 503)
