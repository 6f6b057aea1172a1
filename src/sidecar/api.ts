import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Config } from '../config/config.js'
import { MicroError, notFound } from '../errors/errors.js'
import type { HttpPart } from '../platform/http/router.js'
import type { Service } from '../service/service.js'
import { config } from './api-config.js'
import {
  API_ID,
  type ApiRequest,
  refusal,
  sendBytes,
  sendEmpty,
  sendFailure,
  splitPath,
  wrongMethod,
} from './api-http.js'
import { invoke } from './api-invoke.js'
import { events, publish } from './api-messages.js'
import { state } from './api-state.js'
import type { StateStore } from './state.js'

/** Whether the sidecar can serve, and why not. */
export interface SidecarHealth {
  /** Outbound calls (invoke, publish, state, config, events) work. */
  outbound: boolean
  /** Registered, the app answering its health check, subscriptions delivering. */
  ready: boolean
  /** Why it is not (yet) ready. */
  problem: string | undefined
}

/** What the API serves from. */
export interface ApiDeps {
  service: Service
  maxBody: number
  metadata: readonly string[]
  /** The API listens on loopback only: requests must be addressed to it. */
  loopback: boolean
  apiToken: string | undefined
  state: StateStore
  config: () => Promise<Config>
  health: () => SidecarHealth
  describe: () => Record<string, unknown>
}

/**
 * The sidecar's HTTP API on its own port (127.0.0.1:3500 by default), under `/v1/`
 * (Dapr's `/v1.0/` works too): `healthz`, `healthz/outbound`, `metadata`, `invoke`,
 * `publish`, `events`, `state`, `config`. Errors are the error JSON with the code as the
 * status; unknown paths are 404s.
 */
export function sidecarApi(deps: ApiDeps): HttpPart {
  const token = deps.apiToken === undefined ? undefined : Buffer.from(deps.apiToken)
  return {
    handle(req, res) {
      route(req, res, deps, token).catch((error: unknown) => sendFailure(res, error))
      return true
    },
  }
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  deps: ApiDeps,
  token: Buffer | undefined,
): Promise<void> {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  const refused = refusal(req, path, deps.loopback, token)
  if (refused) return refuse(req, res, refused)
  let segments: string[]
  try {
    segments = splitPath(path)
  } catch (error) {
    return refuse(req, res, MicroError.from(error))
  }
  const [version, area, ...rest] = segments
  const method = req.method ?? 'GET'
  if (version !== 'v1' && version !== 'v1.0') {
    return refuse(
      req,
      res,
      notFound(API_ID, `nothing is served at ${path.slice(0, 200)}; the API is under /v1/`),
    )
  }
  const call: ApiRequest = {
    req,
    res,
    method,
    segments: rest,
    query: new URLSearchParams(q === -1 ? '' : url.slice(q + 1)),
  }
  switch (area) {
    case 'healthz':
      return healthz(call, deps.health())
    case 'metadata':
      if (method !== 'GET') return wrongMethod(res, method, 'GET')
      return sendBytes(res, 200, Buffer.from(JSON.stringify(deps.describe())), 'application/json')
    case 'invoke':
      return invoke(call, deps)
    case 'publish':
      return publish(call, deps)
    case 'events':
      return events(call, deps)
    case 'state':
      return state(call, deps)
    case 'config':
      return config(call, deps.config)
    default:
      return refuse(req, res, notFound(API_ID, `nothing is served at ${path.slice(0, 200)}`))
  }
}

/**
 * `GET /v1/healthz`: 204 once the service is registered and the app answers its health
 * check; `GET /v1/healthz/outbound`: 204 once outbound calls work (before the app is up,
 * so an app can wait for it at start without a deadlock). Otherwise a 503 saying why.
 */
function healthz(call: ApiRequest, health: SidecarHealth): void {
  const { res, method, segments } = call
  const outbound = segments[0] === 'outbound'
  if (method !== 'GET' && method !== 'HEAD') {
    wrongMethod(res, method, 'GET')
  } else if (segments.length > (outbound ? 1 : 0)) {
    sendFailure(res, notFound(API_ID, 'try /v1/healthz or /v1/healthz/outbound'))
  } else if (outbound ? health.outbound : health.ready) {
    sendEmpty(res)
  } else {
    const why = outbound ? 'outbound calls are not ready yet' : (health.problem ?? 'the sidecar is starting')
    sendFailure(res, new MicroError(API_ID, why, 503))
  }
}

function refuse(req: IncomingMessage, res: ServerResponse, error: MicroError): void {
  req.resume()
  sendFailure(res, error)
}
