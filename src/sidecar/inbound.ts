import { MicroError } from '../errors/errors.js'
import type { Context } from '../server/context.js'
import type { EndpointOptions } from '../server/endpoint.js'
import type { HandleOptions } from '../server/handlers.js'
import type { AppClient } from './app-client.js'
import { appError } from './app-errors.js'
import { baseType, inboundCodecs, isJsonType, JSON_TYPE, OCTET_TYPE } from './codecs.js'
import type { AppEndpoint } from './discovery.js'
import { addMetadataHeaders, headerSafe } from './headers.js'

/** What forwarding a call to the app needs. */
export interface InboundDeps {
  service: string
  app: AppClient
  /** Deadline of a call whose caller gave none, ms. */
  appTimeout: number
  metadata: readonly string[]
  appToken: string | undefined
}

/**
 * The handler objects that serve the app's endpoints as the sidecar's service: one per
 * handler name (`Orders` for `Orders.Create`), each method forwarding to the app. The
 * schemas the app declared are published, not enforced (the app validates). Pass each
 * pair to `service.handle(target, options)`.
 */
export function inboundHandlers(
  endpoints: readonly AppEndpoint[],
  deps: InboundDeps,
): { target: Record<string, unknown>; options: HandleOptions }[] {
  const groups = new Map<string, { target: Record<string, unknown>; options: HandleOptions }>()
  for (const endpoint of endpoints) {
    const dot = endpoint.name.indexOf('.')
    const handler = endpoint.name.slice(0, dot)
    const method = endpoint.name.slice(dot + 1)
    let group = groups.get(handler)
    if (group === undefined) {
      group = { target: {}, options: { name: handler, endpoints: {}, codecs: {} } }
      groups.set(handler, group)
    }
    group.target[method] = (req: unknown, ctx: Context) => forward(endpoint, req, ctx, deps)
    ;(group.options.endpoints as Record<string, EndpointOptions>)[method] = {
      ...(endpoint.request ? { requestJsonSchema: endpoint.request } : {}),
      ...(endpoint.response ? { responseJsonSchema: endpoint.response } : {}),
      ...(endpoint.idempotent ? { idempotent: true } : {}),
      metadata: { sidecar: 'true' },
    }
    ;(group.options.codecs as Record<string, typeof inboundCodecs>)[method] = inboundCodecs
  }
  return [...groups.values()]
}

/**
 * One call to the app: `POST <path>` with the caller's bytes, its deadline as
 * `Micro-Timeout` (ms left), the caller as `Micro-Caller`, and the allowed metadata as
 * headers. A 2xx answer's body is the reply; anything else is the app's error.
 */
async function forward(
  endpoint: AppEndpoint,
  req: unknown,
  ctx: Context,
  deps: InboundDeps,
): Promise<unknown> {
  // Over the network the request arrives as bytes (inboundCodecs); a call made in this
  // process (a test, or the app calling itself) hands over a value instead.
  const local = !(req instanceof Uint8Array)
  const type = !local && baseType(ctx.metadata['content-type']) === OCTET_TYPE ? OCTET_TYPE : JSON_TYPE
  const body = local ? Buffer.from(JSON.stringify(req ?? null)) : (req as Uint8Array)
  const remaining = ctx.deadline === undefined ? deps.appTimeout : ctx.deadline - Date.now()
  if (remaining <= 0)
    throw new MicroError(deps.service, `${endpoint.name}: the deadline passed before the app was called`, 408)
  const headers: Record<string, string> = {
    'content-type': type,
    'micro-service': deps.service,
    'micro-endpoint': endpoint.name,
    'micro-timeout': String(Math.ceil(remaining)),
  }
  const caller = ctx.metadata['micro-caller']
  if (caller) headers['micro-caller'] = headerSafe(caller)
  addMetadataHeaders(headers, ctx.metadata, deps.metadata)
  if (deps.appToken) headers['micro-api-token'] = deps.appToken
  const response = await deps.app.send({
    method: 'POST',
    path: endpoint.path,
    headers,
    body,
    timeout: remaining,
    signal: ctx.signal,
  })
  if (response.status < 200 || response.status > 299) throw appError(response, deps.service, endpoint.name)
  const replyType = response.headers['content-type']
  if (type === JSON_TYPE && response.body.length > 0 && !isJsonType(replyType)) {
    throw new MicroError(
      deps.service,
      `${endpoint.name}: the app answered ${headerSafe(String(replyType), 80)}, not JSON`,
      502,
    )
  }
  if (!local) return response.body
  if (response.body.length === 0) return undefined
  try {
    return JSON.parse(response.body.toString('utf8'))
  } catch {
    throw new MicroError(deps.service, `${endpoint.name}: the app's answer is not valid JSON`, 502)
  }
}
