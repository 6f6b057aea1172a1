import { AsyncLocalStorage } from 'node:async_hooks'
import type { CallOptions } from '../client/options.js'

/**
 * Who a command runs as and how long it may take, when a program runs the CLI's commands
 * in its own process for someone else (the bot runs `micro services` for a chat user with
 * that user's token). Commands open their own clients; this reaches every call they make
 * without threading a parameter through each command.
 */
export interface CommandContext {
  /** The caller's access token: sent as `authorization: Bearer <token>` on every call, replacing any other. */
  token?: string
  /** Aborts every call and stream the command makes (a deadline, a shutdown). */
  signal?: AbortSignal
}

const storage = new AsyncLocalStorage<CommandContext>()

/** Run `fn` (a command) with `context` applied to every call it makes. */
export function runWithCommandContext<T>(context: CommandContext, fn: () => Promise<T>): Promise<T> {
  return storage.run(context, fn)
}

/**
 * `options` with the running command's context applied: its token as the bearer (any
 * `authorization` the command line gave is replaced, so an argument cannot choose who a
 * call runs as) and its signal when the call has none. Unchanged outside such a run, so
 * the CLI behaves as before.
 */
export function withCommandContext(options: CallOptions = {}): CallOptions {
  const context = storage.getStore()
  if (context === undefined) return options
  const applied: CallOptions = { ...options }
  if (context.token !== undefined)
    applied.metadata = { ...options.metadata, authorization: `Bearer ${context.token}` }
  if (context.signal !== undefined && options.signal === undefined) applied.signal = context.signal
  return applied
}
