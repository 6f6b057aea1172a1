/** Log levels, lowest first. */
export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const
export type Level = (typeof LEVELS)[number]

/**
 * The logging seam. The default writes JSON lines to stderr; a pino logger fits through
 * `fromPino` (later) since the shapes match: message first, fields second.
 */
export interface Logger {
  /** Log at level trace. */
  trace(message: string, fields?: Record<string, unknown>): void
  /** Log at level debug. */
  debug(message: string, fields?: Record<string, unknown>): void
  /** Log at level info. */
  info(message: string, fields?: Record<string, unknown>): void
  /** Log at level warn. */
  warn(message: string, fields?: Record<string, unknown>): void
  /** Log at level error. */
  error(message: string, fields?: Record<string, unknown>): void
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): Logger
}

/** The level from MICRO_LOG_LEVEL, `info` when unset or unknown. */
export function levelFromEnv(env: NodeJS.ProcessEnv = process.env): Level {
  const value = env.MICRO_LOG_LEVEL?.toLowerCase()
  return (LEVELS as readonly string[]).includes(value ?? '') ? (value as Level) : 'info'
}

/** A logger writing one JSON object per line to `write` (stderr by default). */
export function createLogger(
  options: { level?: Level; fields?: Record<string, unknown>; write?: (line: string) => void } = {},
): Logger {
  const threshold = LEVELS.indexOf(options.level ?? levelFromEnv())
  const base = options.fields ?? {}
  const write = options.write ?? ((line: string) => process.stderr.write(line))
  const log = (level: Level) => (message: string, fields?: Record<string, unknown>) => {
    if (LEVELS.indexOf(level) < threshold) return
    const line = { time: new Date().toISOString(), level, msg: message, ...base, ...fields }
    write(`${JSON.stringify(line, errorsAsText)}\n`)
  }
  return {
    trace: log('trace'),
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  }
}

function errorsAsText(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack }
  return value
}
