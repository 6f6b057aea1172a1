import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { MicroError } from '../errors/errors.js'

/** The environment variable holding the 32-byte secrets key, as base64 or hex. */
export const SECRET_KEY_ENV = 'MICRO_CONFIG_SECRET_KEY'
/** How an encrypted value starts: `enc:v1:<base64url(iv | ciphertext | tag)>`. */
export const SEALED_PREFIX = 'enc:v1:'

const ID = 'micro.config'
const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16

/** Whether a config string is an encrypted value. */
export function isSealed(text: string): boolean {
  return text.startsWith(SEALED_PREFIX)
}

/**
 * The key from its text: 64 hex digits or base64 (standard or URL-safe) of 32 bytes. The
 * error names the variable and the expected size, never the text.
 */
export function parseSecretKey(text: string, name = SECRET_KEY_ENV): Buffer {
  const trimmed = text.trim()
  let key: Buffer | undefined
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) key = Buffer.from(trimmed, 'hex')
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) key = Buffer.from(trimmed, 'base64')
  if (key?.length !== KEY_BYTES) {
    const got = key ? `${key.length} bytes` : 'neither base64 nor hex'
    throw new MicroError(
      ID,
      `${name} must be a ${KEY_BYTES}-byte key as base64 (44 characters) or hex (64 characters); it is ${got} (make one with: openssl rand -base64 32)`,
      500,
    )
  }
  return key
}

/** The key from MICRO_CONFIG_SECRET_KEY; a clear 500 MicroError when it is missing or malformed. */
export function secretKeyFromEnv(env: NodeJS.ProcessEnv = process.env): Buffer {
  const text = env[SECRET_KEY_ENV]
  if (text === undefined || text.trim() === '')
    throw new MicroError(
      ID,
      `${SECRET_KEY_ENV} is not set: config secrets need a ${KEY_BYTES}-byte key as base64 or hex (make one with: openssl rand -base64 32)`,
      500,
    )
  return parseSecretKey(text)
}

/** A new random key as base64, for MICRO_CONFIG_SECRET_KEY. */
export function generateSecretKey(): string {
  return randomBytes(KEY_BYTES).toString('base64')
}

/** Encrypt `plaintext` with AES-256-GCM into the `enc:v1:` form stored in config. */
export function sealSecret(plaintext: string, key: Buffer): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', checkKey(key), iv)
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return SEALED_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')
}

/**
 * Decrypt an `enc:v1:` value. A wrong key, a truncated or altered value is a 500 MicroError
 * naming `where` (a config path), never the value.
 */
export function openSecret(sealed: string, key: Buffer, where = 'a secret'): string {
  if (!isSealed(sealed)) throw new MicroError(ID, `${where} is not an ${SEALED_PREFIX} value`, 500)
  const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url')
  if (raw.length < IV_BYTES + TAG_BYTES)
    throw new MicroError(ID, `cannot decrypt ${where}: the value is truncated`, 500)
  try {
    const decipher = createDecipheriv('aes-256-gcm', checkKey(key), raw.subarray(0, IV_BYTES))
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES))
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES)
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')
  } catch {
    throw new MicroError(ID, `cannot decrypt ${where}: wrong ${SECRET_KEY_ENV} or the value was altered`, 500)
  }
}

function checkKey(key: Buffer): Buffer {
  if (key.length !== KEY_BYTES)
    throw new MicroError(ID, `a config secrets key must be ${KEY_BYTES} bytes, not ${key.length}`, 500)
  return key
}
