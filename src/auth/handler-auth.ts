import { badRequest, forbidden, unauthorized } from '../errors/errors.js'
import type { Context } from '../server/context.js'
import { type Account, AUTH_ERROR_ID, type Decision } from './auth.js'
import type { Authority, LoginResult } from './authority.js'
import { authorizeCall, callerOf } from './call-auth.js'
import type { KeySet } from './key-source.js'
import { belongsTo, PLATFORM_NAMESPACE, parseResource } from './rules.js'

/** The address a login comes from, for its rate limit: the socket's host, or what the in-process gateway says. */
export function sourceOf(ctx: Context): string {
  if (ctx.protocol === 'local') {
    // Only an in-process caller (the gateway in the server process) can say who it serves.
    return ctx.metadata['x-forwarded-for']?.split(',')[0]?.trim() || 'local'
  }
  const remote = ctx.remote ?? 'unknown'
  const colon = remote.lastIndexOf(':')
  return colon > 0 ? remote.slice(0, colon) : remote
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw badRequest(AUTH_ERROR_ID, `${what} is required`)
  return value
}

/**
 * `Auth.*` on the platform service: log in (id and secret, or the one-time admin token),
 * refresh, log out, inspect, the public keys, the policy check and key rotation.
 */
export class Auth {
  readonly #authority: Authority

  constructor(authority: Authority) {
    this.#authority = authority
  }

  /** `{ namespace?, id, secret }` or `{ token }` (the one-time admin token) → `{ token, account }`. Public. */
  async Login(
    req: { namespace?: string; id?: string; secret?: string; token?: string },
    ctx: Context,
  ): Promise<LoginResult> {
    const body = req ?? {}
    if (body.token !== undefined)
      return this.#authority.loginWithBootstrap(text(body.token, 'token'), sourceOf(ctx))
    return this.#authority.login(
      body.namespace ?? PLATFORM_NAMESPACE,
      text(body.id, 'id'),
      text(body.secret, 'secret'),
      sourceOf(ctx),
    )
  }

  /** `{ refreshToken }` → a new `{ token, account }`; the refresh token is spent. Public. */
  Token(req: { refreshToken?: string }): Promise<LoginResult> {
    return this.#authority.refresh(text(req?.refreshToken, 'refreshToken'))
  }

  /** `{ refreshToken }`: revoke that login. Public (it only revokes what its holder has). */
  async Logout(req: { refreshToken?: string }): Promise<Record<string, never>> {
    await this.#authority.logout(text(req?.refreshToken, 'refreshToken'))
    return {}
  }

  /** `{ token? }` → the account a token (default: the caller's) stands for, verified. */
  async Inspect(req: { token?: string }, ctx: Context): Promise<{ account: Account }> {
    if (req?.token !== undefined) {
      return { account: (await this.#authority.verifier.caller(text(req.token, 'token'))).account }
    }
    const account = callerOf(ctx)
    if (account === undefined) throw unauthorized(AUTH_ERROR_ID, 'send a token to inspect')
    return { account }
  }

  /** The JWKS keys and revoked accounts, for verifiers. Public. */
  PublicKeys(): KeySet {
    return this.#authority.publicKeys()
  }

  /**
   * `{ namespace?, account, accountNamespace?, service, endpoint }` or with `resource`
   * (`type:name:endpoint`) → `{ allowed, rule?, reason }`: may the account call it, and by
   * which rule. Needs admin of the namespace (or to ask about oneself).
   */
  async Check(
    req: {
      namespace?: string
      account?: string
      accountNamespace?: string
      service?: string
      endpoint?: string
      resource?: string
    },
    ctx: Context,
  ): Promise<Decision> {
    const namespace = req?.namespace ?? PLATFORM_NAMESPACE
    const accountNamespace = req?.accountNamespace ?? namespace
    const id = text(req?.account, 'account')
    const caller = callerOf(ctx)
    // Anyone may ask about themselves in a namespace they belong to; else it takes its admin.
    const self =
      caller !== undefined &&
      caller.id === id &&
      caller.issuer === accountNamespace &&
      belongsTo(caller, namespace)
    if (!self) authorizeCall(ctx, namespace, { admin: true })
    const resource = req.resource
      ? parseResource(req.resource)
      : { type: 'service', name: text(req.service, 'service'), endpoint: text(req.endpoint, 'endpoint') }
    return this.#authority.check(accountNamespace, id, resource, namespace)
  }

  /** Start signing with a new key (old tokens stay valid until they expire) → `{ kid }`. `micro` admins only. */
  async Rotate(_req: unknown, ctx: Context): Promise<{ kid: string }> {
    const account = authorizeCall(ctx, PLATFORM_NAMESPACE, { admin: true })
    if (account !== undefined && account.type !== 'user')
      throw forbidden(AUTH_ERROR_ID, 'only a micro admin rotates the keys')
    return { kid: await this.#authority.rotateKeys() }
  }
}
