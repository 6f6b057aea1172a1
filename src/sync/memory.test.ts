import { syncConformance } from './conformance.js'
import { MemoryLockTable, MemorySync } from './memory.js'

const table = new MemoryLockTable()

syncConformance('memory', () => new MemorySync({ table }), {
  steal: async (namespace, id) => table.steal(MemorySync.keyOf(namespace, id)),
})
