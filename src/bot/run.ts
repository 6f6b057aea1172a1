import { Readable } from 'node:stream'
import type { Command } from '../cli/cli.js'
import { runWithCommandContext } from '../cli/command-context.js'

/** Thrown by the captured `out` once a command has written enough: it stops a stream early. */
export class OutputFull extends Error {
  constructor() {
    super('the reply is long enough')
    this.name = 'OutputFull'
  }
}

/** How one command run ended. */
export interface RunResult {
  /** The exit code; undefined when it threw or timed out. */
  code: number | undefined
  /** What it wrote, lines joined. */
  output: string
  /** It wrote more than was kept. */
  truncated: boolean
  /** It did not finish in time (its calls were cancelled). */
  timedOut: boolean
  /** What it threw (not for {@link OutputFull}). */
  error?: unknown
}

export interface RunOptions {
  /** The account's token every call of the command carries; none: calls go without one. */
  token?: string
  /** Give up after this long: every call and stream of the command is cancelled. */
  timeoutMs: number
  /** Keep at most this many characters of output; past it the command is stopped. */
  maxOutputChars: number
}

/** How long a cancelled command gets to notice before the bot answers without it. */
const SETTLE_AFTER_ABORT_MS = 2000

/** An empty standard input: a command that reads one in chat gets nothing, never the bot's own. */
export function emptyInput(): NodeJS.ReadableStream {
  return Readable.from([])
}

/**
 * Run one of the CLI's commands in this process with its output captured: every call it
 * makes carries `token` and is cancelled at the deadline (src/cli/command-context.ts).
 * Never throws: the result says how it ended.
 */
export async function runCaptured(command: Command, argv: string[], options: RunOptions): Promise<RunResult> {
  const lines: string[] = []
  let kept = 0
  let truncated = false
  const out = (text: string) => {
    if (truncated) throw new OutputFull()
    const room = options.maxOutputChars - kept
    if (text.length + 1 > room) {
      lines.push(text.slice(0, Math.max(0, room)))
      truncated = true
      throw new OutputFull()
    }
    lines.push(text)
    kept += text.length + 1
  }
  const abort = new AbortController()
  let timedOut = false
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      timedOut = true
      abort.abort(new Error(`the command took longer than ${Math.round(options.timeoutMs / 1000)}s`))
      // Calls see the abort at once; a command stuck elsewhere is left behind after a grace.
      setTimeout(() => resolve('timeout'), SETTLE_AFTER_ABORT_MS).unref()
    }, options.timeoutMs)
    timer.unref()
  })
  const context = { token: options.token, signal: abort.signal }
  const running = runWithCommandContext(context, () => command(argv, out)).then(
    (code) => ({ code }),
    (error: unknown) => ({ error }),
  )
  try {
    const result = await Promise.race([running, deadline])
    const output = lines.join('\n')
    if (result === 'timeout') return { code: undefined, output, truncated, timedOut: true }
    if ('code' in result) return { code: result.code, output, truncated, timedOut }
    if (result.error instanceof OutputFull) return { code: 0, output, truncated: true, timedOut }
    return { code: undefined, output, truncated, timedOut, error: result.error }
  } finally {
    clearTimeout(timer)
    abort.abort()
  }
}
