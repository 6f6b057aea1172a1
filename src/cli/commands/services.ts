import type { ServiceRecord } from '../../registry/registry.js'
import { GLOBAL_HELP, parseCommand } from '../args.js'
import { openSession } from '../session.js'

export const SERVICES_HELP = `Usage: micro services [options]

List the services in the registry (the platform's when one is in use: micro env):
name, version, nodes and endpoints. --namespace '*' lists every namespace.
${GLOBAL_HELP}`

/** `micro services`: every service version with its nodes and endpoints. */
export async function servicesCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { global } = parseCommand(argv, {})
  if (global.help) {
    out(SERVICES_HELP)
    return 0
  }
  const session = openSession(global)
  try {
    const services = (await session.services.listServices(global.namespace)).sort(
      (a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version),
    )
    if (global.json) {
      out(JSON.stringify(services, null, 2))
    } else if (services.length === 0) {
      out(`no services in namespace ${global.namespace}`)
    } else {
      out(services.map(describeBriefly).join('\n\n'))
    }
    return 0
  } finally {
    await session.close()
  }
}

function describeBriefly(service: ServiceRecord): string {
  const lines = [
    `${service.name}  ${service.version}  (${service.nodes.length} node${service.nodes.length === 1 ? '' : 's'})`,
  ]
  for (const node of service.nodes) lines.push(`  node      ${node.id}  ${node.address}`)
  for (const e of service.endpoints)
    lines.push(`  endpoint  ${e.name}${e.metadata.stream === 'true' ? '  (stream)' : ''}`)
  return lines.join('\n')
}
