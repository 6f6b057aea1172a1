import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { CryptoKey } from 'jose'
import type { Store } from '../store/store.js'
import type { KeyEncryption, Sealed } from './key-encryption.js'
import {
  type Algorithm,
  type PublicJwk,
  parsePrivateKey,
  parsePublicKeys,
  publicJwkOf,
  verificationKey,
} from './key-material.js'
import { type AuthTables, tableOptions } from './tables.js'

/** A signing key as kept in the store: the private half sealed. */
interface StoredKey {
  kid: string
  alg: Algorithm
  publicJwk: PublicJwk
  privateKey: Sealed
  /** Epoch ms */
  created: number
  /** Epoch ms after which it no longer verifies (set when a newer key took over signing). */
  verifyUntil?: number
}

interface SigningKey {
  kid: string
  alg: Algorithm
  key: KeyObject
}

export interface KeyRingOptions {
  store: Store
  tables: AuthTables
  encryption: KeyEncryption
  /** The longest an access token lives, ms: an old key verifies that long after it stopped signing. */
  maxTokenTtl: number
  env?: NodeJS.ProcessEnv
}

/**
 * The platform's signing keys. The newest key signs; older keys keep verifying until the
 * last token they signed has expired, then leave the JWKS. Keys come from
 * MICRO_AUTH_PRIVATE_KEY (with MICRO_AUTH_PUBLIC_KEY adding keys that verify only), or
 * are generated once (Ed25519) and kept in the store with the private half encrypted.
 */
export class KeyRing {
  readonly #options: KeyRingOptions
  readonly #fromEnv: boolean
  #signing!: SigningKey
  #published: PublicJwk[] = []
  #verifying = new Map<string, Promise<CryptoKey>>()
  #jwksText = '{"keys":[]}'

  private constructor(options: KeyRingOptions) {
    this.#options = options
    this.#fromEnv = Boolean((options.env ?? process.env).MICRO_AUTH_PRIVATE_KEY)
  }

  /** Load the keys (generating the first one when there is none). */
  static async open(options: KeyRingOptions): Promise<KeyRing> {
    const ring = new KeyRing(options)
    await ring.reload()
    return ring
  }

  /** The key new tokens are signed with. */
  get signing(): { kid: string; alg: Algorithm; key: KeyObject } {
    return this.#signing
  }

  /** Whether the keys come from MICRO_AUTH_PRIVATE_KEY (then `rotate` is the operator's job). */
  get fromEnv(): boolean {
    return this.#fromEnv
  }

  /** The public keys that verify now. */
  get publicKeys(): readonly PublicJwk[] {
    return this.#published
  }

  /** The JWKS document text for `/.well-known/jwks.json`. */
  get jwks(): string {
    return this.#jwksText
  }

  /** A verification key by `kid`, or undefined when no current key has it. */
  verificationKey(kid: string): Promise<CryptoKey> | undefined {
    return this.#verifying.get(kid)
  }

  /** Re-read the keys (another replica may have rotated). */
  async reload(): Promise<void> {
    const env = this.#options.env ?? process.env
    if (this.#fromEnv) {
      const key = parsePrivateKey(env.MICRO_AUTH_PRIVATE_KEY as string)
      const own = await publicJwkOf(key)
      const extra = env.MICRO_AUTH_PUBLIC_KEY ? await parsePublicKeys(env.MICRO_AUTH_PUBLIC_KEY) : []
      this.#signing = { kid: own.kid, alg: own.alg, key }
      this.#publish([own, ...extra.filter((k) => k.kid !== own.kid)])
      return
    }
    let stored = await this.#storedKeys()
    if (stored.length === 0) {
      await this.#generate()
      stored = await this.#storedKeys()
    }
    const newest = stored.reduce((a, b) => (b.created > a.created ? b : a))
    const { encryption } = this.#options
    const pem = encryption.open(newest.privateKey, newest.kid)
    this.#signing = { kid: newest.kid, alg: newest.alg, key: createPrivateKey(pem) }
    this.#publish(stored.map((k) => k.publicJwk))
  }

  /**
   * Start signing with a new key. The current one verifies for `maxTokenTtl` more, so
   * every token it signed stays valid until it expires. Returns the new `kid`.
   */
  async rotate(): Promise<string> {
    if (this.#fromEnv) throw new Error('the signing key comes from MICRO_AUTH_PRIVATE_KEY: rotate it there')
    const { store, tables, maxTokenTtl } = this.#options
    const now = Date.now()
    for (const key of await this.#storedKeys()) {
      if (key.verifyUntil !== undefined) continue
      const verifyUntil = now + maxTokenTtl
      await store.write(
        key.kid,
        { ...key, verifyUntil },
        { ...tableOptions(tables, 'keys'), expiry: verifyUntil },
      )
    }
    const kid = await this.#generate()
    await this.reload()
    return kid
  }

  async #generate(): Promise<string> {
    const { store, tables, encryption } = this.#options
    const { privateKey } = generateKeyPairSync('ed25519')
    const publicJwk = await publicJwkOf(privateKey)
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
    const stored: StoredKey = {
      kid: publicJwk.kid,
      alg: publicJwk.alg,
      publicJwk,
      privateKey: encryption.seal(pem, publicJwk.kid),
      created: Date.now(),
    }
    await store.write(stored.kid, stored, tableOptions(tables, 'keys'))
    return stored.kid
  }

  async #storedKeys(): Promise<StoredKey[]> {
    const { store, tables } = this.#options
    const records = await store.read<StoredKey>(tableOptions(tables, 'keys'))
    const now = Date.now()
    return records.map((r) => r.value).filter((k) => k.verifyUntil === undefined || k.verifyUntil > now)
  }

  #publish(keys: PublicJwk[]): void {
    const next = new Map<string, Promise<CryptoKey>>()
    for (const jwk of keys) {
      let key = this.#verifying.get(jwk.kid)
      if (key === undefined) {
        key = verificationKey(jwk)
        // Awaited by verifiers; marked handled so a bad key cannot crash the process unawaited.
        key.catch(() => undefined)
      }
      next.set(jwk.kid, key)
    }
    this.#verifying = next
    this.#published = keys
    this.#jwksText = JSON.stringify({ keys })
  }
}
