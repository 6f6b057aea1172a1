/**
 * Errors that cross service boundaries as `{id, code, detail, status}`.
 * @module
 */
export {
  MicroError,
  type MicroErrorJSON,
  badRequest,
  canceled,
  conflict,
  forbidden,
  internalServerError,
  methodNotAllowed,
  newError,
  notFound,
  payloadTooLarge,
  serviceUnavailable,
  timeout,
  unauthorized,
} from './errors.js'
export { statusFor } from './status.js'
