import type { LogLine } from './types.js'

const PINO_LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
}
const TEXT_LEVEL = /\b(TRACE|DEBUG|INFO|WARN(?:ING)?|ERROR|FATAL)\b/
const TRACE_ID = /\b(?:trace[_-]?id|traceId)["=:\s]+"?([0-9a-f]{32})\b/i

/**
 * A log line with its level and trace id filled in from the text when the source left
 * them out: JSON lines (our logger, pino: `level`, `trace_id`/`traceId`) or plain text
 * (`ERROR ...`, `trace_id=...`).
 */
export function enrich(line: LogLine): LogLine {
  if (line.level !== undefined && line.traceId !== undefined) return line
  const out = { ...line }
  const text = line.text
  if (text.startsWith('{')) {
    try {
      const json = JSON.parse(text) as Record<string, unknown>
      const level = json.level
      out.level ??=
        typeof level === 'number' ? PINO_LEVELS[level] : typeof level === 'string' ? level : undefined
      const trace = json.trace_id ?? json.traceId ?? json.traceid
      if (typeof trace === 'string' && /^[0-9a-f]{32}$/.test(trace)) out.traceId ??= trace
    } catch {
      // not JSON after all: read it as text below
    }
  }
  if (out.level === undefined) {
    const match = TEXT_LEVEL.exec(text)
    out.level = match
      ? (match[1] as string).toLowerCase().replace('warning', 'warn')
      : line.stream === 'stderr'
        ? 'error'
        : 'info'
  }
  if (out.traceId === undefined) {
    const match = TRACE_ID.exec(text)
    if (match) out.traceId = match[1]
  }
  return out
}

const ORDER = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']

/** Whether a line is at `level` or above and contains `text` (case-insensitive). */
export function passes(line: LogLine, level: string | undefined, text: string | undefined): boolean {
  if (level && ORDER.indexOf(line.level ?? 'info') < ORDER.indexOf(level)) return false
  if (text && !line.text.toLowerCase().includes(text.toLowerCase())) return false
  return true
}
