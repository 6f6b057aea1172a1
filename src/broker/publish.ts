import { HOP_HEADERS } from '../client/options.js'
import type { Codec } from '../codec/codec.js'
import { type Codecs, defaultCodecs } from '../codec/codecs.js'
import { badRequest, MicroError } from '../errors/errors.js'
import type { Context } from '../server/context.js'
import { newHeaders } from '../transport/frame.js'
import { type Broker, ID_HEADER, TOPIC_HEADER } from './broker.js'
import { newMessageId } from './message-id.js'

/** Headers that describe one message and are never carried from a handler's context to the next. */
export const MESSAGE_HEADERS: ReadonlySet<string> = new Set([
  TOPIC_HEADER,
  ID_HEADER,
  'micro-dead-letter-reason',
  'micro-dead-letter-topic',
])

/** Options of {@link publish}. */
export interface PublishOptions {
  /** Metadata sent as headers (keys lower-cased). */
  metadata?: Record<string, string>
  /**
   * The handler's (or subscriber's) ctx when publishing from inside one: its metadata is
   * carried on (trace context `traceparent`/`tracestate`, auth, custom keys), except
   * per-hop and per-message headers.
   */
  context?: Pick<Context, 'metadata'>
  /** Codec to encode with. Default JSON; a Uint8Array payload defaults to `application/octet-stream`. */
  contentType?: string
  /** Encode with this codec (typed messages: `protobufCodec(OrderSchema)`); its content type is sent. */
  codec?: Codec
  codecs?: Codecs
  /** This service's name, sent as `micro-caller`. */
  caller?: string
  /** The message id (`micro-id`). Default a new one (message-id.ts). */
  id?: string
}

/**
 * Encode `payload` and publish it with `content-type`, `micro-id`, `micro-topic`,
 * `micro-caller` and the metadata carried from `options.context`. Resolves with the message
 * id. A content type without a codec is a 415, a payload the codec cannot encode a 400.
 */
export function publish(
  broker: Broker,
  topic: string,
  payload: unknown,
  options: PublishOptions = {},
): Promise<string> {
  let id: string
  let sent: Promise<void>
  try {
    const codecs = options.codecs ?? defaultCodecs
    const contentType =
      options.contentType ?? (payload instanceof Uint8Array ? 'application/octet-stream' : 'application/json')
    const codec = options.codec ?? codecs.get(contentType)
    if (!codec) {
      throw new MicroError(
        'micro.broker',
        `no codec for content type ${contentType}; known: ${codecs.contentTypes().join(', ')}`,
        415,
      )
    }
    let body: Uint8Array
    try {
      body = codec.encode(payload)
    } catch (error) {
      throw badRequest(
        'micro.broker',
        `cannot encode the message as ${codec.contentType}: ${(error as Error).message}`,
      )
    }
    const headers = newHeaders()
    const inherited = options.context?.metadata
    if (inherited) {
      for (const key in inherited) {
        if (!HOP_HEADERS.has(key) && !MESSAGE_HEADERS.has(key)) headers[key] = inherited[key] as string
      }
    }
    const own = options.metadata
    if (own)
      for (const key in own)
        if (key.toLowerCase() !== '__proto__') headers[key.toLowerCase()] = String(own[key])
    id = options.id ?? newMessageId()
    headers['content-type'] = codec.contentType
    headers[ID_HEADER] = id
    headers[TOPIC_HEADER] = topic
    if (options.caller) headers['micro-caller'] = options.caller
    sent = broker.publish(topic, { headers, body })
  } catch (error) {
    return Promise.reject(error)
  }
  return sent.then(() => id)
}
