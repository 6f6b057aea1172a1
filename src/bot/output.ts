import { UsageError } from '../cli/args.js'
import { MicroError } from '../errors/errors.js'
import type { ServiceRecord } from '../registry/registry.js'
import type { AuditRecord } from './audit.js'
import { type Reply, type ReplyBlock, textReply, trimLines } from './reply.js'
import type { RunResult } from './run.js'

/** What a finished command becomes: the reply, and what the audit adds about it. */
export interface Outcome {
  reply: Reply
  audit: Pick<AuditRecord, 'allowed' | 'deniedBy' | 'outcome' | 'code' | 'error'>
}

/** How the bot shows one command's output. */
export interface OutputStyle {
  /** `services`: the bot asked for JSON and draws a table. */
  servicesTable?: boolean
  /** Tables and log lines: cut each line to the width. */
  trim?: boolean
  /** Characters per line for tables. */
  width: number
  /** `micro <name>` for the help hint. */
  name: string
}

/**
 * The reply to a command run: its output as code (spacing kept), or what went wrong in a
 * sentence: a usage mistake with the help hint, "not allowed" for a 401/403 from the
 * platform or a service (the auth rules said no), the error otherwise.
 */
export function outcomeOf(result: RunResult, style: OutputStyle): Outcome {
  const blocks: ReplyBlock[] = []
  const output = shownOutput(result.output, style)
  if (output !== '') blocks.push({ kind: 'code', text: output })
  if (result.timedOut) {
    blocks.push({ kind: 'text', text: 'timed out: the command took too long and its calls were cancelled' })
    return { reply: { status: 'timeout', blocks }, audit: { allowed: true, outcome: 'timeout', code: 408 } }
  }
  if (result.truncated) blocks.push({ kind: 'text', text: '… cut short: the output was too long for chat' })
  if (result.error !== undefined) {
    const error = result.error
    if (error instanceof UsageError) {
      blocks.push({ kind: 'text', text: `usage: ${error.message} (try: ${style.name} --help)` })
      return {
        reply: { status: 'bad-input', blocks },
        audit: { allowed: true, outcome: 'bad-input', error: error.message },
      }
    }
    const e = MicroError.from(error, 'micro.bot')
    if (e.code === 401 || e.code === 403) {
      blocks.push({ kind: 'text', text: `not allowed: ${e.detail}` })
      return {
        reply: { status: 'denied', blocks },
        audit: { allowed: false, deniedBy: 'rules', outcome: 'denied', code: e.code, error: e.detail },
      }
    }
    blocks.push({ kind: 'text', text: `error ${e.code}: ${e.detail}` })
    return {
      reply: { status: 'error', blocks },
      audit: { allowed: true, outcome: 'error', code: e.code, error: e.detail },
    }
  }
  if (result.code !== 0) {
    blocks.push({ kind: 'text', text: `${style.name} exited with code ${result.code}` })
    return {
      reply: { status: 'error', blocks },
      audit: { allowed: true, outcome: 'error', code: result.code },
    }
  }
  if (blocks.length === 0)
    return { reply: textReply('ok', 'done (no output)'), audit: { allowed: true, outcome: 'ok' } }
  return { reply: { status: 'ok', blocks }, audit: { allowed: true, outcome: 'ok' } }
}

function shownOutput(output: string, style: OutputStyle): string {
  if (style.servicesTable) {
    const table = servicesTable(output, style.width)
    if (table !== undefined) return table
  }
  return style.trim ? trimLines(output, style.width) : output
}

/**
 * `micro services --json` as a table: NAME, VERSION, NODES, ENDPOINTS (their names, cut
 * to the width; `describe <service>` shows them all). Undefined when it is not that JSON
 * (cut short, or a help text), so the output is shown as it is.
 */
export function servicesTable(json: string, width: number): string | undefined {
  let services: ServiceRecord[]
  try {
    services = JSON.parse(json) as ServiceRecord[]
  } catch {
    return undefined
  }
  if (!Array.isArray(services)) return undefined
  if (services.length === 0) return 'no services'
  const rows = services.map((s) => [
    String(s.name),
    String(s.version || '-'),
    String(s.nodes?.length ?? 0),
    (s.endpoints ?? []).map((e) => e.name).join(', ') || '-',
  ])
  const header = ['NAME', 'VERSION', 'NODES', 'ENDPOINTS']
  const widths = [0, 1, 2].map((i) =>
    Math.max((header[i] as string).length, ...rows.map((r) => (r[i] as string).length)),
  )
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i < 3 ? cell.padEnd(widths[i] as number) : cell))
      .join('  ')
      .trimEnd()
  return trimLines([header, ...rows].map(line).join('\n'), width)
}
