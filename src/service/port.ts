import type { Logger } from '../logger/logger.js'
import type { Server } from '../server/server.js'
import type { Listener } from '../transport/transport.js'

/**
 * Close a service's port gracefully: refuse new calls (503 and GoAway), wait for the calls
 * in flight and for their replies to be flushed, at most `timeout` ms, then close every
 * connection.
 */
export async function closePort(
  listener: Listener,
  server: Server,
  timeout: number,
  logger: Logger,
): Promise<void> {
  const drained = await settlesWithin(Promise.all([listener.drain(), server.waitIdle(timeout)]), timeout)
  if (!drained) {
    logger.warn(`${server.activeCalls} calls still in flight after ${timeout} ms; closing anyway`)
  }
  await listener.close()
}

/** Whether `promise` settles within `ms`. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    promise.then(
      () => {
        clearTimeout(timer)
        resolve(true)
      },
      () => {
        clearTimeout(timer)
        resolve(false)
      },
    )
  })
}
