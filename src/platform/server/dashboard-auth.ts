import { randomUUID } from 'node:crypto'
import type { Account as AuthAccount } from '../../auth/auth.js'
import type { Authority } from '../../auth/authority.js'
import { authorizeNamespace } from '../../auth/call-auth.js'
import { decide, refusal } from '../../auth/policy.js'
import { bearerToken } from '../../auth/server-wrapper.js'
import type { DashboardAuth } from '../../dashboard/api/auth.js'
import type { Identity, TokenInfo } from '../../dashboard/api/types.js'
import type { AuthSource, CallSource } from '../../dashboard/sources.js'
import { forbidden, notFound } from '../../errors/errors.js'
import type { ScopesOf } from './gateway-auth.js'

/** Routes whose data spans every namespace (traces come from all services): `micro`'s. */
const PLATFORM_WIDE = ['/traces', '/metrics', '/topology', '/errors']
/** Routes that read or change what only a namespace's admins may (Micro v3: store, config, auth management). */
const ADMIN_ONLY = ['/store', '/config', '/auth']

/**
 * The dashboard's auth over the platform's {@link Authority}: the same tokens and rules as
 * the gateway and the platform port. `verify` accepts the platform's access tokens (the
 * `micro_token` cookie or a bearer); `login` takes an account of the dashboard's namespace.
 * `authorize` holds every route to Micro v3's namespace rule (data of a namespace for its
 * accounts, store/config/auth pages and runtime or event changes for its admins); the
 * explorer's calls go through {@link guardCalls}.
 */
export class DashboardAuthority implements DashboardAuth, AuthSource {
  readonly #authority: Authority
  readonly #namespace: string
  readonly #scopesOf: ScopesOf
  readonly #accounts = new WeakMap<Identity, AuthAccount>()
  /** Tokens issued from the dashboard since the server started (the text is never kept). */
  readonly #issued = new Map<string, TokenInfo & { namespace: string; refreshToken: string }>()

  constructor(authority: Authority, options: { namespace: string; scopesOf: ScopesOf }) {
    this.#authority = authority
    this.#namespace = options.namespace
    this.#scopesOf = options.scopesOf
  }

