import type { Store } from '../store/store.js'
import type { KeySource, Revocation } from './key-source.js'
import type { KeyRing } from './keys.js'
import { type AuthTables, tableOptions } from './tables.js'

/**
 * Account instances whose access tokens stop counting before they expire (the account was
 * deleted). Kept in the store with an expiry (the longest a token lives), so replicas and
 * restarts see them, and published with the public keys so every verifier does too.
 */
export class Revocations {
  readonly #store: Store
  readonly #tables: AuthTables
  #entries = new Map<string, number>()
  #revision = 0

  constructor(store: Store, tables: AuthTables) {
    this.#store = store
    this.#tables = tables
  }

  get revision(): number {
    return this.#revision
  }

  /** Revoke every token of an account instance issued until now and living at most `ttlMs`. */
  async revoke(uid: string, ttlMs: number): Promise<void> {
    const until = Date.now() + ttlMs
    await this.#store.write(uid, until, { ...tableOptions(this.#tables, 'revoked'), expiry: until })
    this.#entries.set(uid, until)
    this.#revision++
  }

  /** Whether an account instance's tokens were revoked. */
  isRevoked(uid: string): boolean {
    const until = this.#entries.get(uid)
    return until !== undefined && until > Date.now()
  }

  /** The live entries, as published. */
  list(): Revocation[] {
    const now = Date.now()
    const live: Revocation[] = []
    for (const [uid, until] of this.#entries) if (until > now) live.push({ uid, until })
    return live
  }

  /** Re-read from the store (another replica may have revoked). */
  async reload(): Promise<void> {
    const records = await this.#store.read<number>(tableOptions(this.#tables, 'revoked'))
    const next = new Map(records.map((r) => [r.key, r.value] as const))
    const changed = next.size !== this.#entries.size || [...next].some(([k, v]) => this.#entries.get(k) !== v)
    this.#entries = next
    if (changed) this.#revision++
  }
}

/** The platform's own verifier keys: straight from its key ring and revocations, in memory. */
export function localKeySource(ring: KeyRing, revocations: Revocations): KeySource {
  return {
    key: async (kid) => ring.verificationKey(kid),
    isRevoked: (uid) => revocations.isRevoked(uid),
    get revision() {
      return revocations.revision
    },
  }
}
