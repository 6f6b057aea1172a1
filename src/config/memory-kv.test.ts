import { configKVConformance } from './conformance.js'
import { MemoryConfigKV } from './memory-kv.js'

configKVConformance('memory', () => new MemoryConfigKV())
