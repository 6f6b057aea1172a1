import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { type CryptoKey, calculateJwkThumbprint, importJWK, type JWK } from 'jose'

/** The signature algorithms tokens may use: asymmetric only, never `none` or HS*. */
export const ALGORITHMS = ['EdDSA', 'ES256'] as const
export type Algorithm = (typeof ALGORITHMS)[number]

/** A public key as published in the JWKS: always with `kid`, `alg` and `use`. */
export type PublicJwk = JWK & { kid: string; alg: Algorithm; use: 'sig' }

/** The algorithm a key object signs with, or an error naming the key types we take. */
export function algorithmOf(key: KeyObject): Algorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA'
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256'
  throw new Error('auth keys must be Ed25519 (EdDSA) or P-256 (ES256)')
}

/**
 * Text of a key as people pass it in a variable: PEM, base64 of a PEM (as Micro v3 takes
 * it), or JSON (a JWK, or a JWKS `{ keys: [...] }` for public keys).
 */
function decodeText(text: string): { pem?: string; json?: unknown } {
  const trimmed = text.trim()
  if (trimmed.startsWith('-----BEGIN')) return { pem: trimmed }
  if (trimmed.startsWith('{')) return { json: JSON.parse(trimmed) }
  const decoded = Buffer.from(trimmed, 'base64').toString('utf8').trim()
  if (decoded.startsWith('-----BEGIN')) return { pem: decoded }
  if (decoded.startsWith('{')) return { json: JSON.parse(decoded) }
  throw new Error('a key must be PEM, base64 of a PEM, or JSON (JWK or JWKS)')
}

/** A private key from MICRO_AUTH_PRIVATE_KEY's text. Errors never repeat the text. */
export function parsePrivateKey(text: string): KeyObject {
  let key: KeyObject
  try {
    const { pem, json } = decodeText(text)
    key = pem ? createPrivateKey(pem) : createPrivateKey({ key: json as JWK, format: 'jwk' } as never)
  } catch {
    throw new Error('MICRO_AUTH_PRIVATE_KEY is not a private key (PEM, base64 PEM or JWK)')
  }
  algorithmOf(key)
  return key
}

/** Public keys from MICRO_AUTH_PUBLIC_KEY's text (one key, or a JWKS), as published JWKs. */
export async function parsePublicKeys(text: string): Promise<PublicJwk[]> {
  let decoded: { pem?: string; json?: unknown }
  try {
    decoded = decodeText(text)
  } catch {
    throw new Error('MICRO_AUTH_PUBLIC_KEY is not a public key (PEM, base64 PEM, JWK or JWKS)')
  }
  if (decoded.pem) return [await publicJwkOf(createPublicKey(decoded.pem))]
  const json = decoded.json as { keys?: unknown } & JWK
  const list = Array.isArray(json.keys) ? (json.keys as JWK[]) : [json]
  return Promise.all(list.map((jwk) => checkedJwk(jwk)))
}

/**
 * The published JWK of a key (public part only); its `kid` is the start of its RFC 7638
 * thumbprint (16 characters, 96 bits: unique among a platform's few keys, and every
 * token carries it, so it is kept short).
 */
export async function publicJwkOf(key: KeyObject): Promise<PublicJwk> {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  const alg = algorithmOf(publicKey)
  const jwk = publicKey.export({ format: 'jwk' }) as JWK
  const kid = (await calculateJwkThumbprint(jwk)).slice(0, 16)
  return { ...jwk, kid, alg, use: 'sig' }
}

/**
 * A JWK from outside (a JWKS document, a variable) reduced to the public fields of a key
 * type we take: anything private or symmetric in it is refused, not copied.
 */
export async function checkedJwk(jwk: JWK): Promise<PublicJwk> {
  if (typeof jwk !== 'object' || jwk === null) throw new Error('a JWKS key must be an object')
  if ('d' in jwk || jwk.kty === 'oct')
    throw new Error('a published key must be public (no private or symmetric keys)')
  let key: KeyObject
  try {
    const fields =
      jwk.kty === 'OKP'
        ? { kty: jwk.kty, crv: jwk.crv, x: jwk.x }
        : { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }
    key = createPublicKey({ key: fields as JWK, format: 'jwk' } as never)
  } catch {
    throw new Error('a JWKS key is not a valid Ed25519 or P-256 public key')
  }
  const published = await publicJwkOf(key)
  if (jwk.alg !== undefined && jwk.alg !== published.alg)
    throw new Error(`a JWKS key says alg ${jwk.alg} but is a ${published.alg} key`)
  return { ...published, kid: typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid : published.kid }
}

/** A CryptoKey for verifying with a published JWK, pinned to its algorithm. */
export async function verificationKey(jwk: PublicJwk): Promise<CryptoKey> {
  return (await importJWK(jwk, jwk.alg)) as CryptoKey
}
