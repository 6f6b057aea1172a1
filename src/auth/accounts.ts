import { badRequest, conflict, notFound } from '../errors/errors.js'
import { NAMESPACE_NAME } from '../registry/registry.js'
import type { Store } from '../store/store.js'
import { type Account, type AccountType, AUTH_ERROR_ID } from './auth.js'
import { hashSecret, randomToken, type SecretHash, verifySecret } from './secrets.js'
import { type AuthTables, readValue, tableOptions } from './tables.js'

/** An account as stored: with its secret's hash, when it has one. */
interface StoredAccount extends Account {
  secret?: SecretHash
  /** Epoch ms */
  created: number
}

/** An account to create: its id, type, scopes and (for users and services) secret. */
export interface NewAccount {
  namespace: string
  id: string
  type?: AccountType
  scopes?: string[]
  metadata?: Record<string, string>
  /** The secret to set; one is generated (and returned once) when absent, unless `noSecret`. */
  secret?: string
  /** An account that can only log in by other means (the bootstrap admin, a certificate). */
  noSecret?: boolean
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/
const SCOPE = /^[^\s,]{1,128}$/
const MIN_SECRET = 8
const MAX_SECRET = 1024

/** The namespace, or a 400. */
export function checkNamespace(namespace: unknown): string {
  if (typeof namespace !== 'string' || !NAMESPACE_NAME.test(namespace)) {
    throw badRequest(AUTH_ERROR_ID, 'a namespace is 1-64 letters, digits, _ and -')
  }
  return namespace
}

/** The account id, or a 400. */
export function checkAccountId(id: unknown): string {
  if (typeof id !== 'string' || !ID.test(id)) {
    throw badRequest(
      AUTH_ERROR_ID,
      'an account id is 1-128 letters, digits, . _ @ - (starting with a letter or digit)',
    )
  }
  return id
}

/** A secret someone chose, or a 400 (that never repeats it). */
export function checkSecret(secret: unknown): string {
  if (typeof secret !== 'string' || secret.length < MIN_SECRET || secret.length > MAX_SECRET) {
    throw badRequest(AUTH_ERROR_ID, `a secret is ${MIN_SECRET} to ${MAX_SECRET} characters`)
  }
  return secret
}

function checkScopes(scopes: unknown): string[] {
  if (scopes === undefined) return []
  if (
    !Array.isArray(scopes) ||
    scopes.length > 64 ||
    !scopes.every((s) => typeof s === 'string' && SCOPE.test(s))
  ) {
    throw badRequest(AUTH_ERROR_ID, 'scopes are up to 64 strings without spaces or commas')
  }
  return [...new Set(scopes as string[])]
}

function checkMetadata(metadata: unknown): Record<string, string> {
  if (metadata === undefined) return {}
  const entries = typeof metadata === 'object' && metadata !== null ? Object.entries(metadata) : undefined
  if (
    !entries ||
    entries.length > 32 ||
    !entries.every(([k, v]) => typeof v === 'string' && k.length <= 64 && v.length <= 1024)
  ) {
    throw badRequest(AUTH_ERROR_ID, 'metadata is up to 32 string values')
  }
  return Object.fromEntries(entries) as Record<string, string>
}

/** The public view of an account: never the secret's hash. */
export function publicAccount(account: Account): Account {
  return {
    id: account.id,
    type: account.type,
    issuer: account.issuer,
    scopes: [...account.scopes],
    metadata: { ...account.metadata },
    uid: account.uid,
  }
}

/** Accounts of every namespace, with scrypt-hashed secrets, in the auth tables of a store. */
export class AccountStore {
  readonly #store: Store
  readonly #tables: AuthTables

  constructor(store: Store, tables: AuthTables) {
    this.#store = store
    this.#tables = tables
  }

  /** Create an account; resolves with it and the generated secret (shown once) when none was given. 409 if the id is taken. */
  async create(input: NewAccount): Promise<{ account: Account; secret?: string }> {
    const namespace = checkNamespace(input.namespace)
    const id = checkAccountId(input.id)
    const type = input.type ?? 'user'
    if (type !== 'user' && type !== 'service')
      throw badRequest(AUTH_ERROR_ID, 'an account type is user or service')
    if (input.secret !== undefined) checkSecret(input.secret)
    if (await this.get(namespace, id))
      throw conflict(AUTH_ERROR_ID, `account ${id} already exists in namespace ${namespace}`)
    const generated = input.secret === undefined && !input.noSecret ? randomToken(24) : undefined
    const secret = input.secret ?? generated
    const account: StoredAccount = {
      id,
      type,
      issuer: namespace,
      scopes: checkScopes(input.scopes),
      metadata: checkMetadata(input.metadata),
      uid: randomToken(12),
      created: Date.now(),
    }
    if (secret !== undefined) account.secret = await hashSecret(secret)
    await this.#store.write(`${namespace}/${id}`, account, tableOptions(this.#tables, 'accounts'))
    return generated === undefined
      ? { account: publicAccount(account) }
      : { account: publicAccount(account), secret: generated }
  }

  /** An account by namespace and id, or undefined. */
  async get(namespace: string, id: string): Promise<StoredAccount | undefined> {
    return readValue<StoredAccount>(this.#store, `${namespace}/${id}`, tableOptions(this.#tables, 'accounts'))
  }

  /** Accounts of a namespace, without secrets, by id. */
  async list(namespace: string): Promise<Account[]> {
    checkNamespace(namespace)
    const records = await this.#store.read<StoredAccount>({
      ...tableOptions(this.#tables, 'accounts'),
      prefix: `${namespace}/`,
    })
    return records.map((r) => publicAccount(r.value))
  }

  /** Whether a namespace has any user account (the bootstrap runs until `micro` has one). */
  async hasUser(namespace: string): Promise<boolean> {
    return (await this.list(namespace)).some((a) => a.type === 'user')
  }

  /** Delete an account; resolves with it (404 when missing). Its tokens are revoked by the caller. */
  async delete(namespace: string, id: string): Promise<Account> {
    const account = await this.get(checkNamespace(namespace), checkAccountId(id))
    if (!account) throw notFound(AUTH_ERROR_ID, `account ${id} not found in namespace ${namespace}`)
    await this.#store.delete(`${namespace}/${id}`, tableOptions(this.#tables, 'accounts'))
    return publicAccount(account)
  }

  /** Replace an account's secret (404 when missing). */
  async changeSecret(namespace: string, id: string, secret: string): Promise<void> {
    const account = await this.get(checkNamespace(namespace), checkAccountId(id))
    if (!account) throw notFound(AUTH_ERROR_ID, `account ${id} not found in namespace ${namespace}`)
    account.secret = await hashSecret(checkSecret(secret))
    await this.#store.write(`${namespace}/${id}`, account, tableOptions(this.#tables, 'accounts'))
  }

  /**
   * The account when `secret` is its secret, else undefined. Unknown ids, accounts without
   * a secret and wrong secrets take the same time and give the same answer.
   */
  async authenticate(namespace: string, id: string, secret: string): Promise<Account | undefined> {
    const account = NAMESPACE_NAME.test(namespace) && ID.test(id) ? await this.get(namespace, id) : undefined
    const ok = await verifySecret(String(secret).slice(0, MAX_SECRET), account?.secret)
    return ok && account ? publicAccount(account) : undefined
  }
}
