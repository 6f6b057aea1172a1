import { badRequest } from '../../errors/errors.js'
import { parseDuration } from '../../util/duration.js'
import { mediaType } from './payload.js'

const ID = 'micro.gateway'

/** A `POST /rpc` request: which endpoint to call, and the request to send it (as JSON bytes). */
export interface RpcEnvelope {
  service: string
  endpoint: string
  request: Buffer
  version: string | undefined
  /** ms */
  timeout: number | undefined
}

/**
 * Read `{service, endpoint, request, version?, timeout?}` (micro v2's `/rpc`; `method` is
 * taken for `endpoint`, `timeout` is ms or a duration such as `"5s"`). The body is JSON, or
 * form fields whose `request` is JSON text (`curl -d service=greeter&endpoint=...`).
 * Throws a 400 saying what is wrong.
 */
export function parseRpcEnvelope(contentType: string | undefined, body: Buffer): RpcEnvelope {
  const type = mediaType(contentType)
  const text = body.toString('utf8')
  let value: unknown
  if (type === 'application/x-www-form-urlencoded' && !/^\s*[{[]/.test(text)) {
    const fields = Object.fromEntries(new URLSearchParams(text))
    value = {
      ...fields,
      request: fields.request === undefined ? undefined : parseJson(fields.request, 'request'),
    }
  } else if (type === '' || type === 'application/json' || type === 'application/x-www-form-urlencoded') {
    value = parseJson(text, 'body')
  } else {
    throw badRequest(ID, `/rpc takes a JSON body, not ${type}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(ID, '/rpc takes a JSON object: {"service", "endpoint", "request"}')
  }
  const v = value as Record<string, unknown>
  const service = v.service
  const endpoint = v.endpoint ?? v.method
  if (typeof service !== 'string' || !/^[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*$/.test(service)) {
    throw badRequest(ID, '/rpc needs "service", a service name')
  }
  if (typeof endpoint !== 'string' || !/^[A-Za-z_$][\w$]*\.[A-Za-z_$][\w$]*$/.test(endpoint)) {
    throw badRequest(ID, '/rpc needs "endpoint" as Handler.Method, e.g. Greeter.Hello')
  }
  if (v.version !== undefined && (typeof v.version !== 'string' || v.version.length > 128)) {
    throw badRequest(ID, '"version" must be a string')
  }
  return {
    service,
    endpoint,
    request: Buffer.from(JSON.stringify(v.request ?? {})),
    version: v.version as string | undefined,
    timeout: timeoutOf(v.timeout),
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw badRequest(ID, `the ${what} is not valid JSON: ${(error as Error).message}`)
  }
}

function timeoutOf(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value
  if (typeof value === 'string') {
    try {
      return parseDuration(value, 'timeout')
    } catch (error) {
      throw badRequest(ID, (error as Error).message)
    }
  }
  throw badRequest(ID, '"timeout" must be milliseconds or a duration such as "5s"')
}
