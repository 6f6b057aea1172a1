import { localServices } from '../client/local.js'
import type { CallOptions } from '../client/options.js'
import { defaultCodecs } from '../codec/codecs.js'
import { badRequest, MicroError, notFound, unsupportedMediaType } from '../errors/errors.js'
import type { Service } from '../service/service.js'
import { API_ID, type ApiRequest, bodyOf, sendBytes, sendFailure, wrongMethod } from './api-http.js'
import { acceptedType, passthroughCodec } from './codecs.js'
import { metadataFromHeaders, timeoutHeader } from './headers.js'

const SERVICE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const ENDPOINT = /^[A-Za-z_$][\w$]*\.[A-Za-z_$][\w$]*$/

/** What invoking another service needs. */
export interface InvokeDeps {
  service: Service
  maxBody: number
  metadata: readonly string[]
}

/**
 * `POST /v1/invoke/<service>/<Handler.Method>` (also Dapr's `/v1.0/invoke/<service>/method/<Handler.Method>`,
 * and `Handler/Method`): call a service through the sidecar's client (registry, selector,
 * retries, resilience policies) with the request's bytes as they are. `Micro-Timeout` (ms)
 * sets the deadline, `Micro-Version` a version, allowed headers become metadata. The
 * reply comes back with status 200 in the request's content type; an error with its code
 * as the status and the error JSON as the body. An unknown service is a 404.
 */
export async function invoke(call: ApiRequest, deps: InvokeDeps): Promise<void> {
  const { req, res } = call
  if (call.method !== 'POST' && call.method !== 'PUT') return wrongMethod(res, call.method, 'POST')
  try {
    const [service, endpoint] = target(call.segments)
    const type = acceptedType(req.headers['content-type'])
    if (type === undefined) {
      throw unsupportedMediaType(
        API_ID,
        `Content-Type ${String(req.headers['content-type']).slice(0, 80)} is not accepted: send application/json, application/msgpack or application/octet-stream`,
      )
    }
    const body = await bodyOf(req, deps.maxBody)
    const options: CallOptions = {}
    const timeout = timeoutHeader(req.headers)
    if (timeout !== undefined) options.timeout = timeout
    const metadata = metadataFromHeaders(req.headers, deps.metadata)
    if (metadata) options.metadata = metadata
    const version = req.headers['micro-version']
    if (typeof version === 'string' && version !== '') options.version = version
    const reply = await call_(deps.service, service, endpoint, body, type, options)
    sendBytes(res, 200, reply, type)
  } catch (error) {
    sendFailure(res, error)
  }
}

/** `<service>/<Handler.Method>`, `<service>/method/<Handler.Method>` or `<service>/<Handler>/<Method>`. */
function target(segments: string[]): [string, string] {
  const [service, ...rest] = segments
  const parts = rest[0] === 'method' && rest.length > 1 ? rest.slice(1) : rest
  const endpoint = parts.length === 2 ? `${parts[0]}.${parts[1]}` : (parts[0] ?? '')
  if (service === undefined || !SERVICE.test(service) || parts.length > 2 || !ENDPOINT.test(endpoint)) {
    throw badRequest(API_ID, 'invoke a service as POST /v1/invoke/<service>/<Handler.Method>')
  }
  return [service, endpoint]
}

async function call_(
  sidecar: Service,
  service: string,
  endpoint: string,
  body: Buffer,
  type: string,
  options: CallOptions,
): Promise<Uint8Array> {
  // A service in this process (not the sidecar's own, which takes bytes) is called with
  // values, as the client's in-process path hands them over without a codec.
  const local = service !== sidecar.name && localServices.find(sidecar.namespace, service, options.version)
  try {
    if (local) {
      const codec = defaultCodecs.get(type)
      if (!codec) throw unsupportedMediaType(API_ID, `no codec for ${type}`)
      return codec.encode(await sidecar.client.call(service, endpoint, codec.decode(body), options))
    }
    const reply = await sidecar.client.call(service, endpoint, body, {
      ...options,
      codec: passthroughCodec(type),
    })
    return reply instanceof Uint8Array ? reply : Buffer.from(JSON.stringify(reply) ?? '')
  } catch (error) {
    throw await notFoundWhenUnknown(sidecar, service, MicroError.from(error, API_ID))
  }
}

/** The client answers 503 for a service it cannot find; callers of the sidecar get the 404 it is. */
async function notFoundWhenUnknown(
  sidecar: Service,
  service: string,
  error: MicroError,
): Promise<MicroError> {
  if (error.code !== 503) return error
  try {
    const records = await sidecar.registry.getService(service, { namespace: sidecar.namespace })
    if (records.length > 0) return error
  } catch (lookup) {
    if (MicroError.from(lookup).code !== 404) return error
  }
  return notFound(API_ID, `service ${service} not found in namespace ${sidecar.namespace}`)
}
