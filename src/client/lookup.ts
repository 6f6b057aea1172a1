import type { ServiceRecord } from '../registry/registry.js'

/**
 * How the client finds a service's nodes: a cached view of the registry. `peek` answers
 * from the cache without waiting (the hot path); `getService` fills it.
 */
export interface ServiceLookup {
  peek(name: string, namespace: string): readonly ServiceRecord[] | undefined
  getService(name: string, namespace: string): Promise<readonly ServiceRecord[]>
  close(): Promise<void> | void
}
