import type { Codec } from '../codec/codec.js'
import type { Codecs } from '../codec/codecs.js'
import { badRequest, type MicroError, newError } from '../errors/errors.js'
import type { NodeRecord } from '../registry/registry.js'
import { lostError } from '../transport/transport-errors.js'

// How a client call's bodies are made and read, and the node an explicit address names.

const NO_METADATA: Record<string, string> = Object.freeze({}) as Record<string, string>

/**
 * The node an explicit address names: `host:port` for the client's own transport, or
 * `<transport>://host:port` (`grpc://127.0.0.1:50051`) for another one.
 */
export function nodeAt(address: string): NodeRecord {
  const scheme = address.indexOf('://')
  if (scheme === -1) return { id: address, address, metadata: NO_METADATA }
  return {
    id: address,
    address: address.slice(scheme + 3),
    metadata: { transport: address.slice(0, scheme) },
  }
}

/** The request body; a value the codec cannot encode is a 400. */
export function encodeRequest(codec: Codec, request: unknown): Uint8Array {
  try {
    return codec.encode(request)
  } catch (error) {
    throw badRequest(
      'micro.client',
      `cannot encode the request as ${codec.contentType}: ${(error as Error).message}`,
    )
  }
}

/** A lost call that is not retried: say why, keeping it marked lost. */
export function mayHaveRun(error: MicroError, endpoint: string): MicroError {
  return lostError(
    `${error.detail}; ${endpoint} may have run (only idempotent endpoints are retried once the request was sent)`,
  )
}

export function decodeReply(
  codec: Codec,
  codecs: Codecs,
  body: Uint8Array,
  contentType: string | undefined,
): unknown {
  return decodeWith(contentType ? (codecs.get(contentType) ?? codec) : codec, body)
}

export function decodeWith(codec: Codec, body: Uint8Array): unknown {
  try {
    return codec.decode(body)
  } catch (error) {
    throw newError('micro.client', `cannot decode the reply: ${(error as Error).message}`, 502)
  }
}
