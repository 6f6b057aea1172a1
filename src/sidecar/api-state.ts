import { badRequest } from '../errors/errors.js'
import {
  API_ID,
  type ApiRequest,
  bodyOf,
  sendBytes,
  sendEmpty,
  sendFailure,
  wrongMethod,
} from './api-http.js'
import { acceptedType, JSON_TYPE } from './codecs.js'
import type { StateStore, StateWrite } from './state.js'

const MAX_BULK = 100

/** What the state API needs. */
export interface StateDeps {
  state: StateStore
  maxBody: number
}

/**
 * The state API, Dapr's shapes on one implicit store:
 *
 * - `GET /v1/state/<key>`: 200 with the value and its `ETag`; 204 when there is none.
 * - `POST /v1/state/<key>` (or PUT): the body is the value (JSON stored as JSON); `If-Match:
 *   <etag>` writes only over that version, `If-None-Match: *` only a new key; a mismatch
 *   is a 409. `?ttlInSeconds=N` expires it. 204 with the new `ETag`.
 * - `DELETE /v1/state/<key>`: `If-Match` as for writes; 204.
 * - `POST /v1/state`: Dapr's bulk save `[{key, value, etag?, metadata?: {ttlInSeconds}}]`,
 *   applied in order, stopping at the first failure (at most 100 entries).
 */
export async function state(call: ApiRequest, deps: StateDeps): Promise<void> {
  const { req, res } = call
  try {
    const key = call.segments.join('/')
    if (key === '') {
      if (call.method !== 'POST' && call.method !== 'PUT') return wrongMethod(res, call.method, 'POST')
      await bulk(JSON.parse((await bodyOf(req, deps.maxBody)).toString('utf8') || 'null'), deps)
      return sendEmpty(res)
    }
    if (call.method === 'GET') {
      const entry = await deps.state.get(key)
      if (entry === undefined) return sendEmpty(res)
      return sendBytes(res, 200, entry.body, entry.contentType, { etag: entry.etag })
    }
    if (call.method === 'POST' || call.method === 'PUT') {
      const type = acceptedType(req.headers['content-type']) ?? 'application/octet-stream'
      const body = await bodyOf(req, deps.maxBody)
      const write: StateWrite = {
        ttl: ttlOf(call.query.get('ttlInSeconds') ?? call.query.get('metadata.ttlInSeconds')),
      }
      const ifMatch = req.headers['if-match']
      if (typeof ifMatch === 'string') write.ifMatch = ifMatch
      if (req.headers['if-none-match']?.trim() === '*') write.ifNoneMatch = true
      const etag = await deps.state.set(key, body, type, write)
      return sendEmpty(res, { etag })
    }
    if (call.method === 'DELETE') {
      const ifMatch = req.headers['if-match']
      await deps.state.delete(key, typeof ifMatch === 'string' ? ifMatch : undefined)
      return sendEmpty(res)
    }
    wrongMethod(res, call.method, 'GET, POST, DELETE')
  } catch (error) {
    sendFailure(
      res,
      error instanceof SyntaxError
        ? badRequest(API_ID, `the body is not valid JSON: ${error.message}`)
        : error,
    )
  }
}

async function bulk(entries: unknown, deps: StateDeps): Promise<void> {
  if (!Array.isArray(entries)) throw badRequest(API_ID, 'a bulk save is a JSON list of {key, value, etag?}')
  if (entries.length > MAX_BULK) throw badRequest(API_ID, `a bulk save takes at most ${MAX_BULK} entries`)
  for (const [i, entry] of entries.entries()) {
    const e = entry as {
      key?: unknown
      value?: unknown
      etag?: unknown
      metadata?: { ttlInSeconds?: unknown }
    } | null
    if (typeof e !== 'object' || e === null || typeof e.key !== 'string' || e.key === '') {
      throw badRequest(API_ID, `entry ${i}: "key" is a required string`)
    }
    if (e.value === undefined) throw badRequest(API_ID, `entry ${i} (${e.key}): "value" is required`)
    if (e.etag !== undefined && typeof e.etag !== 'string')
      throw badRequest(API_ID, `entry ${i} (${e.key}): "etag" is a string`)
    const ttl = e.metadata?.ttlInSeconds
    await deps.state.set(e.key, Buffer.from(JSON.stringify(e.value)), JSON_TYPE, {
      ...(e.etag !== undefined ? { ifMatch: e.etag } : {}),
      ttl: ttlOf(ttl === undefined ? null : String(ttl)),
    })
  }
}

function ttlOf(text: string | null): number | undefined {
  if (text === null || text === '') return undefined
  if (!/^\d{1,9}$/.test(text) || text === '0')
    throw badRequest(API_ID, 'ttlInSeconds must be a whole number of seconds above 0')
  return Number(text) * 1000
}
