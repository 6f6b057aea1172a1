import { join } from 'node:path'
import { lmdbDirectory } from '../engines/lmdb.js'
import { newError, notFound, unauthorized } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import type { Store } from '../store/store.js'
import { AccountStore, checkNamespace, publicAccount } from './accounts.js'
import {
  type Account,
  AUTH_ERROR_ID,
  type AuthMode,
  type Decision,
  type Resource,
  type TokenPair,
} from './auth.js'
import { KeyEncryption } from './key-encryption.js'
import type { KeySet } from './key-source.js'
import { KeyRing } from './keys.js'
import { decide } from './policy.js'
import { DEFAULT_LOGIN_LIMITS, type LoginLimits, RateLimiter } from './rate-limit.js'
import { DEFAULT_REFRESH_TTL, RefreshTokens } from './refresh-tokens.js'
import { localKeySource, Revocations } from './revocations.js'
import { RuleStore } from './rule-store.js'
import { PLATFORM_NAMESPACE } from './rules.js'
import { randomToken, sameDigest, tokenDigest } from './secrets.js'
import { type AuthTables, DEFAULT_AUTH_TABLES, readValue, tableOptions } from './tables.js'
import { DEFAULT_ACCESS_TTL, signAccessToken } from './tokens.js'
import { TokenVerifier } from './verifier.js'

/** The platform's auth directory for its key file: `~/.micro/auth`. */
export const DEFAULT_AUTH_DIRECTORY = lmdbDirectory(undefined, 'auth')

/** How long the one-time admin token printed at first start stays usable. */
export const BOOTSTRAP_TTL = 24 * 3600_000

/** Options of {@link Authority}: where its records live, its keys and token lifetimes. */
export interface AuthorityOptions {
  /** Where accounts, refresh tokens, rules and keys live (see `authStore` for the file default). */
  store: Store
  mode: AuthMode
  tables?: AuthTables
  /** The key file sealing private keys at rest when MICRO_AUTH_ENCRYPTION_KEY is unset. Default `~/.micro/auth/encryption.key`. */
  keyFile?: string
  env?: NodeJS.ProcessEnv
  accessTtlMs?: number
  refreshTtlMs?: number
  loginLimits?: LoginLimits
  /** The scopes an endpoint declares (from the registry), for `check`. */
  scopesOf?: (service: string, endpoint: string, namespace: string) => Promise<readonly string[] | undefined>
  logger?: Logger
}

/** What a login answers: a token pair and the account it is for. */
export interface LoginResult {
  token: TokenPair
  account: Account
}

/**
 * The platform's auth: accounts, keys, tokens, rules, the bootstrap token and login limits,
 * over one store. The `Auth`, `Accounts` and `Rules` handlers, the platform wrapper and the
 * gateway authorizer are views of it.
 */
export class Authority {
  readonly mode: AuthMode
  readonly accounts: AccountStore
  readonly refreshTokens: RefreshTokens
  readonly rules: RuleStore
  readonly keys: KeyRing
  readonly revocations: Revocations
  readonly verifier: TokenVerifier
  readonly accessTtl: number
  readonly #options: AuthorityOptions
  readonly #tables: AuthTables
  readonly #byAccount: RateLimiter
  readonly #bySource: RateLimiter
  #bootstrapping: Promise<unknown> = Promise.resolve()
  #timer: NodeJS.Timeout | undefined

