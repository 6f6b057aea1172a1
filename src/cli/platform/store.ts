import type { QueryOptions, ScopeOptions, Store, StoreRecord, WriteOptions } from '../../store/store.js'
import { listOf, type PlatformClient } from './platform-client.js'

/**
 * The platform's store as a {@link Store}, through its `Store` endpoints. Every request is
 * flat JSON carrying its scope (`namespace`, `database`, `table`):
 *
 * - `Store.Read {key, ...scope}` or `{prefix?, suffix?, limit?, offset?, order?, ...scope}`
 *   answers `{records: [{key, value, metadata, expiry?}]}` (a missing key is a 404)
 * - `Store.Write {key, value, metadata?, ttl?, expiry?, ...scope}`
 * - `Store.Delete {key, ...scope}`
 * - `Store.List {...query}` answers `{keys}`; `Store.Databases {namespace}` `{databases}`;
 *   `Store.Tables {namespace, database?}` `{tables}`
 *
 * `close()` closes `platform` (the store owns it).
 */
export function platformStore(platform: PlatformClient): Store {
  const read = async (keyOrQuery: string | QueryOptions, options: ScopeOptions = {}) => {
    if (typeof keyOrQuery === 'string') {
      const reply = await platform.call('Store.Read', { ...scope(options), key: keyOrQuery })
      const [record] = listOf<StoreRecord>(reply, 'records')
      if (!record) throw new Error(`the platform answered Store.Read for ${keyOrQuery} without a record`)
      return record
    }
    return listOf<StoreRecord>(await platform.call('Store.Read', query(keyOrQuery)), 'records')
  }
  return {
    name: 'platform',
    read: read as Store['read'],
    async write(key: string, value: unknown, options: WriteOptions = {}) {
      const expiry = options.expiry instanceof Date ? options.expiry.getTime() : options.expiry
      await platform.call('Store.Write', {
        ...scope(options),
        key,
        value,
        metadata: options.metadata,
        ttl: options.ttl,
        expiry,
      })
    },
    async delete(key: string, options: ScopeOptions = {}) {
      await platform.call('Store.Delete', { ...scope(options), key })
    },
    async list(options: QueryOptions = {}) {
      return listOf<string>(await platform.call('Store.List', query(options)), 'keys')
    },
    async databases(options: { namespace?: string } = {}) {
      return listOf<string>(
        await platform.call('Store.Databases', { namespace: options.namespace }),
        'databases',
      )
    },
    async tables(options: { namespace?: string; database?: string } = {}) {
      const reply = await platform.call('Store.Tables', {
        namespace: options.namespace,
        database: options.database,
      })
      return listOf<string>(reply, 'tables')
    },
    close: () => platform.close(),
  }
}

function scope(options: ScopeOptions): ScopeOptions {
  return { namespace: options.namespace, database: options.database, table: options.table }
}

function query(options: QueryOptions): QueryOptions {
  const { prefix, suffix, limit, offset, order } = options
  return { ...scope(options), prefix, suffix, limit, offset, order }
}
