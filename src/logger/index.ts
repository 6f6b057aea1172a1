/**
 * Logging seam and the default JSON-lines logger.
 * @module
 */
export { createLogger, LEVELS, type Level, type Logger, levelFromEnv } from './logger.js'
