import type { ConfigKV, KVOptions } from './kv.js'

/** A {@link ConfigKV} in a Map: for tests, and for config shared inside one process. */
export class MemoryConfigKV implements ConfigKV {
  readonly #values = new Map<string, string>()

  async read(key: string, options: KVOptions): Promise<string | undefined> {
    return this.#values.get(slot(key, options))
  }

  async write(key: string, value: string, options: KVOptions): Promise<void> {
    this.#values.set(slot(key, options), value)
  }

  async delete(key: string, options: KVOptions): Promise<void> {
    this.#values.delete(slot(key, options))
  }
}

// JSON of the pair: no separator character a namespace or key could contain to collide.
function slot(key: string, options: KVOptions): string {
  return JSON.stringify([options.namespace, key])
}