  private constructor(options: AuthorityOptions, keys: KeyRing, revocations: Revocations) {
    this.#options = options
    this.#tables = options.tables ?? DEFAULT_AUTH_TABLES
    this.mode = options.mode
    this.accessTtl = options.accessTtlMs ?? DEFAULT_ACCESS_TTL
    this.accounts = new AccountStore(options.store, this.#tables)
    this.refreshTokens = new RefreshTokens(
      options.store,
      this.#tables,
      options.refreshTtlMs ?? DEFAULT_REFRESH_TTL,
    )
    this.rules = new RuleStore(options.store, this.#tables)
    this.keys = keys
    this.revocations = revocations
    this.verifier = new TokenVerifier({ keys: localKeySource(keys, revocations) })
    const limits = options.loginLimits ?? DEFAULT_LOGIN_LIMITS
    this.#byAccount = new RateLimiter(limits.account)
    this.#bySource = new RateLimiter(limits.source)
  }

  /** Open the platform's auth on `store`: load (or make) the signing keys and the revocations. */
  static async open(options: AuthorityOptions): Promise<Authority> {
    const tables = options.tables ?? DEFAULT_AUTH_TABLES
    const env = options.env ?? process.env
    const encryption = await KeyEncryption.resolve(
      env,
      options.keyFile ?? join(DEFAULT_AUTH_DIRECTORY, 'encryption.key'),
    )
    const maxTokenTtl = (options.accessTtlMs ?? DEFAULT_ACCESS_TTL) + 60_000
    const keys = await KeyRing.open({ store: options.store, tables, encryption, maxTokenTtl, env })
    const revocations = new Revocations(options.store, tables)
    await revocations.reload()
    return new Authority(options, keys, revocations)
  }

  /** Sign a new access token and a refresh token (in `family`, else a new login) for an account. */
  async issue(account: Account, family?: string): Promise<TokenPair> {
    const access = await signAccessToken(account, this.keys.signing, this.accessTtl)
    const refresh = await this.refreshTokens.issue(account, family)
    return {
      accessToken: access.token,
      refreshToken: refresh.token,
      expiry: access.expiry,
      refreshExpiry: refresh.expiry,
    }
  }

  /**
   * Log in with an account's id and secret, rate-limited per account and per `source`
   * (the caller's address). A wrong id or secret is the same 401; too many tries a 429.
   */
  async login(namespace: string, id: string, secret: string, source: string): Promise<LoginResult> {
    const accountKey = `${String(namespace).slice(0, 64)}/${String(id).slice(0, 128)}`
    this.#limit(accountKey, source)
    const account = await this.accounts.authenticate(String(namespace), String(id), String(secret ?? ''))
    if (account === undefined) throw unauthorized(AUTH_ERROR_ID, 'wrong account id or secret')
    this.#byAccount.refund(accountKey)
    return { token: await this.issue(account), account }
  }

  /** Exchange a refresh token for a new pair (the old one is spent); the account must still exist. */
  async refresh(refreshToken: string): Promise<LoginResult> {
    const owner = await this.refreshTokens.rotate(refreshToken)
    const stored = await this.accounts.get(owner.namespace, owner.account)
    if (!stored || stored.uid !== owner.uid)
      throw unauthorized(AUTH_ERROR_ID, 'the account of this refresh token no longer exists')
    const account = publicAccount(stored)
    return { token: await this.issue(account, owner.family), account }
  }

  /** Revoke the login a refresh token belongs to. */
  logout(refreshToken: string): Promise<void> {
    return this.refreshTokens.revoke(refreshToken)
  }

  /** Delete an account and revoke every token it has (refresh tokens at once, access tokens through the revocation list). */
  async deleteAccount(namespace: string, id: string): Promise<Account> {
    const account = await this.accounts.delete(namespace, id)
    await this.refreshTokens.revokeAccount(namespace, id)
    await this.revocations.revoke(account.uid, this.accessTtl + 60_000)
    return account
  }

  /** Change an account's secret; its logins (refresh tokens) are revoked. */
  async changeSecret(namespace: string, id: string, secret: string): Promise<void> {
    await this.accounts.changeSecret(namespace, id, secret)
    await this.refreshTokens.revokeAccount(namespace, id)
  }

  /** May account `id` of `accountNamespace` call `resource` in `namespace`, and by which rule? */
  async check(
    accountNamespace: string,
    id: string,
    resource: Resource,
    namespace: string,
  ): Promise<Decision> {
    const stored = await this.accounts.get(checkNamespace(accountNamespace), id)
    if (!stored) throw notFound(AUTH_ERROR_ID, `account ${id} not found in namespace ${accountNamespace}`)
    const scopes =
      resource.type === 'service'
        ? await this.#options.scopesOf?.(resource.name, resource.endpoint, namespace)
        : undefined
    return decide(
      this.mode,
      await this.rules.ruleSet(checkNamespace(namespace)),
      publicAccount(stored),
      resource,
      namespace,
      scopes,
    )
  }

  /** The public keys and revocations, as `Auth.PublicKeys` publishes them. */
  publicKeys(): KeySet {
    return { keys: [...this.keys.publicKeys], revoked: this.revocations.list() }
  }

  /**
   * On a platform with no user account in `micro`: a one-time admin token (printed by the
   * server as `micro login --token <token>`), valid for {@link BOOTSTRAP_TTL}, stored
   * hashed; a later start makes a new one (the old one stops working) until it was used.
   * Undefined once an admin exists.
   */
  async bootstrap(): Promise<string | undefined> {
    if (await this.accounts.hasUser(PLATFORM_NAMESPACE)) return undefined
    const token = randomToken(32)
    await this.#options.store.write('admin', tokenDigest(token), {
      ...this.#bootstrapTable,
      ttl: BOOTSTRAP_TTL,
    })
    return token
  }

