/** The namespace every key/value call names (default `micro`), so tenants never share config. */
export interface KVOptions {
  namespace: string
}

/**
 * The little of a key/value store that store-backed config needs: one text value per key,
 * per namespace. The platform's Store fits through a small adapter; {@link MemoryConfigKV}
 * is the in-process one for tests and single-process use.
 */
export interface ConfigKV {
  /** The value, or undefined when the key is not set. */
  read(key: string, options: KVOptions): Promise<string | undefined>
  /** Create or replace the value. */
  write(key: string, value: string, options: KVOptions): Promise<void>
  /** Remove the key; removing a missing key is not an error. */
  delete(key: string, options: KVOptions): Promise<void>
  /**
   * Optional, for stores that are costly to open or read: a cheap token that changes
   * whenever the value may have changed, and undefined when the key was never written. A
   * reader that sees the same token as last time, or none, skips `read`. See
   * `mirroredKV`.
   */
  version?(key: string, options: KVOptions): Promise<string | undefined>
}
