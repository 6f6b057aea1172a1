import { badRequest, forbidden } from '../errors/errors.js'
import type { Context } from '../server/context.js'
import { type Account, type AccountType, AUTH_ERROR_ID, type Rule } from './auth.js'
import type { Authority } from './authority.js'
import { authorizeCall, callerOf } from './call-auth.js'
import { Auth } from './handler-auth.js'
import { PLATFORM_NAMESPACE } from './rules.js'
import { verifySecret } from './secrets.js'

function namespaceOf(req: { namespace?: unknown } | undefined): string {
  const namespace = req?.namespace ?? PLATFORM_NAMESPACE
  if (typeof namespace !== 'string') throw badRequest(AUTH_ERROR_ID, 'namespace must be a string')
  return namespace
}

/** `Accounts.*` on the platform service: admins of a namespace manage its accounts. */
export class Accounts {
  readonly #authority: Authority

  constructor(authority: Authority) {
    this.#authority = authority
  }

  /**
   * `{ namespace?, id, type?, scopes?, metadata?, secret? }` → `{ account, secret? }`: the
   * generated secret (when none was given) is in this answer only.
   */
  async Create(
    req: {
      namespace?: string
      id?: string
      type?: AccountType
      scopes?: string[]
      metadata?: Record<string, string>
      secret?: string
    },
    ctx: Context,
  ): Promise<{ account: Account; secret?: string }> {
    const namespace = namespaceOf(req)
    authorizeCall(ctx, namespace, { admin: true })
    return this.#authority.accounts.create({
      namespace,
      id: req?.id as string,
      type: req?.type,
      scopes: req?.scopes,
      metadata: req?.metadata,
      secret: req?.secret,
    })
  }

  /** `{ namespace? }` → `{ accounts }` (never secrets). */
  async List(req: { namespace?: string }, ctx: Context): Promise<{ accounts: Account[] }> {
    const namespace = namespaceOf(req)
    authorizeCall(ctx, namespace, { admin: true })
    return { accounts: await this.#authority.accounts.list(namespace) }
  }

  /** `{ namespace?, id }` → `{ account }`: deleted, and every token it had revoked. */
  async Delete(req: { namespace?: string; id?: string }, ctx: Context): Promise<{ account: Account }> {
    const namespace = namespaceOf(req)
    authorizeCall(ctx, namespace, { admin: true })
    return { account: await this.#authority.deleteAccount(namespace, req?.id as string) }
  }

  /**
   * `{ namespace?, id, secret, oldSecret? }`: an account changes its own secret (giving the
   * old one when it has one), or an admin of the namespace changes anyone's. Its logins are
   * revoked.
   */
  async ChangeSecret(
    req: { namespace?: string; id?: string; secret?: string; oldSecret?: string },
    ctx: Context,
  ): Promise<Record<string, never>> {
    const namespace = namespaceOf(req)
    const id = req?.id
    const caller = callerOf(ctx)
    if (caller && caller.id === id && caller.issuer === namespace) {
      const stored = await this.#authority.accounts.get(namespace, id)
      if (stored?.secret && !(await verifySecret(String(req?.oldSecret ?? ''), stored.secret))) {
        throw forbidden(AUTH_ERROR_ID, 'the old secret is wrong')
      }
    } else {
      authorizeCall(ctx, namespace, { admin: true })
    }
    await this.#authority.changeSecret(namespace, id as string, req?.secret as string)
    return {}
  }
}

/** `Rules.*` on the platform service: admins manage a namespace's rules; services read them to enforce. */
export class Rules {
  readonly #authority: Authority

  constructor(authority: Authority) {
    this.#authority = authority
  }

  /** `{ namespace?, rule }` (rule: `{ id, scope, resource, access?, priority? }`; resource as `type:name:endpoint` or an object) → `{ rule }`. */
  async Create(req: { namespace?: string; rule?: unknown }, ctx: Context): Promise<{ rule: Rule }> {
    const namespace = namespaceOf(req)
    authorizeCall(ctx, namespace, { admin: true })
    return { rule: await this.#authority.rules.create(namespace, req?.rule) }
  }

  /** `{ namespace? }` → `{ rules }`, highest priority first. Admins and services of the namespace. */
  async List(req: { namespace?: string }, ctx: Context): Promise<{ rules: Rule[] }> {
    const namespace = namespaceOf(req)
    authorizeCall(ctx, namespace, { admin: true })
    return { rules: await this.#authority.rules.list(namespace) }
  }

  /** `{ namespace?, id }` */
  async Delete(req: { namespace?: string; id?: string }, ctx: Context): Promise<Record<string, never>> {
    const namespace = namespaceOf(req)
    authorizeCall(ctx, namespace, { admin: true })
    if (typeof req?.id !== 'string') throw badRequest(AUTH_ERROR_ID, 'id is required')
    await this.#authority.rules.delete(namespace, req.id)
    return {}
  }
}

/**
 * The handler objects of auth for the platform service: `service.handle(...authHandlers(authority))`
 * would not work (handle takes one), so register each: `for (const h of authHandlers(a)) service.handle(h)`.
 */
export function authHandlers(authority: Authority): object[] {
  return [new Auth(authority), new Accounts(authority), new Rules(authority)]
}
