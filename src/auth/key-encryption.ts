import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { internalServerError } from '../errors/errors.js'
import { AUTH_ERROR_ID } from './auth.js'

/** A value encrypted with AES-256-GCM: all base64url. */
export interface Sealed {
  alg: 'A256GCM'
  iv: string
  tag: string
  data: string
}

/**
 * Encrypts the signing keys kept in the store. The key comes from MICRO_AUTH_ENCRYPTION_KEY
 * (any string: stretched with scrypt) or from a 32-byte file made once with mode 0600 next
 * to the store, so a copy of the store alone (a Redis dump, a database backup) does not hold
 * a usable private key. Replicas of one platform must share the key: set the variable.
 */
export class KeyEncryption {
  readonly #key: Buffer

  private constructor(key: Buffer) {
    this.#key = key
  }

  /** From a passphrase (MICRO_AUTH_ENCRYPTION_KEY). */
  static fromPassphrase(passphrase: string): KeyEncryption {
    if (passphrase.length < 16) {
      throw new Error('MICRO_AUTH_ENCRYPTION_KEY must be at least 16 characters')
    }
    return new KeyEncryption(
      scryptSync(passphrase, 'micro-ts auth key encryption', 32, { N: 2 ** 15, maxmem: 64 * 1024 * 1024 }),
    )
  }

  /** From the key file at `path`, made (0600, in a 0700 directory) with a random key when missing. */
  static async fromFile(path: string): Promise<KeyEncryption> {
    try {
      const existing = await readFile(path)
      if (existing.length !== 32)
        throw new Error(`the auth encryption key file ${path} is not 32 bytes: restore it or remove it`)
      await chmod(path, 0o600)
      return new KeyEncryption(existing)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    const key = randomBytes(32)
    try {
      // `wx`: when two processes race, the second reads what the first wrote.
      await writeFile(path, key, { mode: 0o600, flag: 'wx' })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return KeyEncryption.fromFile(path)
      throw error
    }
    return new KeyEncryption(key)
  }

  /** From MICRO_AUTH_ENCRYPTION_KEY when set, else the key file. */
  static async resolve(env: NodeJS.ProcessEnv, keyFile: string): Promise<KeyEncryption> {
    const passphrase = env.MICRO_AUTH_ENCRYPTION_KEY
    return passphrase ? KeyEncryption.fromPassphrase(passphrase) : KeyEncryption.fromFile(keyFile)
  }

  /** Encrypt `plain` (AES-256-GCM), bound to `context`. */
  seal(plain: string, context: string): Sealed {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    cipher.setAAD(Buffer.from(context))
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return {
      alg: 'A256GCM',
      iv: iv.toString('base64url'),
      tag: cipher.getAuthTag().toString('base64url'),
      data: data.toString('base64url'),
    }
  }

  /** The plain text; a 500 that names no key material when the key is wrong or the data was changed. */
  open(sealed: Sealed, context: string): string {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(sealed.iv, 'base64url'))
      decipher.setAAD(Buffer.from(context))
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'))
      return Buffer.concat([
        decipher.update(Buffer.from(sealed.data, 'base64url')),
        decipher.final(),
      ]).toString('utf8')
    } catch {
      throw internalServerError(
        AUTH_ERROR_ID,
        `cannot decrypt the signing key ${context}: the encryption key (MICRO_AUTH_ENCRYPTION_KEY or the key file) is not the one it was sealed with`,
      )
    }
  }
}
