import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger } from '../logger/logger.js'
import { eventsConformance } from './conformance.js'
import type { Events } from './events.js'
import { FileEvents } from './file.js'

eventsConformance(
  'file',
  () =>
    new FileEvents({
      directory: mkdtempSync(join(tmpdir(), 'micro-events-')),
      logger: createLogger({ level: 'error' }),
    }),
  {
    cleanup: async (events: Events) =>
      rmSync((events as FileEvents).directory, { recursive: true, force: true }),
  },
)
