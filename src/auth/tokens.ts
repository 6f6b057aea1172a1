import type { KeyObject } from 'node:crypto'
import { type JWTPayload, SignJWT } from 'jose'
import { unauthorized } from '../errors/errors.js'
import { type Account, AUTH_ERROR_ID } from './auth.js'
import type { Algorithm } from './key-material.js'

/** Default access token lifetime: short, since services verify them without asking anyone. */
export const DEFAULT_ACCESS_TTL = 10 * 60_000

/** The claims of an access token (Micro v3's, plus `uid` and the registered ones). */
export interface AccessClaims extends JWTPayload {
  /** The namespace: the issuer. */
  iss: string
  /** The account id. */
  sub: string
  type: Account['type']
  scopes: string[]
  metadata: Record<string, string>
  /** The account instance (see Account.uid). */
  uid: string
}

/** Sign an access token for `account`; resolves with it and its expiry (epoch ms). */
export async function signAccessToken(
  account: Account,
  key: { kid: string; alg: Algorithm; key: KeyObject },
  ttlMs: number = DEFAULT_ACCESS_TTL,
): Promise<{ token: string; expiry: number }> {
  const now = Math.floor(Date.now() / 1000)
  const exp = now + Math.max(1, Math.floor(ttlMs / 1000))
  const claims = { type: account.type, scopes: account.scopes, metadata: account.metadata, uid: account.uid }
  // Every call carries the token: no `typ`, `nbf` (= iat) or `jti` (nothing uses it).
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuer(account.issuer)
    .setSubject(account.id)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .sign(key.key)
  return { token, expiry: exp * 1000 }
}

/**
 * The account a verified token's payload describes, or a 401 when a claim is missing or
 * of the wrong type (a token signed by us always has them; anything else is refused).
 */
export function accountFromClaims(payload: JWTPayload): Account {
  const p = payload as Partial<AccessClaims>
  const scopes = p.scopes
  const metadata = p.metadata
  if (
    typeof p.iss !== 'string' ||
    typeof p.sub !== 'string' ||
    (p.type !== 'user' && p.type !== 'service') ||
    typeof p.uid !== 'string' ||
    !Array.isArray(scopes) ||
    !scopes.every((s) => typeof s === 'string') ||
    typeof metadata !== 'object' ||
    metadata === null ||
    !Object.values(metadata).every((v) => typeof v === 'string')
  ) {
    throw unauthorized(AUTH_ERROR_ID, 'the token does not describe an account')
  }
  return { id: p.sub, type: p.type, issuer: p.iss, scopes, metadata, uid: p.uid }
}
