import type { Caller, Decision } from './auth.js'

/** A verified token as cached: its caller, and the policy decisions made for it so far. */
export interface VerifiedToken {
  readonly caller: Caller
  /** Epoch ms: the token's `exp` (the entry is dropped then). */
  readonly expiresAt: number
  /** The revocation list revision this entry was last checked against. */
  revocations: number
  /** Decisions by resource key, valid for `rules` (a rule set revision). */
  decisions: Map<string, Decision> | undefined
  rules: unknown
}

/**
 * Verified tokens by their exact text (the whole `Authorization` value), least recently
 * used first out when full. An entry leaves when its token expires, so a cache hit never
 * accepts an expired token. This is what makes a call with auth on cost a map lookup.
 */
export class TokenCache {
  readonly #entries = new Map<string, VerifiedToken>()
  readonly #capacity: number

  constructor(capacity = 10_000) {
    this.#capacity = Math.max(1, capacity)
  }

  get size(): number {
    return this.#entries.size
  }

  /** The entry for `key` if present and not expired (`now` in epoch ms); refreshes its recency. */
  get(key: string, now: number): VerifiedToken | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (now >= entry.expiresAt) {
      this.#entries.delete(key)
      return undefined
    }
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    return entry
  }

  set(key: string, entry: VerifiedToken): void {
    this.#entries.delete(key)
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next()
      if (!oldest.done) this.#entries.delete(oldest.value)
    }
    this.#entries.set(key, entry)
  }

  delete(key: string): void {
    this.#entries.delete(key)
  }

  clear(): void {
    this.#entries.clear()
  }
}
