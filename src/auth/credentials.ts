import { MicroError } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import type { TokenPair } from './auth.js'

/** How credentials reach the platform: `Auth.Login` and `Auth.Token` calls. */
export interface TokenEndpoint {
  /** Log in with an account's id and secret. */
  login(request: { namespace: string; id: string; secret: string }): Promise<{ token: TokenPair }>
  /** Trade a refresh token for new tokens. */
  refresh(request: { refreshToken: string }): Promise<{ token: TokenPair }>
}

/** Options of {@link ServiceCredentials}: the account to log in as and where. */
export interface CredentialsOptions {
  namespace: string
  id: string
  secret: string
  endpoint: TokenEndpoint
  /** Refresh this long before the access token expires, ms. Default 60 s. */
  refreshBeforeMs?: number
  logger?: Logger
}

/**
 * A service's own identity: an access token from the platform for its account (id and
 * secret, MICRO_AUTH_ID / MICRO_AUTH_SECRET), refreshed with the refresh token before it
 * expires (in the background while the current one still has time), logging in again when
 * the refresh token no longer works. The secret is held in memory only.
 */
export class ServiceCredentials {
  readonly #options: CredentialsOptions
  readonly #refreshBefore: number
  #pair: TokenPair | undefined
  #pending: Promise<string> | undefined

  constructor(options: CredentialsOptions) {
    this.#options = options
    this.#refreshBefore = options.refreshBeforeMs ?? 60_000
  }

  get id(): string {
    return this.#options.id
  }

  /**
   * The access token when it has time left (starting a background refresh when it is
   * close to expiry); undefined when a caller must wait for {@link token}.
   */
  current(): string | undefined {
    const pair = this.#pair
    if (pair === undefined) return undefined
    const left = pair.expiry - Date.now()
    if (left <= 5000) return undefined
    if (left <= this.#refreshBefore && this.#pending === undefined) this.token().catch(() => undefined)
    return pair.accessToken
  }

  /** A valid access token, fetched or refreshed when needed (one request at a time). */
  token(): Promise<string> {
    const current = this.#pair
    if (current && current.expiry - Date.now() > this.#refreshBefore)
      return Promise.resolve(current.accessToken)
    this.#pending ??= this.#obtain().finally(() => {
      this.#pending = undefined
    })
    return this.#pending
  }

  async #obtain(): Promise<string> {
    const { endpoint, namespace, id, secret, logger } = this.#options
    const pair = this.#pair
    if (pair && pair.refreshExpiry > Date.now()) {
      try {
        this.#pair = (await endpoint.refresh({ refreshToken: pair.refreshToken })).token
        return this.#pair.accessToken
      } catch (error) {
        logger?.warn('auth: refreshing the service token failed; logging in again', {
          error: MicroError.from(error).detail,
        })
      }
    }
    this.#pair = (await endpoint.login({ namespace, id, secret })).token
    return this.#pair.accessToken
  }
}
