import type { Worker } from '../define.js'
import type { Kind, KindContext, RunningKind } from '../kind.js'
import type { TableReader } from '../table.js'

/** `[runtime.worker]` */
export interface WorkerSettings {
  /** How long a stop waits for `start` to return after its signal aborted, ms. */
  shutdownTimeout: number
}

/**
 * The worker kind: long-running code with no API. `start(signal)` is called once; it may
 * set things up and return, or loop until the signal aborts. If it throws (or its promise
 * rejects) the whole service stops with exit code 1. On stop: the signal aborts, `stop()`
 * runs, then the runtime waits (bounded) for `start` to return.
 */
export const workerKind: Kind<WorkerSettings> = {
  name: 'worker',
  configure(reader: TableReader): WorkerSettings {
    return { shutdownTimeout: reader.duration('shutdown_timeout') ?? 10_000 }
  },
  async start(ctx: KindContext<WorkerSettings>): Promise<RunningKind> {
    const created = await ctx.factory(ctx.deps)
    const worker: Worker | undefined =
      typeof created === 'function'
        ? { start: created as Worker['start'] }
        : typeof (created as Worker | undefined)?.start === 'function'
          ? (created as Worker)
          : undefined
    if (!worker) {
      throw new TypeError(
        'the worker factory must return { start(signal), stop() } or a start function (signal) => ...',
      )
    }
    const controller = new AbortController()
    const signal = AbortSignal.any([controller.signal, ctx.deps.signal])
    let stopping = false
    const running = Promise.resolve().then(() => worker.start(signal))
    // Only a failure ends the service by itself; a start that returns leaves the worker running until stopped.
    const done = new Promise<number | undefined>((_, reject) => {
      running.catch((error: unknown) => {
        if (!stopping) reject(error)
      })
    })
    return {
      info: () => ({}),
      done,
      async stop() {
        stopping = true
        controller.abort()
        await worker.stop?.()
        const timeout = ctx.settings.shutdownTimeout
        let timer: NodeJS.Timeout | undefined
        const late = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), timeout)
        })
        const outcome = await Promise.race([
          running.then(
            () => 'done',
            () => 'done',
          ),
          late,
        ])
        clearTimeout(timer)
        if (outcome === 'late')
          ctx.deps.logger.warn(
            `the worker's start did not return within ${timeout} ms of its signal aborting`,
          )
      },
    }
  },
}
