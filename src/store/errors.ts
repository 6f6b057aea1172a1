import { MicroError } from '../errors/errors.js'

/** The id store errors carry. */
export const STORE_ERROR_ID = 'micro.store'

/** A read of a key that does not exist (or has expired): a 404 MicroError. */
export class StoreNotFoundError extends MicroError {
  readonly key: string

  constructor(key: string, where: string) {
    super(STORE_ERROR_ID, `key ${JSON.stringify(key)} not found in ${where}`, 404)
    this.name = 'StoreNotFoundError'
    this.key = key
  }
}

/** A 400 for bad keys, names, values and options. */
export function invalid(detail: string): MicroError {
  return new MicroError(STORE_ERROR_ID, detail, 400)
}

/** A 503 for a store that is closed or whose engine cannot be reached. */
export function unavailable(detail: string, cause?: unknown): MicroError {
  return new MicroError(STORE_ERROR_ID, detail, 503, cause === undefined ? undefined : { cause })
}

/**
 * Normalise an engine failure: MicroErrors pass, anything else becomes a 503 naming the
 * store and the engine's message (the engine's own error stays as the cause).
 */
export function engineError(store: string, error: unknown): MicroError {
  if (error instanceof MicroError) return error
  const message = error instanceof Error ? error.message || error.name : String(error)
  return unavailable(`${store} store: ${message}`, error)
}
