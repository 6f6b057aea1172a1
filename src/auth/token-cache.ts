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
  /** Used since the eviction hand last passed it (the cache's second chance). */
  recent: boolean
}

/**
 * Verified tokens by their exact text (the whole `Authorization` value), bounded: when
 * full, the least recently used goes (approximately: CLOCK, a second chance for entries
 * used since the hand last passed, so a hit costs a flag and no map writes). An entry
 * leaves when its token expires, so a hit never accepts an expired token. This is what
 * makes a call with auth on cost a map lookup.
 */
export class TokenCache {
  readonly #entries = new Map<string, VerifiedToken>()
  readonly #capacity: number
  /**
   * The last key looked up and its entry. A header string is new on every request, so a map
   * lookup hashes all of it (a token is ~400 characters); comparing with the last key costs
   * a memcmp, and one caller's calls mostly come in a row.
   */
  #lastKey: string | undefined
  #lastEntry: VerifiedToken | undefined

  constructor(capacity = 10_000) {
    this.#capacity = Math.max(1, capacity)
  }

  get size(): number {
    return this.#entries.size
  }

  /** The entry for `key` if present and not expired (`now` in epoch ms). */
  get(key: string, now: number): VerifiedToken | undefined {
    const entry = key === this.#lastKey ? this.#lastEntry : this.#entries.get(key)
    if (entry === undefined) return undefined
    if (now >= entry.expiresAt) {
      this.delete(key)
      return undefined
    }
    entry.recent = true
    this.#lastKey = key
    this.#lastEntry = entry
    return entry
  }

  set(key: string, entry: VerifiedToken): void {
    this.delete(key)
    if (this.#entries.size >= this.#capacity) this.#evict()
    entry.recent = false
    this.#entries.set(key, entry)
  }

  /** Drop one entry: the oldest not used since the hand last passed (at most one full turn). */
  #evict(): void {
    for (let turn = 0; turn <= this.#entries.size; turn++) {
      const oldest = this.#entries.entries().next()
      if (oldest.done) return
      const [key, entry] = oldest.value
      this.#entries.delete(key)
      if (!entry.recent) {
        if (key === this.#lastKey) this.#forgetLast()
        return
      }
      entry.recent = false
      this.#entries.set(key, entry)
    }
  }

  delete(key: string): void {
    this.#entries.delete(key)
    if (key === this.#lastKey) this.#forgetLast()
  }

  clear(): void {
    this.#entries.clear()
    this.#forgetLast()
  }

  #forgetLast(): void {
    this.#lastKey = undefined
    this.#lastEntry = undefined
  }
}
