import { chmod, mkdir, open } from 'node:fs/promises'
import { join } from 'node:path'
import { FileStore } from '../store/file.js'
import type { Store } from '../store/store.js'
import { DEFAULT_AUTH_DIRECTORY } from './authority.js'

/** The files the file store keeps its records in (LMDB's data and lock files). */
const STORE_FILES = ['store.mdb', 'store.mdb-lock']

/**
 * The platform's auth records on the file engine: an LMDB store of its own (default
 * `~/.micro/auth`, next to the key file), not the shared `~/.micro/store` every local
 * service opens. The directory is 0700 and the files 0600: they are made before LMDB opens
 * them, since LMDB would create them with the process umask (usually 0644).
 */
export async function openAuthFileStore(directory: string = DEFAULT_AUTH_DIRECTORY): Promise<Store> {
  await mkdir(directory, { recursive: true, mode: 0o700 })
  await chmod(directory, 0o700)
  for (const name of STORE_FILES) {
    const path = join(directory, name)
    const handle = await open(path, 'a', 0o600)
    await handle.close()
    await chmod(path, 0o600)
  }
  return new FileStore({ directory })
}
