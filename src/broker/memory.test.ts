import { createLogger } from '../logger/logger.js'
import { brokerConformance } from './conformance.js'
import { MemoryBroker, MemoryHub } from './memory.js'

const hub = new MemoryHub()
const logger = createLogger({ level: 'silent' })

brokerConformance('memory', () => new MemoryBroker({ hub, logger }))
