import { registryConformance } from './conformance.js'
import { MemoryRegistry } from './memory.js'

// A short sweep interval keeps the TTL tests near the TTL itself.
registryConformance('memory', () => new MemoryRegistry({ sweepInterval: 50 }))
