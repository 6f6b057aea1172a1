import { type Kind, type KindContext, type RunningKind, withSignal } from '../kind.js'
import type { TableReader } from '../table.js'

/** `[runtime.script]` */
export interface ScriptSettings {
  /** Fail the script (exit 1) if it runs longer, ms. */
  timeout: number | undefined
  /** How long a stop (SIGINT/SIGTERM) waits for the script to return after its signal aborted, ms. */
  shutdownTimeout: number
}

/**
 * The script kind: the definition's `script(deps)` runs once, and the number it returns is
 * the process's exit code (nothing: 0; a throw: 1). `deps.signal` aborts on SIGINT/SIGTERM
 * or at the timeout. A script is always the only kind of its service.
 */
export const scriptKind: Kind<ScriptSettings> = {
  name: 'script',
  configure(reader: TableReader): ScriptSettings {
    return {
      timeout: reader.duration('timeout'),
      shutdownTimeout: reader.duration('shutdown_timeout') ?? 10_000,
    }
  },
  async start(ctx: KindContext<ScriptSettings>): Promise<RunningKind> {
    const timeout = ctx.settings.timeout
    const signals = [ctx.deps.signal]
    if (timeout !== undefined) signals.push(AbortSignal.timeout(timeout))
    const signal = AbortSignal.any(signals)
    const run = async (): Promise<number> => {
      const result = await ctx.factory(withSignal(ctx.deps, signal))
      if (result === undefined || result === null) return 0
      if (typeof result !== 'number' || !Number.isInteger(result) || result < 0 || result > 255) {
        throw new TypeError(
          `a script must return an exit code from 0 to 255 (or nothing), not ${String(result)}`,
        )
      }
      return result
    }
    const done =
      timeout === undefined
        ? run()
        : Promise.race([
            run(),
            new Promise<number>((_, reject) => {
              signal.addEventListener('abort', () => {
                if (!ctx.deps.signal.aborted)
                  reject(new Error(`the script ran longer than its timeout of ${timeout} ms`))
              })
            }),
          ])
    return {
      info: () => ({}),
      done,
      async stop() {
        let timer: NodeJS.Timeout | undefined
        const late = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, ctx.settings.shutdownTimeout)
        })
        await Promise.race([done.catch(() => {}), late])
        clearTimeout(timer)
      },
    }
  },
}