  async verify(token: string): Promise<Identity | undefined> {
    let account: AuthAccount
    try {
      account = (await this.#authority.verifier.verify(token)).caller.account
    } catch {
      return undefined
    }
    const identity: Identity = {
      id: account.issuer === this.#namespace ? account.id : `${account.issuer}/${account.id}`,
      admin: account.type === 'user' ? account.scopes.includes('admin') : account.scopes.includes('service'),
      scopes: [...account.scopes],
    }
    this.#accounts.set(identity, account)
    return identity
  }

  async login(id: string, secret: string): Promise<{ token: string; expires: number } | undefined> {
    try {
      const { token } = await this.#authority.login(this.#namespace, id, secret, 'dashboard')
      return { token: token.accessToken, expires: token.expiry }
    } catch {
      return undefined
    }
  }

  authorize(identity: Identity, namespace: string, route: { path: string; mutates: boolean }): void {
    const account = this.#accounts.get(identity)
    if (account === undefined) throw forbidden('micro.dashboard', 'this login is not a platform account')
    const path = route.path
    if (PLATFORM_WIDE.some((p) => path.startsWith(p))) {
      authorizeNamespace(account, 'micro')
      return
    }
    const admin =
      ADMIN_ONLY.some((p) => path.startsWith(p)) ||
      (route.mutates && (path.startsWith('/runtime') || path.startsWith('/events')))
    authorizeNamespace(account, namespace, { admin })
  }

  /**
   * The explorer's calls held to the rules, as the gateway holds them: the caller's token
   * (which the dashboard puts in the call's metadata) against `service:<name>:<endpoint>`
   * in the call's namespace, with the endpoint's scopes; a call to a node's address is
   * for admins only (it skips the registry).
   */
  guardCalls(client: CallSource): CallSource {
    const check = async (
      service: string,
      endpoint: string,
      metadata: Record<string, string> | undefined,
      namespace: string | undefined,
      address: unknown,
    ) => {
      const header = metadata?.authorization
      const account =
        header === undefined
          ? undefined
          : (await this.#authority.verifier.verify(bearerToken(header))).caller.account
      const ns = namespace ?? this.#namespace
      const resource = { type: 'service', name: service, endpoint }
      const rules = await this.#authority.rules.ruleSet(ns)
      const decision = decide(
        this.#authority.mode,
        rules,
        account,
        resource,
        ns,
        await this.#scopesOf(service, endpoint, ns),
      )
      const caller = account === undefined ? undefined : { account, via: 'token' as const, expiresAt: 0 }
      if (!decision.allowed) throw refusal(decision, caller, `${service} ${endpoint}`)
      if (address !== undefined && this.#authority.mode === 'enforce' && !(account && isAdmin(account)))
        throw forbidden('micro.dashboard', 'calling a node by its address is for admins')
    }
    return {
      async call(service, endpoint, request, options) {
        await check(service, endpoint, options.metadata, options.namespace, options.address)
        return client.call(service, endpoint, request, options)
      },
      stream(service, endpoint, options) {
        const checked = check(service, endpoint, options.metadata, options.namespace, options.address)
        return deferredStream(checked, () => client.stream(service, endpoint, options))
      },
    }
  }

  async accounts(namespace: string) {
    return (await this.#authority.accounts.list(namespace)).map((a) => ({
      id: a.id,
      type: a.type,
      scopes: [...a.scopes],
      metadata: { ...a.metadata },
    }))
  }

  async tokens(namespace: string): Promise<TokenInfo[]> {
    const now = Date.now()
    return [...this.#issued.values()]
      .filter((t) => t.namespace === namespace && (t.expires === undefined || t.expires > now))
      .map(({ namespace: _n, refreshToken: _r, ...info }) => info)
  }

  async issueToken(
    namespace: string,
    request: { account: string; scopes: string[]; ttl?: number; description?: string },
  ) {
    const stored = await this.#authority.accounts.get(namespace, request.account)
    if (!stored) throw notFound('micro.dashboard', `no account ${request.account} in namespace ${namespace}`)
    const { uid, id, type, issuer, scopes, metadata } = stored
    const pair = await this.#authority.issue({ uid, id, type, issuer, scopes, metadata })
    // An access token carries its account's scopes and lives as long as the platform's do.
    const info: TokenInfo = {
      id: randomUUID(),
      account: id,
      scopes: [...scopes],
      created: Date.now(),
      expires: pair.expiry,
    }
    if (request.description) info.description = request.description
    this.#issued.set(info.id, { ...info, namespace, refreshToken: pair.refreshToken })
    return { token: pair.accessToken, info }
  }

  async revokeToken(namespace: string, id: string): Promise<void> {
    const issued = this.#issued.get(id)
    if (!issued || issued.namespace !== namespace) throw notFound('micro.dashboard', `no token ${id}`)
    this.#issued.delete(id)
    await this.#authority.logout(issued.refreshToken)
  }

  async rules(namespace: string) {
    return (await this.#authority.rules.list(namespace)).map((rule) => ({
      ...rule,
      resource: { ...rule.resource },
    }))
  }

  async check(namespace: string, request: { account: string; service: string; endpoint: string }) {
    const decision = await this.#authority.check(
      namespace,
      request.account,
      { type: 'service', name: request.service, endpoint: request.endpoint },
      namespace,
    )
    return decision.rule
      ? { allowed: decision.allowed, rule: decision.rule, reason: decision.reason }
      : { allowed: decision.allowed, reason: decision.reason }
  }
}

function isAdmin(account: AuthAccount): boolean {
  return (
    account.issuer === 'micro' &&
    (account.type === 'user' ? account.scopes.includes('admin') : account.scopes.includes('service'))
  )
}

type Stream = ReturnType<CallSource['stream']>

/** A stream opened once `ready` resolves; a refusal surfaces through send and iteration. */
function deferredStream(ready: Promise<void>, open: () => Stream): Stream {
  const opened = ready.then(open)
  opened.catch(() => undefined)
  return {
    async send(message) {
      await (await opened).send(message)
    },
    async closeSend() {
      await (await opened).closeSend()
    },
    cancel(detail) {
      opened.then((s) => s.cancel(detail)).catch(() => undefined)
    },
    async *[Symbol.asyncIterator]() {
      yield* await opened
    },
  }
}
