import type { QueryOptions, ScopeOptions, Store, StoreValue, WriteOptions } from './store.js'

/**
 * A view of `store` whose calls default to `namespace` (a call may still name another),
 * so a service in a tenant's namespace reads and writes that tenant's records.
 */
export function namespacedStore(store: Store, namespace: string): Store {
  const scoped = <O extends ScopeOptions>(options: O | undefined): O => ({ namespace, ...options }) as O
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
    databases: (options?: { namespace?: string }) => store.databases(scoped(options)),
    tables: (options?: { namespace?: string; database?: string }) => store.tables(scoped(options)),
    close: () => store.close(),
  } satisfies Store
}
