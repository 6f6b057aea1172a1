import { unauthorized } from '../errors/errors.js'
import type { Store } from '../store/store.js'
import { type Account, AUTH_ERROR_ID } from './auth.js'
import { randomToken, tokenDigest } from './secrets.js'
import { type AuthTables, readValue, tableOptions } from './tables.js'

/** Default refresh token lifetime: a week of not using it logs you out. */
export const DEFAULT_REFRESH_TTL = 7 * 24 * 3600_000

/** One refresh token, stored under the SHA-256 of its text (the text itself is never kept). */
interface RefreshRecord {
  family: string
  namespace: string
  account: string
  uid: string
  /** Epoch ms */
  expiresAt: number
  /** Set when it was exchanged: using it again means it was copied. */
  usedAt?: number
}

/** A login: every refresh token descending from it by rotation. */
interface FamilyRecord {
  namespace: string
  account: string
  uid: string
  revoked?: boolean
}

/** Who a rotated refresh token belonged to. */
export interface RefreshOwner {
  namespace: string
  account: string
  uid: string
  family: string
}

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/

/**
 * Opaque refresh tokens: 32 random bytes, stored hashed, rotated on every use. A token used
 * a second time was copied (the legitimate holder already got its successor), so the whole
 * login (family) is revoked. Deleting an account or logging out revokes its families.
 */
export class RefreshTokens {
  readonly #store: Store
  readonly #tables: AuthTables
  readonly #ttl: number
  /** Rotations in progress by token digest: two concurrent uses of one token are not both first. */
  readonly #rotating = new Map<string, Promise<unknown>>()

  constructor(store: Store, tables: AuthTables, ttlMs = DEFAULT_REFRESH_TTL) {
    this.#store = store
    this.#tables = tables
    this.#ttl = ttlMs
  }

  /** A new refresh token for `account`, in `family` (a new login when absent). */
  async issue(account: Account, family?: string): Promise<{ token: string; expiry: number; family: string }> {
    const token = randomToken(32)
    const expiresAt = Date.now() + this.#ttl
    const familyId = family ?? randomToken(16)
    if (family === undefined) {
      const record: FamilyRecord = { namespace: account.issuer, account: account.id, uid: account.uid }
      await this.#store.write(`f/${familyId}`, record, { ...this.#families, expiry: expiresAt })
      await this.#store.write(`a/${account.issuer}/${account.id}/${familyId}`, familyId, {
        ...this.#families,
        expiry: expiresAt,
      })
    } else {
      await this.#extend(familyId, expiresAt)
    }
    const record: RefreshRecord = {
      family: familyId,
      namespace: account.issuer,
      account: account.id,
      uid: account.uid,
      expiresAt,
    }
    await this.#store.write(tokenDigest(token), record, { ...this.#refresh, expiry: expiresAt })
    return { token, expiry: expiresAt, family: familyId }
  }

  /**
   * Exchange a refresh token: resolves with its owner (the caller issues the successor in
   * the same family). A 401 for an unknown, expired or revoked token; reuse revokes the family.
   */
  async rotate(token: string): Promise<RefreshOwner> {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) throw invalid()
    const digest = tokenDigest(token)
    const previous = this.#rotating.get(digest) ?? Promise.resolve()
    const run = previous.catch(() => undefined).then(() => this.#rotate(digest))
    this.#rotating.set(digest, run)
    try {
      return await run
    } finally {
      if (this.#rotating.get(digest) === run) this.#rotating.delete(digest)
    }
  }

  /** Revoke the login a refresh token belongs to (logout). Unknown tokens are ignored. */
  async revoke(token: string): Promise<void> {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return
    const record = await readValue<RefreshRecord>(this.#store, tokenDigest(token), this.#refresh)
    if (record) await this.#revokeFamily(record.family)
  }

  /** Revoke every login of an account (it was deleted, or its secret changed). */
  async revokeAccount(namespace: string, id: string): Promise<void> {
    const keys = await this.#store.list({ ...this.#families, prefix: `a/${namespace}/${id}/` })
    for (const key of keys) {
      await this.#revokeFamily(key.slice(key.lastIndexOf('/') + 1))
      await this.#store.delete(key, this.#families)
    }
  }

  async #rotate(digest: string): Promise<RefreshOwner> {
    const record = await readValue<RefreshRecord>(this.#store, digest, this.#refresh)
    if (!record || record.expiresAt <= Date.now()) throw invalid()
    const family = await readValue<FamilyRecord>(this.#store, `f/${record.family}`, this.#families)
    if (!family || family.revoked) throw invalid()
    if (record.usedAt !== undefined) {
      await this.#revokeFamily(record.family)
      throw unauthorized(
        AUTH_ERROR_ID,
        'this refresh token was already used: every token of this login is revoked (log in again)',
      )
    }
    await this.#store.write(
      digest,
      { ...record, usedAt: Date.now() },
      { ...this.#refresh, expiry: record.expiresAt },
    )
    return { namespace: record.namespace, account: record.account, uid: record.uid, family: record.family }
  }

  async #revokeFamily(family: string): Promise<void> {
    const record = await readValue<FamilyRecord>(this.#store, `f/${family}`, this.#families)
    if (!record || record.revoked) return
    // Kept (revoked) until its tokens would have expired, so a reuse is still recognised.
    await this.#store.write(
      `f/${family}`,
      { ...record, revoked: true },
      { ...this.#families, ttl: this.#ttl },
    )
  }

  async #extend(family: string, expiresAt: number): Promise<void> {
    const record = await readValue<FamilyRecord>(this.#store, `f/${family}`, this.#families)
    if (!record || record.revoked) throw invalid()
    await this.#store.write(`f/${family}`, record, { ...this.#families, expiry: expiresAt })
    await this.#store.write(`a/${record.namespace}/${record.account}/${family}`, family, {
      ...this.#families,
      expiry: expiresAt,
    })
  }

  get #refresh() {
    return tableOptions(this.#tables, 'refresh')
  }

  get #families() {
    return tableOptions(this.#tables, 'families')
  }
}

function invalid() {
  return unauthorized(AUTH_ERROR_ID, 'invalid refresh token: unknown, expired or revoked')
}
