import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/**
 * A dependency loaded on first use, synchronously (as CommonJS). For parsers and codecs
 * that most services never touch: loading them at start-up would cost every service
 * tens of milliseconds before it serves.
 */
export function lazyRequire<T>(name: string): () => T {
  let loaded: T | undefined
  return () => {
    loaded ??= require(name) as T
    return loaded
  }
}
