import { type CryptoKey, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose'
import { MicroError, serviceUnavailable, unauthorized } from '../errors/errors.js'
import { turnClock } from '../util/clock.js'
import { AUTH_ERROR_ID, type Caller } from './auth.js'
import { ALGORITHMS } from './key-material.js'
import type { KeySource } from './key-source.js'
import { TokenCache, type VerifiedToken } from './token-cache.js'
import { accountFromClaims } from './tokens.js'

/** Options of {@link TokenVerifier}. */
export interface VerifierOptions {
  keys: KeySource
  /** Clock skew accepted on `exp`, `nbf` and `iat`, seconds. Default 30. */
  clockToleranceSec?: number
  /** Verified tokens kept. Default 10 000. */
  cacheSize?: number
}

/** The longest token text looked at; anything longer is refused unread. */
const MAX_TOKEN = 8192
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/**
 * Verifies access tokens locally: the signature with a published key chosen by `kid` and
 * pinned to that key's algorithm (EdDSA or ES256; `none` and HS* never pass), the expiry,
 * not-before and issued-at with a small skew, the claims, and revocation. A verified token
 * is cached until it expires, so the next call with it costs a map lookup.
 *
 * Errors are 401s that say what was wrong and never contain the token.
 */
export class TokenVerifier {
  readonly keys: KeySource
  readonly #cache: TokenCache
  readonly #tolerance: number
  readonly #pending = new Map<string, Promise<VerifiedToken>>()

  constructor(options: VerifierOptions) {
    this.keys = options.keys
    this.#cache = new TokenCache(options.cacheSize)
    this.#tolerance = options.clockToleranceSec ?? 30
  }

  /**
   * A cached verification, checked against revocations; undefined when it must be
   * verified. `key` is the token, or the text it was cached under (`Bearer <token>`).
   */
  peek(key: string): VerifiedToken | undefined {
    // The loop turn's clock: expiry is checked at most one turn late (tokens live minutes),
    // and a system clock reading on every call costs more than the rest of the lookup.
    const entry = this.#cache.get(key, turnClock())
    if (entry === undefined) return undefined
    const revision = this.keys.revision
    if (entry.revocations !== revision) {
      if (this.keys.isRevoked(entry.caller.account.uid)) {
        this.#cache.delete(key)
        return undefined
      }
      entry.revocations = revision
    }
    return entry
  }

  /**
   * Verify `token` (a JWT, without `Bearer `) and cache it under `key` (default: the token;
   * the wrappers use the whole header value, so a hit needs no slicing). Rejects with a 401
   * (or a 503 when no keys can be had).
   */
  verify(token: string, key: string = token): Promise<VerifiedToken> {
    const cached = this.peek(key)
    if (cached) return Promise.resolve(cached)
    let pending = this.#pending.get(key)
    if (pending === undefined) {
      pending = this.#verify(token, key).finally(() => this.#pending.delete(key))
      this.#pending.set(key, pending)
    }
    return pending
  }

  /** The caller of a token, verified. */
  async caller(token: string): Promise<Caller> {
    return (await this.verify(token)).caller
  }

  /** Forget every cached verification (keys were replaced). */
  clear(): void {
    this.#cache.clear()
  }

  async #verify(token: string, cacheKey: string): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length > MAX_TOKEN || !JWT_SHAPE.test(token)) {
      throw invalid('the token is not a JWT')
    }
    let header: ReturnType<typeof decodeProtectedHeader>
    try {
      header = decodeProtectedHeader(token)
    } catch {
      throw invalid('the token header cannot be read')
    }
    if (!(ALGORITHMS as readonly string[]).includes(String(header.alg))) {
      throw invalid(
        `tokens signed with ${String(header.alg).slice(0, 16)} are not accepted (EdDSA or ES256 only)`,
      )
    }
    if (typeof header.kid !== 'string' || header.kid === '' || header.kid.length > 128) {
      throw invalid('the token names no key (kid)')
    }
    let key: CryptoKey | undefined
    try {
      key = await this.keys.key(header.kid)
    } catch (error) {
      throw serviceUnavailable(
        AUTH_ERROR_ID,
        `cannot get the public keys to verify tokens: ${(error as Error).message}`,
      )
    }
    if (key === undefined) throw invalid('the token is signed by an unknown key')
    // The key decides the algorithm: a token may not pick another one for it.
    const algorithm = (key.algorithm as { name: string }).name === 'ECDSA' ? 'ES256' : 'EdDSA'
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload']
    try {
      ;({ payload } = await jwtVerify(token, key, {
        algorithms: [algorithm],
        clockTolerance: this.#tolerance,
        requiredClaims: ['exp', 'iat', 'iss', 'sub'],
      }))
    } catch (error) {
      throw invalid(reasonOf(error))
    }
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + this.#tolerance) {
      throw invalid('the token was issued in the future')
    }
    const account = accountFromClaims(payload)
    if (this.keys.isRevoked(account.uid)) throw invalid('the token was revoked')
    const expiresAt = (payload.exp as number) * 1000
    const entry: VerifiedToken = {
      caller: { account, via: 'token', expiresAt, token },
      expiresAt,
      revocations: this.keys.revision,
      decisions: undefined,
      rules: undefined,
      recent: false,
    }
    this.#cache.set(cacheKey, entry)
    return entry
  }
}

function invalid(reason: string): MicroError {
  return unauthorized(AUTH_ERROR_ID, `invalid token: ${reason}`)
}

/** What was wrong, in our words: jose's messages are safe but we keep the wording stable. */
function reasonOf(error: unknown): string {
  if (error instanceof MicroError) return error.detail
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired'
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return error.claim === 'nbf'
      ? 'the token is not valid yet'
      : `the token's ${error.claim} claim is not valid`
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not match'
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the token names another algorithm than its key'
  return 'the token is malformed'
}
