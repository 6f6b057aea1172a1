import { MicroError } from '../errors/errors.js'
import type { AppResponse } from './app-client.js'

const DETAIL_MAX = 1024

/**
 * The MicroError for an app's non-2xx answer. A JSON body `{id, code, detail}` (the error
 * shape micro services answer with; `message` or `error` stand in for `detail`) keeps its
 * id and detail, and its code when that is a 4xx/5xx; otherwise the HTTP status is the code
 * and the body's text (cut to 1 KiB) the detail. A status outside 4xx/5xx (a redirect) is a
 * 502: a caller cannot follow it through the sidecar.
 */
export function appError(response: AppResponse, service: string, endpoint: string): MicroError {
  const status = response.status
  const parsed = jsonBody(response)
  const fields =
    typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined
  const given = fields?.code
  const code =
    typeof given === 'number' && Number.isInteger(given) && given >= 400 && given <= 599
      ? given
      : status >= 400 && status <= 599
        ? status
        : 502
  const id = typeof fields?.id === 'string' && fields.id !== '' ? fields.id.slice(0, 200) : service
  const text = firstString(fields?.detail, fields?.message, fields?.error) ?? response.body.toString('utf8')
  const detail =
    code === 502 && !(status >= 400)
      ? `${endpoint}: the app answered HTTP ${status}, which a caller cannot follow through the sidecar`
      : clip(text.trim()) || `${endpoint}: the app answered HTTP ${status}`
  return new MicroError(id, detail, code)
}

/** The body parsed when it says it is JSON (or looks like a JSON object); undefined otherwise. */
export function jsonBody(response: AppResponse): unknown {
  const type = String(response.headers['content-type'] ?? '')
  const body = response.body
  if (body.length === 0) return undefined
  if (!/json/i.test(type) && body[0] !== 0x7b) return undefined
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
}

function firstString(...values: unknown[]): string | undefined {
  for (const value of values) if (typeof value === 'string' && value !== '') return value
  return undefined
}

function clip(text: string): string {
  return text.length > DETAIL_MAX ? `${text.slice(0, DETAIL_MAX - 3)}...` : text
}
