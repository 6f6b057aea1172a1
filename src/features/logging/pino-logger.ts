import type { Logger as PinoLogger } from 'pino'
import { LEVELS, type Level, type Logger } from '../../logger/logger.js'

/** The level every logger made by one `fromPino` (and its children) obeys; change it at any time. */
export interface LevelState {
  level: Level
}

/**
 * A micro-ts Logger over a pino logger (micro-ts puts the message first, pino second).
 * Levels are filtered here against `state`, with pino left at `trace`, because pino
 * children keep the level they were made with and `setLevel` must reach them all.
 */
export function fromPino(p: PinoLogger, state: LevelState): Logger {
  const at = (level: Exclude<Level, 'silent'>) => {
    const rank = LEVELS.indexOf(level)
    return (message: string, fields?: Record<string, unknown>): void => {
      if (rank < LEVELS.indexOf(state.level)) return
      if (fields === undefined) p[level](message)
      else p[level](fields, message)
    }
  }
  return {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => fromPino(p.child(fields), state),
  }
}
