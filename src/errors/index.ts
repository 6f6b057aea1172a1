/**
 * Errors that cross service boundaries as `{id, code, detail, status}`.
 * @module micro-ts/errors
 */
export {
  badRequest,
  canceled,
  conflict,
  forbidden,
  internalServerError,
  MicroError,
  type MicroErrorJSON,
  methodNotAllowed,
  newError,
  notFound,
  payloadTooLarge,
  serviceUnavailable,
  timeout,
  unauthorized,
  unsupportedMediaType,
} from './errors.js'
export { statusFor } from './status.js'
