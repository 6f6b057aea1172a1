import type { LogRecord } from '../../platform/runtime/types.js'
import { parseDuration } from '../../util/duration.js'
import { GLOBAL_HELP, parseCommand, UsageError } from '../args.js'
import { openPlatform, PLATFORM_HELP, PLATFORM_OPTION } from './runtime-client.js'

export const LOGS_HELP = `Usage: micro logs <name> [options]

What a service in the platform's runtime wrote (stdout and stderr of every instance, and
the runtime's own notes marked "~": started, exited, restarting, replaced), oldest first.

  micro logs orders -n 50          the last 50 lines
  micro logs orders --since 10m    the lines of the last 10 minutes (or an ISO time)
  micro logs orders -f             then keep printing new lines (Ctrl-C stops)

Options:
  -f, --follow              keep the stream open and print new lines as they are written
  --since <10m|ISO time>    only lines written since then
  -n, --lines <n>           only the last n lines (with --since: of those)
${PLATFORM_HELP}
${GLOBAL_HELP}`

/** `micro logs <name>`: the `Runtime.Logs` stream, one line per record (JSON lines with --json). */
export async function logsCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    ...PLATFORM_OPTION,
    follow: { type: 'boolean', short: 'f' },
    since: { type: 'string' },
    lines: { type: 'string', short: 'n' },
  })
  if (global.help) {
    out(LOGS_HELP)
    return 0
  }
  if (positionals.length !== 1) throw new UsageError('logs needs one service name')
  const name = positionals[0] as string
  const request: Record<string, unknown> = { namespace: global.namespace, name }
  if (values.follow === true) request.follow = true
  if (values.lines !== undefined) {
    const text = values.lines as string
    if (!/^\d+$/.test(text)) throw new UsageError(`-n wants a whole number, got ${text}`)
    request.lines = Number(text)
  }
  if (values.since !== undefined) request.since = checkedSince(values.since as string)
  const platform = await openPlatform(values.platform as string | undefined)
  const stream = platform.stream<unknown, LogRecord>('Runtime.Logs')
  // Ctrl-C ends a follow cleanly: the server stops reading the log for us.
  const stop = () => stream.cancel('micro logs stopped')
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    await stream.send(request)
    await stream.closeSend()
    for await (const record of stream) out(global.json ? JSON.stringify(record) : formatRecord(name, record))
    return 0
  } catch (error) {
    if ((error as { code?: number }).code === 499) return 0
    throw platform.explain(error)
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    await platform.close()
  }
}

/** `2026-05-01T10:00:00.000Z orders[1] text`; the runtime's notes get a `~`. */
export function formatRecord(name: string, record: LogRecord): string {
  const who = record.instance > 0 ? `${name}[${record.instance}]` : name
  const mark = record.stream === 'runtime' ? ' ~' : record.stream === 'stderr' ? ' !' : ''
  return `${record.time} ${who}${mark} ${record.line}`
}

/** Check `--since` here so a typo is a usage error, not a server round trip. */
function checkedSince(text: string): string {
  if (/^\d{4}-\d\d-\d\d/.test(text)) {
    if (Number.isNaN(Date.parse(text))) throw new UsageError(`--since ${text} is not a valid time`)
    return text
  }
  try {
    parseDuration(text, '--since')
  } catch (error) {
    throw new UsageError(`${(error as Error).message}, or an ISO time`)
  }
  return text
}
