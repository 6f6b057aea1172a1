import type { Config } from '../config/config.js'
import { Secret } from '../config/secret.js'
import { notFound } from '../errors/errors.js'
import { API_ID, type ApiRequest, sendBytes, sendFailure, wrongMethod } from './api-http.js'

/**
 * `GET /v1/config/<path>`: the service's config at a dotted path (`db.url`, or `db/url`),
 * as JSON; 404 when it is unset; `GET /v1/config` is all of it. The config is the one a
 * TypeScript service of the same name gets: MICRO_CONFIG_FILE < the namespace's store
 * document (`micro config set`, re-read every 500 ms) < `<NAME>__*` variables. Secrets
 * show as `[secret]` unless the request asks `?reveal=true`.
 */
export async function config(call: ApiRequest, load: () => Promise<Config>): Promise<void> {
  if (call.method !== 'GET') return wrongMethod(call.res, call.method, 'GET')
  try {
    const path = call.segments.flatMap((s) => s.split('.')).join('.')
    const value = (await load()).get(path)
    if (!value.exists) throw notFound(API_ID, `config ${path} is not set`)
    const reveal = call.query.get('reveal') === 'true'
    const json = JSON.stringify(reveal ? revealed(value.raw) : value.raw)
    sendBytes(call.res, 200, Buffer.from(json), 'application/json')
  } catch (error) {
    sendFailure(call.res, error)
  }
}

/** The tree with each Secret replaced by its plaintext (JSON.stringify alone would mask it). */
function revealed(value: unknown): unknown {
  if (value instanceof Secret) return value.reveal()
  if (Array.isArray(value)) return value.map(revealed)
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revealed(v)]))
  }
  return value
}
