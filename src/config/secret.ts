import { inspect } from 'node:util'
import { openSecret, sealSecret } from './cipher.js'

const MASK = '[secret]'

/**
 * A sensitive config value. It prints as `[secret]` everywhere (String(), JSON.stringify,
 * console.log / util.inspect, the logger), so it can sit in a config tree that gets logged;
 * `reveal()` gives the text. Values loaded as `enc:v1:...` are decrypted on the first
 * `reveal()`, so a service that never reads a secret needs no key.
 */
export class Secret {
  readonly #sealed: string | undefined
  readonly #key: (() => Buffer) | undefined
  readonly #where: string
  #plain: string | undefined

  private constructor(plain: string | undefined, sealed: string | undefined, key?: () => Buffer, where = '') {
    this.#plain = plain
    this.#sealed = sealed
    this.#key = key
    this.#where = where
  }

  /** A secret holding `plaintext` (e.g. set in code or from a memory source). */
  static of(plaintext: string): Secret {
    return new Secret(plaintext, undefined)
  }

  /** A secret for an `enc:v1:` value, decrypted with `key()` on first reveal. `where` names it in errors. */
  static sealed(text: string, key: () => Buffer, where: string): Secret {
    return new Secret(undefined, text, key, where)
  }

  /** The plaintext. Throws a MicroError (naming the config path, not the value) when it cannot be decrypted. */
  reveal(): string {
    if (this.#plain === undefined) {
      const key = this.#key as () => Buffer
      this.#plain = openSecret(this.#sealed as string, key(), this.#where || 'a secret')
    }
    return this.#plain
  }

  /** The `enc:v1:` text this secret was loaded from; undefined for one made from plaintext. */
  get sealed(): string | undefined {
    return this.#sealed
  }

  /** A new `enc:v1:` encryption of the value under `key` (e.g. to store it, or to rotate keys). */
  seal(key: Buffer): string {
    return sealSecret(this.reveal(), key)
  }

  /** Whether two secrets hold the same value: same stored ciphertext, or same plaintext. */
  sameAs(other: Secret): boolean {
    if (this.#sealed !== undefined && this.#sealed === other.#sealed) return true
    try {
      return this.reveal() === other.reveal()
    } catch {
      return false
    }
  }

  /** The mask, never the value. */
  toString(): string {
    return MASK
  }

  /** The mask, never the value (JSON.stringify and loggers). */
  toJSON(): string {
    return MASK
  }

  /** The mask, never the value (console.log and util.inspect). */
  [inspect.custom](): string {
    return MASK
  }
}

/** Mark a value as a secret (masked when printed), e.g. `memorySource({ db: { password: secret(pw) } })`. */
export function secret(plaintext: string): Secret {
  return Secret.of(plaintext)
}
