import { badRequest, unsupportedMediaType } from '../errors/errors.js'
import type { StoredEvent } from '../events/events.js'
import type { Service } from '../service/service.js'
import {
  API_ID,
  type ApiRequest,
  bodyOf,
  sendBytes,
  sendEmpty,
  sendFailure,
  wrongMethod,
} from './api-http.js'
import { acceptedType, isJsonType, passthroughCodec } from './codecs.js'
import { metadataFromHeaders } from './headers.js'

/** What publishing needs. */
export interface MessagesDeps {
  service: Service
  maxBody: number
  metadata: readonly string[]
}

/**
 * `POST /v1/publish/<topic>`: publish the body on the broker as it is (JSON, MessagePack or
 * bytes, with its content type), allowed headers as message metadata and the app as
 * `micro-caller`. 204 once the broker has it, with the message id in `Micro-Id`.
 */
export async function publish(call: ApiRequest, deps: MessagesDeps): Promise<void> {
  const { req, res } = call
  if (call.method !== 'POST' && call.method !== 'PUT') return wrongMethod(res, call.method, 'POST')
  try {
    const topic = topicOf(call.segments, 'publish')
    const type = typeOf(req.headers['content-type'])
    const body = await bodyOf(req, deps.maxBody)
    const metadata = metadataFromHeaders(req.headers, deps.metadata)
    const id = await deps.service.client.publish(topic, body, {
      codec: passthroughCodec(type),
      ...(metadata ? { metadata } : {}),
    })
    sendEmpty(res, { 'micro-id': id })
  } catch (error) {
    sendFailure(res, error)
  }
}

/**
 * `POST /v1/events/<topic>`: store an event on the durable stream (MICRO_EVENTS); answers
 * 201 `{id, topic, sequence, timestamp}`. `GET /v1/events/<topic>?offset=&limit=` reads the
 * stream back: `[{id, sequence, timestamp, metadata, contentType, data | data_base64}]`.
 */
export async function events(call: ApiRequest, deps: MessagesDeps): Promise<void> {
  const { req, res } = call
  try {
    const topic = topicOf(call.segments, 'events')
    if (call.method === 'GET') {
      const offset = count(call.query.get('offset'), 'offset')
      const limit = count(call.query.get('limit'), 'limit')
      const read = await deps.service.events.read(topic, {
        namespace: deps.service.namespace,
        ...(offset !== undefined ? { offset } : {}),
        ...(limit !== undefined ? { limit: Math.min(limit, 1000) } : {}),
      })
      return sendBytes(res, 200, Buffer.from(JSON.stringify(read.map(eventJson))), 'application/json')
    }
    if (call.method !== 'POST' && call.method !== 'PUT') return wrongMethod(res, call.method, 'GET, POST')
    const type = typeOf(req.headers['content-type'])
    const body = await bodyOf(req, deps.maxBody)
    const record = await deps.service.events.publish(topic, body, {
      namespace: deps.service.namespace,
      contentType: type,
      metadata: { ...metadataFromHeaders(req.headers, deps.metadata), 'micro-caller': deps.service.name },
    })
    const reply = {
      id: record.id,
      topic: record.topic,
      sequence: record.sequence,
      timestamp: record.timestamp,
    }
    sendBytes(res, 201, Buffer.from(JSON.stringify(reply)), 'application/json')
  } catch (error) {
    sendFailure(res, error)
  }
}

function topicOf(segments: string[], area: string): string {
  // Topics may hold `/`: everything after the area is the topic.
  const topic = segments.join('/')
  if (topic === '') throw badRequest(API_ID, `name the topic: /v1/${area}/<topic>`)
  return topic
}

function typeOf(contentType: string | undefined): string {
  const type = acceptedType(contentType)
  if (type === undefined) {
    throw unsupportedMediaType(
      API_ID,
      `Content-Type ${String(contentType).slice(0, 80)} is not accepted: send application/json, application/msgpack or application/octet-stream`,
    )
  }
  return type
}

function count(text: string | null, name: string): number | undefined {
  if (text === null || text === '') return undefined
  if (!/^\d{1,12}$/.test(text)) throw badRequest(API_ID, `${name} must be a whole number`)
  return Number(text)
}

function eventJson(event: StoredEvent): Record<string, unknown> {
  const json = isJsonType(event.contentType) && event.decodeError === undefined
  return {
    id: event.id,
    sequence: event.sequence,
    timestamp: event.timestamp,
    metadata: event.metadata,
    contentType: event.contentType,
    ...(json ? { data: event.payload } : { data_base64: Buffer.from(event.raw).toString('base64') }),
  }
}
