import { storeConformance } from './conformance.js'
import { MemoryStore } from './memory.js'

storeConformance('memory', () => new MemoryStore({ sweepInterval: 100 }))
