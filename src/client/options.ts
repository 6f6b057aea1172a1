import type { Codec } from '../codec/codec.js'
import type { Context } from '../server/context.js'

/** Per-call options, accepted by every call, stream and proxy method. */
export interface CallOptions {
  /** Milliseconds the whole call (all attempts) may take. Default: the client's requestTimeout. */
  timeout?: number
  /** Cancels the call; the server's handler sees its ctx.signal abort. */
  signal?: AbortSignal
  /** Metadata sent to the server (lower-cased header-like keys). */
  metadata?: Record<string, string>
  /** Codec for this call. Default: the client's content type (JSON). */
  contentType?: string
  /**
   * Encode the request and decode the reply with this codec instead of the one
   * `contentType` names: typed messages (a protobuf method's codec; `grpcClient` sets it).
   */
  codec?: Codec
  /** Attempts after the first, for errors the retry policy accepts. */
  retries?: number
  /**
   * Call these addresses (`host:port`) directly instead of looking the service up;
   * `grpc://host:port` reaches a gRPC server.
   */
  address?: string | readonly string[]
  /** Only nodes of this version. */
  version?: string
  /** The handler's ctx when calling from inside a handler: carries deadline, cancellation and metadata on. */
  context?: Context
  /** Registry namespace of the target. Default: the client's. */
  namespace?: string
}

/** Headers that belong to one hop and are not carried on to the next service. */
export const HOP_HEADERS: ReadonlySet<string> = new Set([
  'micro-endpoint',
  'micro-service',
  'micro-caller',
  'micro-namespace',
  'micro-stream',
  'micro-timeout',
  'content-type',
  'content-length',
  'accept',
  'timeout',
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'user-agent',
  'expect',
  // one broker message's own headers (see src/broker/publish.ts MESSAGE_HEADERS)
  'micro-topic',
  'micro-id',
  'micro-dead-letter-reason',
  'micro-dead-letter-topic',
])
