import type { CallOptions } from '../client/options.js'
import type { ClientRequest, ClientWrapper } from '../client/wrappers.js'
import type { Metadata } from '../server/context.js'
import { CALLER_TOKEN_HEADER } from './auth.js'
import type { ServiceCredentials } from './credentials.js'
import { PLATFORM_SERVICE } from './rule-store.js'

/** Platform endpoints called without a token: how a token is obtained in the first place. */
const TOKEN_ENDPOINTS: ReadonlySet<string> = new Set(['Auth.Login', 'Auth.Token', 'Auth.PublicKeys'])

/** The token of a `Bearer` value, or undefined. */
function bearerOf(value: string | undefined): string | undefined {
  return value !== undefined && value.length > 7 && value.slice(0, 7).toLowerCase() === 'bearer '
    ? value.slice(7)
    : undefined
}

/**
 * The metadata that makes a call carry this service's identity: `authorization: Bearer <token>`
 * (its own token), and, when calling from inside a handler, the original caller's token as
 * `micro-caller-token` (a JWT the callee verifies, so it cannot be forged).
 */
export function identityMetadata(token: string, context: Metadata | undefined): Record<string, string> {
  const metadata: Record<string, string> = { authorization: `Bearer ${token}` }
  const original = context?.[CALLER_TOKEN_HEADER] ?? bearerOf(context?.authorization)
  if (original !== undefined && original !== token) metadata[CALLER_TOKEN_HEADER] = original
  return metadata
}

function withIdentity(
  request: ClientRequest,
  token: string,
  shared: Map<string, Readonly<CallOptions>>,
): ClientRequest {
  const options = request.options
  // Metadata the caller set explicitly wins.
  if (options.metadata?.authorization !== undefined) return request
  if (options.metadata === undefined && options.context === undefined) {
    // The common call: one options object per token, shared.
    let cached = shared.get(token)
    if (cached === undefined) {
      shared.clear()
      cached = Object.freeze({ metadata: Object.freeze({ authorization: `Bearer ${token}` }) })
      shared.set(token, cached)
    }
    const plain = Object.keys(options).length === 0
    return {
      ...request,
      options: plain ? cached : { ...options, metadata: cached.metadata as Record<string, string> },
    }
  }
  const metadata = { ...options.metadata, ...identityMetadata(token, options.context?.metadata) }
  return { ...request, options: { ...options, metadata } }
}

/**
 * The client wrapper that sends this service's own token on every call (and the original
 * caller's as `micro-caller-token`). Without credentials it does nothing: the token of the
 * call being handled travels on as it came (Micro v3's behaviour). Streams do not pass
 * through client wrappers: give them `identityMetadata(await credentials.token(), ctx.metadata)`.
 */
export function authClientWrapper(credentials: ServiceCredentials | undefined): ClientWrapper {
  const shared = new Map<string, Readonly<CallOptions>>()
  return (next) => (request) => {
    if (credentials === undefined) return next(request)
    if (request.service === PLATFORM_SERVICE && TOKEN_ENDPOINTS.has(request.endpoint)) return next(request)
    const token = credentials.current()
    if (token !== undefined) return next(withIdentity(request, token, shared))
    return credentials.token().then((fresh) => next(withIdentity(request, fresh, shared)))
  }
}
