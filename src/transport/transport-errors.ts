import { MicroError } from '../errors/errors.js'

const unsent = new WeakSet<MicroError>()
const lost = new WeakSet<MicroError>()

/** The call never left this process (dial failed, connection gone before the write): safe to retry. */
export function unsentError(detail: string, cause?: unknown): MicroError {
  const error = new MicroError('micro.client', detail, 503, { cause })
  unsent.add(error)
  return error
}

/** The connection went away after the call was sent: the server may or may not have run it. */
export function lostError(detail: string): MicroError {
  const error = new MicroError('micro.client', detail, 503)
  lost.add(error)
  return error
}

/** Whether the call is known not to have reached a server. */
export function isUnsent(error: unknown): boolean {
  return error instanceof MicroError && unsent.has(error)
}

/** Whether the connection was lost after the call was sent. */
export function isLost(error: unknown): boolean {
  return error instanceof MicroError && lost.has(error)
}
