/**
 * Logging seam and the default JSON-lines logger.
 * @module
 */
export { createLogger, type Level, LEVELS, type Logger, levelFromEnv } from './logger.js'
