import { MemoryRegistry } from './memory.js'
import type {
  NamespaceOption,
  RegisterOptions,
  Registry,
  ServiceRecord,
  Watcher,
  WatchOptions,
} from './registry.js'

let shared: MemoryRegistry | undefined

/**
 * A handle on the one MemoryRegistry of this process, so in-process services find each
 * other. Each handle's `close()` ends only the watchers it made: one service stopping must
 * not take the registry away from the others.
 */
export function sharedMemoryRegistry(): Registry {
  shared ??= new MemoryRegistry()
  return new SharedMemoryHandle(shared)
}

class SharedMemoryHandle implements Registry {
  readonly name = 'memory'
  readonly #registry: MemoryRegistry
  readonly #closed = new AbortController()

  constructor(registry: MemoryRegistry) {
    this.#registry = registry
  }

  register(service: ServiceRecord, options?: RegisterOptions): Promise<void> {
    return this.#registry.register(service, options)
  }

  deregister(service: ServiceRecord, options?: NamespaceOption): Promise<void> {
    return this.#registry.deregister(service, options)
  }

  getService(name: string, options?: NamespaceOption): Promise<ServiceRecord[]> {
    return this.#registry.getService(name, options)
  }

  listServices(options?: NamespaceOption): Promise<ServiceRecord[]> {
    return this.#registry.listServices(options)
  }

  watch(options: WatchOptions = {}): Watcher {
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.#closed.signal])
      : this.#closed.signal
    return this.#registry.watch({ ...options, signal })
  }

  async close(): Promise<void> {
    this.#closed.abort()
  }
}
