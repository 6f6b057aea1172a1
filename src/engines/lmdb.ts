import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Key, RootDatabase, RootDatabaseOptions } from 'lmdb'

/** `~/.micro`: the embedded engines keep their files under it, one directory per block. */
export const DEFAULT_LMDB_ROOT = join(homedir(), '.micro')

/**
 * The directory a file-backed block uses: `address` (MICRO_<BLOCK>_ADDRESS) as a path or
 * a `file://` URL, trimmed; `~/.micro/<block>` when it is empty.
 */
export function lmdbDirectory(address: string | undefined, block: string): string {
  const text = address?.trim() ?? ''
  if (text === '') return join(DEFAULT_LMDB_ROOT, block)
  return text.startsWith('file:') ? fileURLToPath(text) : text
}

/** A use of a process-wide LMDB environment; `release` closes it once nobody uses it. */
export interface LmdbHandle<V = unknown, K extends Key = Key> {
  readonly root: RootDatabase<V, K>
  release(): Promise<void>
}

interface Entry {
  readonly root: RootDatabase<unknown, Key>
  users: number
}

const open = new Map<string, Entry>()
/** Environments being closed: a new open of the same path waits for the close. */
const closing = new Map<string, Promise<void>>()

/**
 * Open the LMDB environment at `path` once per process, however many stores and event logs
 * use it. LMDB forbids opening one environment twice in a process: two handles take its
 * write lock independently, and a write from one can wait for ever on the other (seen as a
 * publish that hung while a consumer on the same directory ran). The options of the first
 * open apply; later opens of the same path share them.
 */
export async function openLmdb<V, K extends Key>(
  path: string,
  options: RootDatabaseOptions = {},
): Promise<LmdbHandle<V, K>> {
  const key = resolve(path)
  // Loaded on first use: the native module costs ~50 ms to load.
  const lmdb = await import('lmdb')
  for (;;) {
    const pending = closing.get(key)
    if (!pending) break
    await pending
  }
  // No await from here on: the look-up and the count change together.
  let entry = open.get(key)
  if (!entry) {
    entry = { root: lmdb.open({ ...options, path: key }), users: 0 }
    open.set(key, entry)
  }
  entry.users++
  const used = entry
  let released = false
  return {
    root: used.root as unknown as RootDatabase<V, K>,
    release: async () => {
      if (released) return
      released = true
      if (--used.users > 0) return
      open.delete(key)
      const closed = used.root.close().finally(() => closing.delete(key))
      closing.set(key, closed)
      await closed
    },
  }
}

/** How many LMDB environments this process holds open now: for tests and diagnostics. */
export function openLmdbEnvironments(): number {
  return open.size
}
