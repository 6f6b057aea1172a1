import { DEFAULT_CONTENT_TYPE } from '../codec/codecs.js'
import { type Headers, newHeaders } from '../transport/frame.js'
import { type CallOptions, HOP_HEADERS } from './options.js'

/**
 * The headers of an outbound call: metadata carried on from the handler's context, the
 * call's own metadata (lower-cased), the caller's name and a non-default content type.
 */
export function outboundHeaders(
  options: CallOptions,
  contentType: string,
  caller: string | undefined,
): Headers {
  const headers = newHeaders()
  const inherited = options.context?.metadata
  if (inherited) {
    for (const key in inherited) if (!HOP_HEADERS.has(key)) headers[key] = inherited[key] as string
  }
  const own = options.metadata
  if (own) for (const key in own) headers[key.toLowerCase()] = String(own[key])
  if (contentType !== DEFAULT_CONTENT_TYPE) headers['content-type'] = contentType
  if (caller) headers['micro-caller'] = caller
  return headers
}

/**
 * Epoch-ms deadline of a call made at `now`: its own timeout, capped by the deadline of the
 * context it runs in.
 */
export function deadlineOf(options: CallOptions, defaultTimeout: number, now: number): number {
  const own = now + (options.timeout ?? defaultTimeout)
  const inherited = options.context?.deadline
  return inherited !== undefined && inherited < own ? inherited : own
}

/** The caller's signal, joined with the handler context's when calling from inside a handler. */
export function signalOf(options: CallOptions): AbortSignal | undefined {
  const own = options.signal
  const inherited = options.context?.signal
  if (own && inherited) return AbortSignal.any([own, inherited])
  return own ?? inherited
}