  /** Exchange the one-time admin token for an admin account (`admin` in `micro`) and its tokens. */
  loginWithBootstrap(token: string, source: string): Promise<LoginResult> {
    // One at a time: the token is single use even when two logins race.
    const run = this.#bootstrapping.catch(() => undefined).then(() => this.#bootstrapLogin(token, source))
    this.#bootstrapping = run
    return run
  }

  async #bootstrapLogin(token: string, source: string): Promise<LoginResult> {
    this.#limit('bootstrap', source)
    const stored = await readValue<string>(this.#options.store, 'admin', this.#bootstrapTable)
    if (stored === undefined || typeof token !== 'string' || !sameDigest(tokenDigest(token), stored)) {
      throw unauthorized(AUTH_ERROR_ID, 'the admin token is wrong, used or expired')
    }
    await this.#options.store.delete('admin', this.#bootstrapTable)
    this.#byAccount.refund('bootstrap')
    const id = (await this.accounts.get(PLATFORM_NAMESPACE, 'admin')) ? `admin-${randomToken(4)}` : 'admin'
    const { account } = await this.accounts.create({
      namespace: PLATFORM_NAMESPACE,
      id,
      type: 'user',
      scopes: ['admin', '*'],
      noSecret: true,
    })
    this.#options.logger?.info('auth: the one-time admin token was used', { account: account.id })
    return { token: await this.issue(account), account }
  }

  /** Start signing with a new key; the old one verifies until its tokens expire. */
  async rotateKeys(): Promise<string> {
    const kid = await this.keys.rotate()
    this.#options.logger?.info('auth: signing key rotated', { kid })
    return kid
  }

  /**
   * Re-read keys and revocations every `intervalMs` (default 10 s), so replicas sharing a
   * store see each other's rotations and deletions. Stopped by `close()`.
   */
  startRefresh(intervalMs = 10_000): void {
    this.#timer ??= setInterval(() => {
      Promise.all([this.keys.reload(), this.revocations.reload()]).catch((error: unknown) =>
        this.#options.logger?.warn('auth: reloading keys and revocations failed', {
          error: (error as Error)?.message,
        }),
      )
    }, intervalMs)
    this.#timer.unref()
  }

  /** Stop the refresh timer. The store is the caller's to close. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }

  #limit(accountKey: string, source: string): void {
    const sourceOk = this.#bySource.take(source)
    const accountOk = sourceOk && this.#byAccount.take(accountKey)
    if (!accountOk) {
      const wait = Math.max(this.#bySource.retryAfter(source), this.#byAccount.retryAfter(accountKey))
      throw newError(AUTH_ERROR_ID, `too many login attempts: try again in ${Math.ceil(wait / 1000)} s`, 429)
    }
  }

  get #bootstrapTable() {
    return tableOptions(this.#tables, 'bootstrap')
  }
}
