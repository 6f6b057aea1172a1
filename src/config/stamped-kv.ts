import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ConfigKV, KVOptions } from './kv.js'

/** The folder under a file store's directory that holds the stamps. */
export const STAMP_FOLDER = 'config-stamps'

/**
 * A {@link ConfigKV} whose writes and deletes also replace a small stamp file per
 * table, namespace and key under `directory`, and whose `version` reads that stamp: for the file
 * store, where a service would otherwise load LMDB (two native modules, ~4 MB of RSS and
 * tens of ms) at start only to learn that nobody ever ran `micro config set` for its
 * namespace, and then read LMDB every poll. Readers see every change made through a
 * stamped KV (the CLI's and every service's); a write to the store's `config` table that
 * bypasses it is not noticed until the next stamped change.
 *
 * The stamp is a random token written to a temporary file and renamed over the stamp, so a
 * reader never sees it half-written, and a token rather than the file's mtime, which the
 * kernel keeps at clock-tick resolution (two writes in one tick would look like one). The
 * store is written first and the stamp after, so a reader that sees a new token reads the
 * new value or a newer one.
 */
export function stampedKV(kv: ConfigKV, directory: string, table = 'config'): ConfigKV {
  const folder = join(directory, STAMP_FOLDER)
  const stampOf = (key: string, { namespace }: KVOptions) =>
    // encodeURIComponent never leaves '/' or '@', so names cannot climb out or collide.
    join(folder, [table, namespace, key].map(encodeURIComponent).join('@'))
  const stamp = async (key: string, options: KVOptions) => {
    const path = stampOf(key, options)
    const token = randomBytes(12).toString('hex')
    await mkdir(folder, { recursive: true })
    await writeFile(`${path}.${token}.tmp`, token)
    await rename(`${path}.${token}.tmp`, path)
  }
  return {
    read: (key, options) => kv.read(key, options),
    async write(key, value, options) {
      await kv.write(key, value, options)
      await stamp(key, options)
    },
    async delete(key, options) {
      await kv.delete(key, options)
      await stamp(key, options)
    },
    async version(key, options) {
      try {
        return await readFile(stampOf(key, options), 'utf8')
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw error
      }
    },
  }
}
