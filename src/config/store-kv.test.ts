import { MemoryStore } from '../store/memory.js'
import { configKVConformance } from './conformance-kv.js'
import { storeKV } from './store-kv.js'

configKVConformance('store-backed', () => storeKV(new MemoryStore()))
