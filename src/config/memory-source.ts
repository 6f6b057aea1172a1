import type { Source, Unwatch } from './source.js'
import { type ConfigObject, clone, deleteAt, isPlainObject, setAt, splitPath } from './tree.js'

/** A source held in memory that can be changed at run time: for tests and overrides. */
export interface MemorySource extends Source {
  read(): ConfigObject
  /** Set the value at a dotted path (undefined deletes it); watchers of the config see it. */
  set(path: string, value: unknown): void
  /** Remove the value at a dotted path; false when there was none. */
  delete(path: string): boolean
  /** Replace everything. */
  replace(data: ConfigObject): void
}

/**
 * A config source holding `data` in memory (copied). Changes through `set`, `delete` and
 * `replace` reach every config loaded from it synchronously.
 */
export function memorySource(data: ConfigObject = {}, options: { name?: string } = {}): MemorySource {
  let tree = clone(data) as ConfigObject
  const listeners = new Set<() => void>()
  const changed = () => {
    for (const listener of [...listeners]) listener()
  }
  return {
    name: options.name ?? 'memory',
    read: () => clone(tree) as ConfigObject,
    set(path, value) {
      if (value === undefined) {
        this.delete(path)
        return
      }
      const parts = splitPath(path)
      if (parts.length === 0) {
        if (!isPlainObject(value)) throw new TypeError('the config root can only be set to an object')
        this.replace(value)
        return
      }
      setAt(tree, parts, clone(value))
      changed()
    },
    delete(path) {
      const parts = splitPath(path)
      if (parts.length === 0) {
        tree = {}
        changed()
        return true
      }
      const removed = deleteAt(tree, parts)
      if (removed) changed()
      return removed
    },
    replace(next) {
      tree = clone(next) as ConfigObject
      changed()
    },
    watch(onChange): Unwatch {
      const listener = () => onChange()
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
