import type { Level } from '../../logger/logger.js'

/** `features.logging`: the level of the service's logger, changeable at run time. */
export interface LoggingApi {
  readonly level: Level
  setLevel(level: Level): void
}
