import { MicroError } from '../errors/errors.js'
import type { ScopeOptions, Store } from '../store/store.js'

/**
 * Where auth keeps its records in the store it is given: one namespace and database (by
 * default `micro`/`auth`), a table per kind. Every key inside a table starts with the
 * account's namespace, so one platform serves every namespace from one place that no
 * namespace's own store calls reach (the platform's Store service must refuse it: see
 * README).
 */
export interface AuthTables {
  namespace: string
  database: string
}

/** Where auth keeps its records by default: database `auth` of namespace `micro`. */
export const DEFAULT_AUTH_TABLES: AuthTables = Object.freeze({ namespace: 'micro', database: 'auth' })

export type AuthTable =
  | 'accounts'
  | 'refresh'
  | 'families'
  | 'rules'
  | 'keys'
  | 'revoked'
  | 'bootstrap'
  | 'ca'

/** The store options that address one auth table. */
export function tableOptions(tables: AuthTables, table: AuthTable): ScopeOptions & { table: AuthTable } {
  return { namespace: tables.namespace, database: tables.database, table }
}

/** One record's value, or undefined when the key is missing or expired. */
export async function readValue<T>(store: Store, key: string, options: ScopeOptions): Promise<T | undefined> {
  try {
    return (await store.read<T>(key, options)).value
  } catch (error) {
    if (error instanceof MicroError && error.code === 404) return undefined
    throw error
  }
}
