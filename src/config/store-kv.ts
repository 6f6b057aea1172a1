import { MicroError } from '../errors/errors.js'
import type { Store } from '../store/store.js'
import type { ConfigKV } from './kv.js'
import { mirroredKV } from './mirrored-kv.js'

/**
 * The config documents of a Store: one record per key in the `config` table of the
 * namespace (database `micro`), so `micro config` and a platform's config service share
 * them with the store. For the file store, values are also mirrored in small files in its directory
 * (`mirroredKV`), which readers read without opening the database.
 */
export function storeKV(
  store: Store,
  table = 'config',
): ConfigKV & {
  /** Close the store. */
  close(): Promise<void>
} {
  const kv: ConfigKV = {
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
  }
  const directory = localDirectoryOf(store)
  const mirrored = directory === undefined ? kv : mirroredKV(kv, directory, table)
  return Object.assign(mirrored, { close: () => store.close() })
}

/** The directory of a file store (engine `file`, which keeps it as `directory`), else undefined. */
function localDirectoryOf(store: Store): string | undefined {
  const directory = (store as { directory?: unknown }).directory
  return store.name === 'file' && typeof directory === 'string' ? directory : undefined
}
