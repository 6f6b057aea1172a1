/** ticker: a worker that logs a tick every INTERVAL until the service stops. */
import { setTimeout as sleep } from 'node:timers/promises'
import { defineService } from 'micro-ts'

const service = defineService({
  env: { INTERVAL: { type: 'duration', default: 1000 } },
  worker: ({ env, logger }) => {
    let ticks = 0
    return {
      // Loops until the signal aborts; stop() runs after that.
      async start(signal: AbortSignal) {
        while (!signal.aborted) {
          logger.info('tick', { ticks: ++ticks })
          await sleep(env.INTERVAL, undefined, { signal }).catch(() => {})
        }
      },
      stop() {
        logger.info('ticker done', { ticks })
      },
    }
  },
})

export default service
service.runIfMain(import.meta)
