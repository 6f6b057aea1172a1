import type { IncomingMessage } from 'node:http'
import type { GatewayAuthorizer } from '../auth/gateway.js'
import { belongsTo, isPrivileged } from '../auth/rules.js'
import { forbidden, type MicroError, unauthorized } from '../errors/errors.js'
import type { ToolTarget } from './tools.js'

/** Who calls a tool: what the MCP request carried, and from where. */
export interface McpIdentity {
  /** `http` (Streamable HTTP) or `stdio`. */
  transport: 'http' | 'stdio'
  /** The `Authorization` header of the MCP HTTP request, as sent (`Bearer <token>`). */
  authorization?: string
  /** The HTTP peer's address. */
  address?: string
}

/** What the access check decided for one call. */
export type AccessDecision =
  | {
      ok: true
      /** `namespace/id` of the caller's account, when known. */
      account?: string
      /** False when the MCP server did not verify the token itself (the callee does). */
      verified: boolean
      /** Metadata to send with the call (the caller's bearer, for the service to verify again). */
      metadata: Record<string, string>
    }
  | { ok: false; error: MicroError; account?: string }

/** The per-tool access check: the auth rules and the endpoint's scopes for this caller. */
export interface ToolAccess {
  /**
   * Whether the request's token is acceptable at all (an HTTP 401 before any MCP message
   * when not): undefined when it is, else the 401 and its `WWW-Authenticate` header.
   */
  authenticate(identity: McpIdentity): Promise<{ error: MicroError; challenge: string } | undefined>
  /** May `identity` call `target` (its service, endpoint and scopes)? */
  check(identity: McpIdentity, target: ToolTarget, namespace: string): Promise<AccessDecision>
}

/** A stand-in request carrying only the Authorization header: no cookie, no `?token=`, on purpose. */
function requestOf(identity: McpIdentity): IncomingMessage {
  const headers = identity.authorization === undefined ? {} : { authorization: identity.authorization }
  return { url: '/mcp', headers, socket: { remoteAddress: identity.address } } as unknown as IncomingMessage
}

/**
 * Access through the gateway's authorizer (src/auth): the bearer token is verified locally,
 * the namespace's rules are applied to `service:<service>:<endpoint>`, and the endpoint's
 * scopes on top (even in open mode a scoped tool needs a token holding one). Only the
 * `Authorization` header counts: a cookie would let any web page the browser visits call
 * tools, and a token in a URL ends up in logs. In enforce mode a request without a token is
 * refused at once (401), since nothing is open to it anyway.
 */
export function authorizerAccess(authorizer: GatewayAuthorizer): ToolAccess {
  return {
    async authenticate(identity) {
      if (identity.authorization === undefined) {
        if (authorizer.mode !== 'enforce') return undefined
        return {
          error: unauthorized(
            'micro.mcp',
            'this MCP server needs a token: send Authorization: Bearer <token>',
          ),
          challenge: 'Bearer realm="micro"',
        }
      }
      // Any target does: a bad token is a 401 whatever it asks for; a refusal (403) is the tool's business.
      const probe = await authorizer.authorize(requestOf(identity), {
        service: 'mcp',
        endpoint: 'Mcp.Connect',
      })
      if (probe.ok || probe.error.code !== 401) return undefined
      return {
        error: probe.error,
        challenge: probe.headers['www-authenticate'] ?? 'Bearer realm="micro", error="invalid_token"',
      }
    },
    async check(identity, target, namespace) {
      const decision = await authorizer.authorize(requestOf(identity), { ...target, namespace })
      if (!decision.ok) {
        // A 403 comes only after the token verified, so its claims name the caller.
        const token = identity.authorization?.replace(/^bearer\s+/i, '')
        const account = decision.error.code === 403 && token ? unverifiedAccount(token) : undefined
        return account === undefined
          ? { ok: false, error: decision.error }
          : { ok: false, error: decision.error, account }
      }
      const caller = decision.caller?.account
      const account = caller ? `${caller.issuer}/${caller.id}` : undefined
      if (target.admin && !(caller && isPrivileged(caller) && belongsTo(caller, namespace)))
        return {
          ok: false,
          account,
          error: forbidden(
            'micro.mcp',
            `${target.service} ${target.endpoint} is for the platform's administrators`,
          ),
        }
      return { ok: true, account, verified: true, metadata: decision.metadata }
    },
  }
}

/**
 * Access for a server that cannot verify tokens itself (stdio: the CLI's own login): every
 * call is let through with the caller's token, and the platform's proxy or the service
 * applies the rules and scopes (a refusal comes back as the call's 401/403). The account is
 * read from the token unverified, for the audit only.
 */
export function forwardedAccess(token: () => Promise<string | undefined>): ToolAccess {
  return {
    authenticate: async () => undefined,
    async check() {
      const value = await token()
      return {
        ok: true,
        account: value ? unverifiedAccount(value) : undefined,
        verified: false,
        metadata: {},
      }
    },
  }
}

/** `iss/sub` of a JWT, read without verifying it; undefined when it is not one. */
export function unverifiedAccount(token: string): string | undefined {
  const payload = token.split('.')[1]
  if (payload === undefined) return undefined
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
    if (typeof claims.sub !== 'string') return undefined
    return typeof claims.iss === 'string' ? `${claims.iss}/${claims.sub}` : claims.sub
  } catch {
    return undefined
  }
}

/**
 * No verification at all (the default when no access is configured): tools that need no
 * scope are let through with the caller's bearer passed on, so a service with auth on still
 * decides; a tool that needs a scope is refused, since nothing here can prove the caller
 * holds it (the platform and developer tools need `admin`).
 */
export const openAccess: ToolAccess = {
  authenticate: async () => undefined,
  async check(identity, target) {
    if (target.scopes.length > 0 || target.admin)
      return {
        ok: false,
        error: forbidden(
          'micro.mcp',
          `${target.service} ${target.endpoint} needs one of the scopes ${target.scopes.join(', ')}, and this MCP server verifies no tokens`,
        ),
      }
    const metadata: Record<string, string> = {}
    if (identity.authorization !== undefined) metadata.authorization = identity.authorization
    return { ok: true, verified: false, metadata }
  },
}
