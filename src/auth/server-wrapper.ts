import { unauthorized } from '../errors/errors.js'
import type { Context } from '../server/context.js'
import type { HandlerFn } from '../server/handlers.js'
import type { EndpointInfo, HandlerWrapper } from '../server/wrappers.js'
import {
  AUTH_ERROR_ID,
  type Authenticator,
  type AuthMode,
  CALLER_TOKEN_HEADER,
  type Caller,
  type Resource,
} from './auth.js'
import { AuthorizedContext, trustedMetadata } from './call-auth.js'
import { decide, decideCached, type RuleSource, refusal } from './policy.js'
import { formatResource } from './rules.js'
import type { TokenVerifier } from './verifier.js'

/** What a call is checked against when it is not simply this service's endpoint. */
export interface CallTarget {
  resource: Resource
  /** Whose rules apply. */
  namespace: string
  /** Scopes the target endpoint declares. */
  scopes?: readonly string[]
  /** The request to hand on instead (a stream whose first message was read to find the target). */
  request?: unknown
}

/** Options of {@link authWrapper}: how a service verifies tokens and where its rules come from. */
export interface AuthWrapperOptions {
  verifier: TokenVerifier
  rules: RuleSource
  /** The namespace whose rules apply: the service's own. */
  namespace: string
  /** `enforce` (default): no token, no call, unless a rule is public. `open`: anonymous callers pass. */
  mode?: AuthMode
  /** Other ways to establish the caller when no token was sent (client certificates). */
  authenticators?: readonly Authenticator[]
  /**
   * For a service whose calls act on something else (the platform: a namespace in the
   * body, Proxy.* calling another service): what to check instead of
   * `service:<this service>:<endpoint>` in the service's namespace. Undefined: the default.
   */
  target?: (
    req: unknown,
    ctx: Context,
    endpoint: EndpointInfo,
  ) => CallTarget | undefined | Promise<CallTarget | undefined>
}

/** `Bearer <token>` (scheme case-insensitive) to the token; anything else is a 401. */
export function bearerToken(header: string): string {
  if (header.length > 7 && header.charCodeAt(6) === 32 && header.slice(0, 6).toLowerCase() === 'bearer') {
    return header.slice(7).trim()
  }
  throw unauthorized(AUTH_ERROR_ID, 'the authorization metadata must be "Bearer <token>"')
}

/**
 * The server wrapper that enforces auth on every endpoint, unary and streaming, in-process
 * and remote: establishes the caller (the `authorization: Bearer` token, verified locally;
 * else the other authenticators), applies the rules to `service:<name>:<Endpoint>` and the
 * endpoint's declared scopes, and answers 401 (no or bad credentials) or 403 (not allowed).
 * The handler sees metadata a client could forge only when it was verified; `callerOf(ctx)`
 * gives the caller, `callAuthOf(ctx).onBehalfOf` the original caller of a service's call.
 *
 * A known token on a plain endpoint costs two map lookups: the verified token and its
 * cached decision.
 */
export function authWrapper(options: AuthWrapperOptions): HandlerWrapper {
  const { verifier, rules, target } = options
  const mode = options.mode ?? 'enforce'
  const authenticators = options.authenticators ?? []

  async function authenticate(ctx: Context): Promise<Caller | undefined> {
    const header = ctx.metadata.authorization
    if (header !== undefined) return (await verifier.verify(bearerToken(header), header)).caller
    for (const authenticator of authenticators) {
      const caller = await authenticator.authenticate(ctx.metadata, ctx)
      if (caller !== undefined) return caller
    }
    return undefined
  }

  /** The original caller a service calls for: trusted only when signed, and sent by a service. */
  async function forwarded(ctx: Context, caller: Caller | undefined): Promise<Caller | undefined> {
    const token = ctx.metadata[CALLER_TOKEN_HEADER]
    if (token === undefined || caller?.account.type !== 'service') return undefined
    try {
      return await verifier.caller(token)
    } catch {
      return undefined
    }
  }

  function admit(ctx: Context, caller: Caller | undefined, onBehalfOf: Caller | undefined): Context {
    const metadata = trustedMetadata(ctx.metadata, caller, onBehalfOf !== undefined)
    return new AuthorizedContext(ctx, metadata, mode, caller, onBehalfOf)
  }

  return (next: HandlerFn, info: EndpointInfo): HandlerFn => {
    const own: Resource = { type: 'service', name: info.service, endpoint: info.name }
    const ownKey = `${options.namespace}\0${formatResource(own)}`
    const what = (resource: Resource) => `${resource.name} ${resource.endpoint}`

    async function checked(req: unknown, ctx: Context): Promise<unknown> {
      const to = target ? await target(req, ctx, info) : undefined
      const resource = to?.resource ?? own
      const namespace = to?.namespace ?? options.namespace
      const scopes = to ? to.scopes : info.scopes
      const caller = await authenticate(ctx)
      const onBehalfOf = await forwarded(ctx, caller)
      const decision = decide(
        mode,
        await rules.ruleSet(namespace),
        caller?.account,
        resource,
        namespace,
        scopes,
      )
      if (!decision.allowed) throw refusal(decision, caller, what(resource))
      return next(to && 'request' in to ? to.request : req, admit(ctx, caller, onBehalfOf))
    }

    if (target) return checked
    return (req, ctx) => {
      // The hot path: a token verified before, calling this endpoint again.
      const metadata = ctx.metadata
      const header = metadata.authorization
      if (header === undefined || metadata[CALLER_TOKEN_HEADER] !== undefined) return checked(req, ctx)
      const entry = verifier.peek(header)
      const set = rules.peek(options.namespace)
      if (entry === undefined || set === undefined) return checked(req, ctx)
      const decision = decideCached(entry, rules.revision, ownKey, (account) =>
        decide(mode, set, account, own, options.namespace, info.scopes),
      )
      if (!decision.allowed) throw refusal(decision, entry.caller, what(own))
      return next(req, admit(ctx, entry.caller, undefined))
    }
  }
}
