import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ConfigKV, KVOptions } from './kv.js'

/** The folder under a file store's directory that holds the mirrors. */
export const MIRROR_FOLDER = 'config-mirror'

/**
 * A {@link ConfigKV} that keeps a copy of each value in a small file per table, namespace
 * and key under `directory`, and reads that copy: for the file store, where reading a
 * config document meant loading LMDB (two native modules: ~4 MB of RSS and tens of ms at
 * start, ~9 MB with what loading them costs Node) in every service, only to learn that
 * nobody ever ran `micro config set` for its namespace. `version` is the copy's text: a
 * reader that sees the same text as last time, or no copy, reads nothing. Values written
 * through a mirrored KV (the CLI's, every service's) are seen; a write to the store's
 * `config` table that bypasses it is not, until the next mirrored write.
 *
 * The store stays the record: a write goes to it first, then to the copy (a temporary file
 * renamed over it, so a reader never sees half of one; mode 0600, as values can hold
 * sealed secrets). Two processes writing at once could leave the older value as the copy,
 * so each writer reads the store back after writing the copy and writes again until they
 * agree: whoever writes the copy last has just read the store's latest value.
 */
export function mirroredKV(kv: ConfigKV, directory: string, table = 'config'): ConfigKV {
  const folder = join(directory, MIRROR_FOLDER)
  const fileOf = (key: string, { namespace }: KVOptions) =>
    // encodeURIComponent never leaves '/' or '@', so names cannot climb out or collide.
    join(folder, [table, namespace, key].map(encodeURIComponent).join('@'))
  const readCopy = async (key: string, options: KVOptions): Promise<string | undefined> => {
    try {
      return await readFile(fileOf(key, options), 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  }
  const writeCopy = async (key: string, options: KVOptions, value: string | undefined) => {
    const path = fileOf(key, options)
    const temp = `${path}.${randomBytes(8).toString('hex')}.tmp`
    await mkdir(folder, { recursive: true })
    await writeFile(temp, JSON.stringify(value === undefined ? {} : { value }), { mode: 0o600 })
    await rename(temp, path)
  }
  const mirror = async (key: string, options: KVOptions, written: string | undefined) => {
    let value = written
    for (let round = 0; round < 10; round++) {
      await writeCopy(key, options, value)
      const stored = await kv.read(key, options)
      if (stored === value) return
      value = stored
    }
  }
  return {
    async read(key, options) {
      const copy = await readCopy(key, options)
      if (copy === undefined) return kv.read(key, options)
      return (JSON.parse(copy) as { value?: string }).value
    },
    async write(key, value, options) {
      await kv.write(key, value, options)
      await mirror(key, options, value)
    },
    async delete(key, options) {
      await kv.delete(key, options)
      await mirror(key, options, undefined)
    },
    version: readCopy,
  }
}
