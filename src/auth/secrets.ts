import { createHash, randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto'

/** A secret as stored: scrypt of the secret with a random salt, and the parameters used. */
export interface SecretHash {
  alg: 'scrypt'
  /** base64url */
  salt: string
  /** base64url */
  hash: string
  N: number
  r: number
  p: number
}

/** scrypt cost: N=2^15, r=8 (32 MiB, ~60 ms here): slow enough to make guessing expensive. */
const PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const
const KEY_LENGTH = 32
// scrypt needs 128 * N * r bytes; Node's default ceiling is 32 MiB exactly, too tight.
const MAX_MEMORY = 64 * 1024 * 1024

function derive(secret: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: MAX_MEMORY }
  return new Promise((resolve, reject) => {
    scrypt(secret.normalize('NFC'), salt, KEY_LENGTH, options, (error, key) =>
      error ? reject(error) : resolve(key),
    )
  })
}

/** Hash a secret for storage. */
export async function hashSecret(secret: string): Promise<SecretHash> {
  const salt = randomBytes(16)
  const hash = await derive(secret, salt, PARAMS)
  return { alg: 'scrypt', salt: salt.toString('base64url'), hash: hash.toString('base64url'), ...PARAMS }
}

/** A stored hash nobody's secret matches: checked for unknown accounts so they take as long. */
let decoy: Promise<SecretHash> | undefined

/**
 * Whether `secret` matches `stored`, compared in constant time. With no stored hash (an
 * unknown account) a decoy hash is checked instead, so the answer takes as long either way.
 */
export async function verifySecret(secret: string, stored: SecretHash | undefined): Promise<boolean> {
  decoy ??= hashSecret(randomToken())
  const target = stored ?? (await decoy)
  if (target.alg !== 'scrypt' || !isCost(target)) return false
  const expected = Buffer.from(target.hash, 'base64url')
  const actual = await derive(secret, Buffer.from(target.salt, 'base64url'), target)
  const same = expected.length === actual.length && timingSafeEqual(expected, actual)
  return same && stored !== undefined
}

function isCost(h: SecretHash): boolean {
  // Bounds keep a tampered record from making one check cost gigabytes or minutes.
  return (
    Number.isInteger(h.N) && h.N >= 2 ** 10 && h.N <= 2 ** 17 && h.r >= 1 && h.r <= 16 && h.p >= 1 && h.p <= 4
  )
}

/**
 * A random token or secret: `bytes` random bytes, base64url, never starting with `-`.
 * Tokens and secrets are typed as command-line values (`micro login --token <t>`), where a
 * leading dash reads as an option to many parsers; drawing again costs one bit in 64.
 */
export function randomToken(bytes = 32): string {
  for (;;) {
    const token = randomBytes(bytes).toString('base64url')
    if (!token.startsWith('-')) return token
  }
}

/** SHA-256 of an opaque token (base64url): how refresh and bootstrap tokens are stored and looked up. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

/** Constant-time equality of two digests of the same kind. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
