import type { IncomingMessage } from 'node:http'
import { MicroError, unauthorized } from '../errors/errors.js'
import { AUTH_ERROR_ID, type AuthMode, type Caller, type Decision, type Resource } from './auth.js'
import type { Authority } from './authority.js'
import { decide, decideCached, type RuleSource, refusal } from './policy.js'
import { formatResource, PLATFORM_NAMESPACE } from './rules.js'
import type { VerifiedToken } from './token-cache.js'
import type { TokenVerifier } from './verifier.js'

/** The cookie names a browser's token may come in (Go Micro 6's and Micro v3's). */
export const TOKEN_COOKIES = ['micro_token', 'micro-token'] as const

/** What a gateway request calls: the RPC resource `service:<service>:<endpoint>`, as Micro v3's resolver gives it. */
export interface GatewayTarget {
  service: string
  endpoint: string
  /**
   * The namespace the request names: its rules apply, and a token of another namespace
   * is held to them (refused unless the rule is public or `+`, or the token is a `micro`
   * admin's or service's). When absent: the verified token's namespace (its issuer), else
   * `defaultNamespace`.
   */
  namespace?: string
  /** The namespace of a request that names none and carries no token. Default `micro`. */
  defaultNamespace?: string
  /** Scopes the endpoint declares (registry endpoint metadata `scopes`). */
  scopes?: readonly string[]
}

/** What the gateway does with a request: forward it (with the caller and the metadata to send), or answer it with a 401 or 403. */
export type GatewayDecision =
  | {
      ok: true
      caller: Caller | undefined
      /** Metadata to send with the call, so the service can verify the caller itself. */
      metadata: Record<string, string>
      /** The namespace whose rules let the request in: the one it named, else the token's, else the default. */
      namespace: string
    }
  | {
      ok: false
      /** A 401 or 403: answer with its status and `error.toJSON()`. */
      error: MicroError
      /** Headers for the answer (`www-authenticate` on a 401). */
      headers: Record<string, string>
    }

/** The gateway's auth hook: one call per request, answered from memory for a known token. */
export interface GatewayAuthorizer {
  readonly mode: AuthMode
  /** Decide on an HTTP request to `target`: forward (with the caller) or refuse. */
  authorize(req: IncomingMessage, target: GatewayTarget): Promise<GatewayDecision>
}

/** A request's token: `Authorization: Bearer`, then `?token=` (SSE, WebSocket), then the token cookie. */
export function tokenFromRequest(req: IncomingMessage): { token: string; key: string } | undefined {
  const header = req.headers.authorization
  if (header !== undefined) {
    if (header.length > 7 && header.slice(0, 7).toLowerCase() === 'bearer ')
      return { token: header.slice(7).trim(), key: header }
    throw unauthorized(AUTH_ERROR_ID, 'the Authorization header must be "Bearer <token>"')
  }
  const url = req.url ?? ''
  const query = url.indexOf('?')
  if (query >= 0) {
    const token = new URLSearchParams(url.slice(query + 1)).get('token')
    if (token) return { token, key: token }
  }
  const cookies = req.headers.cookie
  if (cookies) {
    for (const part of cookies.split(';')) {
      const eq = part.indexOf('=')
      const name = part.slice(0, eq).trim()
      if (eq > 0 && (TOKEN_COOKIES as readonly string[]).includes(name)) {
        const token = decodeURIComponent(part.slice(eq + 1).trim())
        if (token) return { token, key: token }
      }
    }
  }
  return undefined
}

function denied(error: MicroError, hadToken: boolean): GatewayDecision {
  const headers: Record<string, string> = {}
  if (error.code === 401) {
    headers['www-authenticate'] = hadToken
      ? 'Bearer realm="micro", error="invalid_token"'
      : 'Bearer realm="micro"'
  }
  return { ok: false, error, headers }
}

/** No metadata to forward (an anonymous caller): shared, so it is frozen. */
const NO_METADATA: Record<string, string> = Object.freeze({}) as Record<string, string>

/**
 * A gateway authorizer: takes the token from the request, verifies it locally (cached),
 * applies the rules of the request's namespace (the one it names, else the token's issuer,
 * else the default) to `service:<service>:<endpoint>` and the endpoint's declared scopes,
 * as the platform port does for `Proxy.Call`, and answers the caller, the namespace and
 * the metadata to forward, or a 401/403 with the error JSON. In open mode a request
 * without a token passes (unless the endpoint declares scopes); one with a token must
 * carry a valid one. Tokens never appear in its errors.
 */
export function gatewayAuthorizer(options: {
  verifier: TokenVerifier
  rules: RuleSource
  mode: AuthMode
}): GatewayAuthorizer {
  const { verifier, rules, mode } = options
  return {
    mode,
    async authorize(req, target) {
      let found: { token: string; key: string } | undefined
      try {
        found = tokenFromRequest(req)
      } catch (error) {
        return denied(error as MicroError, true)
      }
      const resource: Resource = { type: 'service', name: target.service, endpoint: target.endpoint }
      let entry: VerifiedToken | undefined
      let namespace: string
      try {
        entry = found && (verifier.peek(found.key) ?? (await verifier.verify(found.token, found.key)))
        namespace =
          target.namespace ?? entry?.caller.account.issuer ?? target.defaultNamespace ?? PLATFORM_NAMESPACE
        const set = rules.peek(namespace) ?? (await rules.ruleSet(namespace))
        const compute = (account: Parameters<typeof decide>[2]) =>
          decide(mode, set, account, resource, namespace, target.scopes)
        const decision: Decision = entry
          ? decideCached(
              entry,
              rules.revision,
              `${namespace}\0${formatResource(resource)}\0${target.scopes?.join(',') ?? ''}`,
              compute,
            )
          : compute(undefined)
        if (!decision.allowed)
          return denied(refusal(decision, entry?.caller, `${target.service} ${target.endpoint}`), false)
      } catch (error) {
        return denied(MicroError.from(error, AUTH_ERROR_ID), found !== undefined)
      }
      if (!entry || !found) return { ok: true, caller: undefined, metadata: NO_METADATA, namespace }
      return {
        ok: true,
        caller: entry.caller,
        metadata: { authorization: `Bearer ${found.token}` },
        namespace,
      }
    },
  }
}

/** The gateway authorizer of the platform server: its verifier, its rules, its mode. */
export function authorityGatewayAuthorizer(authority: Authority): GatewayAuthorizer {
  return gatewayAuthorizer({ verifier: authority.verifier, rules: authority.rules, mode: authority.mode })
}
