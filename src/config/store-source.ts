import type { ConfigKV } from './kv.js'
import type { Source, Unwatch } from './source.js'
import { ConfigDocument } from './store-document.js'

/** Options of {@link storeSource}. */
export interface StoreSourceOptions {
  /** The document's key. Default `config`. */
  key?: string
  /** Default `micro`. */
  namespace?: string
  /** How often the document is re-read to see changes, in ms. Default 5000. */
  pollInterval?: number
}

/**
 * Config from a JSON document in a key/value store (one per namespace and key, as
 * `micro config set` writes it), so a platform can serve config to its services. The
 * store has no change feed in this interface, so changes are seen by polling every
 * `pollInterval` ms: a change reaches watchers within one interval. A document that is
 * not valid JSON leaves the previous values in force. When the store offers a cheap
 * version token (the file store's mirror), the document is read only when the token
 * changes, and not at all while it was never written.
 */
export function storeSource(kv: ConfigKV, options: StoreSourceOptions = {}): Source {
  const document = new ConfigDocument(kv, options)
  const interval = options.pollInterval ?? 5000
  let last: string | undefined
  // The version the last read saw; null: the store has no versions.
  let seen: string | undefined | null = null
  const readRaw = async () => {
    const version = await document.version()
    // Noted only once the read succeeded: a failed read is retried at the next poll.
    last = version === undefined ? undefined : await document.raw()
    seen = version
    return last
  }
  return {
    name: document.name,
    async read() {
      return document.parse(await readRaw())
    },
    watch(onChange, onError): Unwatch {
      let polling = false
      let stopped = false
      const poll = async () => {
        if (polling || stopped) return
        polling = true
        try {
          if (seen !== null && (await document.version()) === seen) return
          const before = last
          if ((await readRaw()) !== before && !stopped) onChange()
        } catch (error) {
          if (!stopped) onError(error)
        } finally {
          polling = false
        }
      }
      const timer = setInterval(poll, interval)
      timer.unref()
      return () => {
        stopped = true
        clearInterval(timer)
      }
    },
  }
}
