import { EngineChoice } from '../engines/choice.js'
import { platformAddress } from '../engines/platform.js'
import { ServiceStore } from '../store/service.js'
import type { ConfigKV } from './kv.js'
import type { Source, Unwatch } from './source.js'
import { DEFAULT_CONFIG_KEY } from './store-document.js'
import { storeKV } from './store-kv.js'
import { storeSource } from './store-source.js'

/** Where a service's config may come from besides file, env and flags. */
export const CONFIG_NAMES = ['local', 'service'] as const

/**
 * `MICRO_CONFIG`: `local` (file, env and flags only; the default) or `service` (the
 * platform's config document too; MICRO_PLATFORM alone picks it).
 */
export const CONFIG_ENGINES = new EngineChoice('config', CONFIG_NAMES, 'local')

/** Options of {@link platformConfigSource}. */
export interface PlatformConfigSourceOptions {
  /** The platform, `host:port`. Default MICRO_PLATFORM, else `127.0.0.1:8081`. */
  address?: string
  /** Default `micro`. */
  namespace?: string
  /** The document's key. Default `config`. */
  key?: string
  /** How often a watched document is read again, ms. Default 5000. */
  pollInterval?: number
}

/**
 * A config source on a platform's config document (what `micro config set` and the
 * platform's `Config` service write), read through the platform's store. Secrets stay
 * sealed (`enc:v1:`) and are opened here with MICRO_CONFIG_SECRET_KEY when read. Changes
 * are seen by polling. When the platform is unreachable, a reload fails and the config
 * keeps the values it had (the loader keeps a source's last good read).
 */
export function platformConfigSource(options: PlatformConfigSourceOptions = {}): Source {
  const address = platformAddress(options.address)
  const namespace = options.namespace ?? 'micro'
  const key = options.key ?? DEFAULT_CONFIG_KEY
  // Held while watched; a read outside a watch opens and closes a client of its own.
  let watched: ServiceStore | undefined
  const kv: ConfigKV = {
    async read(name, where) {
      const store = watched ?? new ServiceStore({ address })
      try {
        return await storeKV(store).read(name, where)
      } finally {
        if (store !== watched) await store.close()
      }
    },
    write: () => Promise.reject(new TypeError('the platform config source is read-only')),
    delete: () => Promise.reject(new TypeError('the platform config source is read-only')),
  }
  const inner = storeSource(kv, { namespace, key, pollInterval: options.pollInterval })
  return {
    name: `platform:${address}/${namespace}/${key}`,
    read: () => inner.read(),
    watch(onChange, onError): Unwatch {
      const store = new ServiceStore({ address })
      watched = store
      const unwatch = inner.watch?.(onChange, onError)
      return () => {
        unwatch?.()
        if (watched === store) watched = undefined
        void store.close()
      }
    },
  }
}

/**
 * The platform config source MICRO_CONFIG (+ MICRO_CONFIG_ADDRESS) or MICRO_PLATFORM ask
 * for, or undefined when config is local. An unknown MICRO_CONFIG is a TypeError naming the
 * known ones.
 */
export function configSourceFromEnv(env: NodeJS.ProcessEnv, namespace: string): Source | undefined {
  if (CONFIG_ENGINES.fromEnv(env, 'MICRO_CONFIG') !== 'service') return undefined
  return platformConfigSource({
    address: platformAddress(env.MICRO_CONFIG_ADDRESS || undefined, env),
    namespace,
  })
}
