import { createLogger } from '../logger/logger.js'
import { eventsConformance } from './conformance.js'
import { inspectorConformance } from './conformance-inspector.js'
import { MemoryEvents } from './memory.js'

eventsConformance('memory', () => new MemoryEvents({ logger: createLogger({ level: 'error' }) }))

inspectorConformance('memory', () => new MemoryEvents({ logger: createLogger({ level: 'error' }) }))
