import type { CryptoKey, JWK } from 'jose'
import type { Logger } from '../logger/logger.js'
import { checkedJwk, verificationKey } from './key-material.js'

/** An account instance whose tokens no longer count, until its last token has expired anyway. */
export interface Revocation {
  uid: string
  /** Epoch ms after which the entry can be forgotten. */
  until: number
}

/** What the platform publishes for verifiers: the JWKS keys, plus revoked accounts. */
export interface KeySet {
  keys: JWK[]
  revoked?: Revocation[]
}

/** Where a verifier gets public keys and revocations: local, never a network call per request. */
export interface KeySource {
  /** The verification key with this `kid`, or undefined when there is none (after one bounded refresh). */
  key(kid: string): Promise<CryptoKey | undefined>
  /** Whether an account instance's tokens were revoked. */
  isRevoked(uid: string): boolean
  /** Bumped whenever the revocations change: cached verifications are checked again. */
  readonly revision: number
}

/** Options of {@link FetchedKeySource}: how often keys are fetched again. */
export interface FetchedKeySourceOptions {
  /** Refreshes (for an unknown kid) at most this often, ms. Default 2 s. */
  minRefreshMs?: number
  /** Refresh in the background when the keys are older than this, ms. Default 60 s. */
  maxAgeMs?: number
  logger?: Logger
}

/**
 * Keys fetched from somewhere (the platform's `Auth.PublicKeys`, a JWKS URL), kept in
 * memory. An unknown `kid` (a key rotated in since the last fetch) refetches once, no more
 * often than `minRefreshMs` whatever callers send; keys older than `maxAgeMs` are refreshed
 * in the background while the old ones keep answering, which also brings revocations in.
 */
export class FetchedKeySource implements KeySource {
  readonly #fetch: () => Promise<KeySet>
  readonly #minRefreshMs: number
  readonly #maxAgeMs: number
  readonly #logger: Logger | undefined
  #keys = new Map<string, Promise<CryptoKey>>()
  #revoked = new Map<string, number>()
  #fetchedAt = Number.NEGATIVE_INFINITY
  #refreshing: Promise<void> | undefined
  #revision = 0
  #fetches = 0

  constructor(fetch: () => Promise<KeySet>, options: FetchedKeySourceOptions = {}) {
    this.#fetch = fetch
    this.#minRefreshMs = options.minRefreshMs ?? 2000
    this.#maxAgeMs = options.maxAgeMs ?? 60_000
    this.#logger = options.logger
  }

  get revision(): number {
    const now = Date.now()
    if (now - this.#fetchedAt > this.#maxAgeMs && this.#refreshing === undefined && this.#fetches > 0) {
      this.#refresh().catch(() => undefined)
    }
    return this.#revision
  }

  /** How many times keys were fetched (for tests and diagnostics). */
  get fetches(): number {
    return this.#fetches
  }

  async key(kid: string): Promise<CryptoKey | undefined> {
    if (this.#fetches === 0) await this.#refresh()
    const known = this.#keys.get(kid)
    if (known) return known
    if (Date.now() - this.#fetchedAt < this.#minRefreshMs) return undefined
    await this.#refresh()
    return this.#keys.get(kid)
  }

  isRevoked(uid: string): boolean {
    const until = this.#revoked.get(uid)
    return until !== undefined && until > Date.now()
  }

  /** Fetch now (one fetch at a time: concurrent callers share it). */
  refresh(): Promise<void> {
    return this.#refresh()
  }

  #refresh(): Promise<void> {
    this.#refreshing ??= this.#load().finally(() => {
      this.#refreshing = undefined
    })
    return this.#refreshing
  }

  async #load(): Promise<void> {
    this.#fetches++
    let set: KeySet
    try {
      set = await this.#fetch()
    } catch (error) {
      // Keep what we have; the next unknown kid or stale check tries again.
      this.#fetchedAt = Date.now()
      this.#logger?.warn('auth: cannot fetch the public keys', { error: (error as Error)?.message })
      throw error
    }
    const keys = new Map<string, Promise<CryptoKey>>()
    for (const raw of Array.isArray(set?.keys) ? set.keys : []) {
      try {
        const jwk = await checkedJwk(raw)
        keys.set(jwk.kid, this.#keys.get(jwk.kid) ?? verificationKey(jwk))
      } catch (error) {
        this.#logger?.warn('auth: ignoring a published key', { reason: (error as Error).message })
      }
    }
    this.#keys = keys
    const revoked = new Map<string, number>()
    for (const entry of Array.isArray(set?.revoked) ? set.revoked : []) {
      if (typeof entry?.uid === 'string' && typeof entry.until === 'number')
        revoked.set(entry.uid, entry.until)
    }
    if (!sameEntries(revoked, this.#revoked)) this.#revision++
    this.#revoked = revoked
    this.#fetchedAt = Date.now()
  }
}

function sameEntries(a: Map<string, number>, b: Map<string, number>): boolean {
  if (a.size !== b.size) return false
  for (const [key, value] of a) if (b.get(key) !== value) return false
  return true
}

/** A fixed set of keys (MICRO_AUTH_PUBLIC_KEY): no refresh, no revocations. */
export function staticKeySource(keys: JWK[]): FetchedKeySource {
  return new FetchedKeySource(async () => ({ keys }), { maxAgeMs: Number.POSITIVE_INFINITY })
}

/** Keys from a JWKS URL (MICRO_AUTH_JWKS_URL), fetched with a timeout and a size bound. */
export function jwksUrlFetcher(url: string, timeoutMs = 5000): () => Promise<KeySet> {
  return async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' })
    if (!response.ok) throw new Error(`JWKS fetch answered ${response.status}`)
    const text = await response.text()
    if (text.length > 256 * 1024) throw new Error('the JWKS document is too large')
    return JSON.parse(text) as KeySet
  }
}
