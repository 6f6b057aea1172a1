import { badRequest } from '../errors/errors.js'
import type { HandlerWrapper } from '../server/wrappers.js'
import { AUTH_ERROR_ID, type Authenticator } from './auth.js'
import type { Authority } from './authority.js'
import { PLATFORM_NAMESPACE } from './rules.js'
import { authWrapper } from './server-wrapper.js'

/** Options of {@link platformAuthWrapper}. */
export interface PlatformAuthOptions {
  /** The scopes a service's endpoint declares (registry endpoint metadata `scopes`), for Proxy.* calls. */
  scopesOf?: (service: string, endpoint: string, namespace: string) => Promise<readonly string[] | undefined>
  /** More ways to establish a caller (client certificates). */
  authenticators?: readonly Authenticator[]
}

const PROXY_ENDPOINTS: ReadonlySet<string> = new Set(['Proxy.Call', 'Proxy.Stream'])

/** A stream's first message, and the stream again with it in front. */
async function peekFirst(input: AsyncIterable<unknown>): Promise<[unknown, AsyncIterable<unknown>]> {
  const iterator = input[Symbol.asyncIterator]()
  const first = await iterator.next()
  async function* replay(): AsyncGenerator<unknown> {
    try {
      if (first.done) return
      yield first.value
      for (;;) {
        const next = await iterator.next()
        if (next.done) return
        yield next.value
      }
    } finally {
      await iterator.return?.()
    }
  }
  return [first.done ? undefined : first.value, replay()]
}

/**
 * The auth wrapper of the `platform` service. Its calls act on a namespace named in the
 * body (streams: in the first message), so that namespace's rules apply, to
 * `service:platform:<Endpoint>`; `Proxy.Call`/`Proxy.Stream` are checked as the call they
 * forward, `service:<service>:<endpoint>` in the body's namespace with the target
 * endpoint's declared scopes: the identity-aware proxy. A body without a namespace is
 * checked in `micro`. Handlers then check namespace access with `authorizeCall`.
 */
export function platformAuthWrapper(authority: Authority, options: PlatformAuthOptions = {}): HandlerWrapper {
  return authWrapper({
    verifier: authority.verifier,
    rules: authority.rules,
    namespace: PLATFORM_NAMESPACE,
    mode: authority.mode,
    authenticators: options.authenticators,
    target: async (req, ctx, info) => {
      let request = req
      let body = req
      if (info.stream) [body, request] = await peekFirst(req as AsyncIterable<unknown>)
      const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
      const named =
        typeof fields.namespace === 'string' && fields.namespace !== ''
          ? fields.namespace
          : (ctx.metadata['micro-namespace'] ?? PLATFORM_NAMESPACE)
      // Every namespace at once (registry lists and watches of `*`) is checked as `micro`'s.
      const namespace = named === '*' ? PLATFORM_NAMESPACE : named
      if (!PROXY_ENDPOINTS.has(info.name)) {
        return {
          resource: { type: 'service', name: info.service, endpoint: info.name },
          namespace,
          scopes: info.scopes,
          request,
        }
      }
      const { service, endpoint } = fields
      if (typeof service !== 'string' || service === '' || typeof endpoint !== 'string' || endpoint === '') {
        throw badRequest(AUTH_ERROR_ID, `${info.name} needs the service and endpoint to call`)
      }
      const scopes = await options.scopesOf?.(service, endpoint, namespace)
      return { resource: { type: 'service', name: service, endpoint }, namespace, scopes, request }
    },
  })
}
