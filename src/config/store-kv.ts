import { MicroError } from '../errors/errors.js'
import type { Store } from '../store/store.js'
import type { ConfigKV } from './kv.js'

/**
 * The config documents of a Store: one record per key in the `config` table of the
 * namespace (database `micro`), so `micro config` and a platform's config service share
 * them with the store.
 */
export function storeKV(store: Store, table = 'config'): ConfigKV & { close(): Promise<void> } {
  return {
    async read(key, { namespace }) {
      try {
        const record = await store.read<unknown>(key, { namespace, table })
        return typeof record.value === 'string' ? record.value : JSON.stringify(record.value)
      } catch (error) {
        if (error instanceof MicroError && error.code === 404) return undefined
        throw error
      }
    },
    write: (key, value, { namespace }) => store.write(key, value, { namespace, table }),
    delete: (key, { namespace }) => store.delete(key, { namespace, table }),
    close: () => store.close(),
  }
}
