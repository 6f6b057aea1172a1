import type { ServiceStatus } from '../../platform/runtime/types.js'
import { GLOBAL_HELP, parseCommand, UsageError } from '../args.js'
import { formatDuration, openPlatform, PLATFORM_HELP, PLATFORM_OPTION } from './runtime-client.js'

export const STATUS_HELP = `Usage: micro status [name] [options]

The services in the platform's runtime (micro run -d): name, version, source, status,
instances running of those wanted, restarts, uptime, and since when in that status.
Statuses: starting, running, updating, restarting (waiting to restart a process that
exited), crash-loop (it keeps exiting soon after starting; retried every 30 s), stopped,
exited, error (see the error line). --json adds every process: pid, uptime, restarts, last exit.

Options:
${PLATFORM_HELP}
${GLOBAL_HELP}`

const COLUMNS = ['NAME', 'VERSION', 'SOURCE', 'STATUS', 'INSTANCES', 'RESTARTS', 'UPTIME', 'SINCE'] as const

/** `micro status [name]`: `Runtime.Read` as a table (or JSON). */
export async function statusCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, PLATFORM_OPTION)
  if (global.help) {
    out(STATUS_HELP)
    return 0
  }
  if (positionals.length > 1) throw new UsageError(`status takes at most one service name`)
  const platform = await openPlatform(values.platform as string | undefined)
  try {
    const request = { namespace: global.namespace, ...(positionals[0] ? { name: positionals[0] } : {}) }
    const { services } = await platform.call<{ services: ServiceStatus[] }>('Runtime.Read', request)
    if (global.json) out(JSON.stringify(services, null, 2))
    else if (services.length === 0) out(`no services in the runtime (namespace ${global.namespace})`)
    else out(table(services, Date.now()))
    return 0
  } finally {
    await platform.close()
  }
}

function table(services: ServiceStatus[], now: number): string {
  const rows = services.map((s) => [
    s.name,
    s.version,
    s.source,
    s.status,
    `${s.instances.running}/${s.instances.desired}`,
    String(s.restarts),
    s.uptime > 0 ? formatDuration(s.uptime) : '-',
    `${formatDuration(now - Date.parse(s.since))} ago`,
  ])
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] as string).length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd()
  const lines = [line(COLUMNS), ...rows.map(line)]
  for (const s of services) {
    const exited = s.processes.find((p) => p.lastExit && p.state !== 'running')?.lastExit
    if (s.error) lines.push(`${s.name}: ${s.error}`)
    else if (exited && (s.status === 'crash-loop' || s.status === 'restarting')) {
      const how = exited.signal ? `signal ${exited.signal}` : `code ${exited.code}`
      lines.push(
        `${s.name}: last exit ${how}${exited.reason ? ` (${exited.reason})` : ''}; see micro logs ${s.name}`,
      )
    }
  }
  return lines.join('\n')
}
