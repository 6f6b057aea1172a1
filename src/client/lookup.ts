import type { ServiceRecord } from '../registry/registry.js'

/**
 * How the client finds a service's nodes: a cached view of the registry. `peek` answers
 * from the cache without waiting (the hot path); `getService` fills it.
 */
export interface ServiceLookup {
  /** The cached nodes of a service, or undefined when they must be fetched (no waiting). */
  peek(name: string, namespace: string): readonly ServiceRecord[] | undefined
  /** The nodes of a service, from the cache or the registry. */
  getService(name: string, namespace: string): Promise<readonly ServiceRecord[]>
  /** Stop watching the registry and drop the cache. */
  close(): Promise<void> | void
}
