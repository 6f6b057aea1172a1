import type { Feature, FeatureInstance } from '../../definition/feature.js'
import type { TableReader } from '../../definition/table.js'
import { LEVELS, type Level } from '../../logger/logger.js'
import type { LoggingApi } from './api.js'
import { fromPino } from './pino-logger.js'

/** `[features.logging]` */
export interface LoggingConfig {
  /** trace, debug, info (default), warn, error or silent; MICRO_LOG_LEVEL overrides it. */
  level: Level | undefined
  /** Extra fields on every line. */
  attributes: Record<string, string>
  /** Where lines go: stderr (default) or stdout. */
  destination: 'stderr' | 'stdout'
}

/**
 * The logging feature: the service logs through pino, one JSON object per line, each
 * carrying service, version, product (and kind, added per kind) plus the configured
 * attributes. On by default under `micro run`; `enabled = false` keeps micro-ts's own
 * JSON logger (same fields, no pino).
 */
export const loggingFeature: Feature<LoggingConfig, LoggingApi> = {
  name: 'logging',
  configure(reader: TableReader): LoggingConfig {
    const level = reader.string('level')
    if (level !== undefined && !(LEVELS as readonly string[]).includes(level)) {
      reader.problem('level', `"${level}" is not a level`, `use one of ${LEVELS.join(', ')}`)
    }
    const attributes = reader.table('attributes') ?? {}
    for (const [key, value] of Object.entries(attributes)) {
      if (typeof value !== 'string')
        reader.problem(`attributes.${key}`, 'must be a string', `write ${key} = "${String(value)}"`)
    }
    const destination = reader.string('destination') ?? 'stderr'
    if (destination !== 'stderr' && destination !== 'stdout') {
      reader.problem('destination', `"${destination}" is not a destination`, 'use "stderr" or "stdout"')
    }
    return {
      level: level as Level | undefined,
      attributes: attributes as Record<string, string>,
      destination: destination === 'stdout' ? 'stdout' : 'stderr',
    }
  },
  async init(ctx): Promise<FeatureInstance<LoggingApi>> {
    const { pino, destination, stdSerializers, stdTimeFunctions } = await import('pino')
    const fromEnv = process.env.MICRO_LOG_LEVEL?.toLowerCase()
    const level =
      fromEnv && (LEVELS as readonly string[]).includes(fromEnv)
        ? (fromEnv as Level)
        : (ctx.config.level ?? 'info')
    const base: Record<string, string> = { service: ctx.service.name, version: ctx.service.version }
    if (ctx.service.product) base.product = ctx.service.product
    const state = { level }
    const logger = pino(
      {
        level: 'trace',
        base: { ...base, ...ctx.config.attributes },
        timestamp: stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        serializers: { error: stdSerializers.err, err: stdSerializers.err },
      },
      // Synchronous, so the last lines before an exit are not lost.
      destination({ dest: ctx.config.destination === 'stdout' ? 1 : 2, sync: true }),
    )
    ctx.useLogger(fromPino(logger, state))
    const api: LoggingApi = {
      get level() {
        return state.level
      },
      setLevel(next: Level) {
        if (!(LEVELS as readonly string[]).includes(next)) throw new TypeError(`${next} is not a log level`)
        state.level = next
      },
    }
    return { api, stop: () => logger.flush() }
  },
}
