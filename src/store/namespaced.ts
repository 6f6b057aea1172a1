import type { QueryOptions, ScopeOptions, Store, StoreValue, WriteOptions } from './store.js'

/** Where calls go when they name no database or table. */
export interface StoreDefaults {
  database?: string
  table?: string
}

/**
 * A view of `store` whose calls default to `namespace` (and to `defaults`' database and
 * table); a call may still name others. A service in a tenant's namespace reads and
 * writes that tenant's records; a service.toml service its own table.
 */
export function namespacedStore(store: Store, namespace: string, defaults: StoreDefaults = {}): Store {
  const base: ScopeOptions = { namespace, ...defaults }
  // A key given as undefined keeps the default, as a key left out does.
  const scoped = <O extends ScopeOptions>(options: O | undefined): O => {
    const out: Record<string, unknown> = { ...base }
    for (const [key, value] of Object.entries(options ?? {})) if (value !== undefined) out[key] = value
    return out as O
  }
  const inNamespace = <O extends { namespace?: string }>(options: O | undefined): O =>
    ({ namespace, ...options }) as O
  return {
    get name() {
      return store.name
    },
    read: ((keyOrQuery: string | QueryOptions, options?: ScopeOptions) =>
      typeof keyOrQuery === 'string'
        ? store.read(keyOrQuery, scoped(options))
        : store.read(scoped(keyOrQuery))) as Store['read'],
    write: (key: string, value: StoreValue, options?: WriteOptions) =>
      store.write(key, value, scoped(options)),
    delete: (key: string, options?: ScopeOptions) => store.delete(key, scoped(options)),
    list: (query?: QueryOptions) => store.list(scoped(query)),
    databases: (options?: { namespace?: string }) => store.databases(inNamespace(options)),
    tables: (options?: { namespace?: string; database?: string }) =>
      store.tables({ ...inNamespace(options), database: options?.database ?? defaults.database }),
    close: () => store.close(),
  } satisfies Store
}
