import { type ChatPolicy, NEVER_IN_CHAT } from './policy.js'
import type { Reply, ReplyBlock } from './reply.js'
import type { ServiceCommand } from './service-commands.js'

/** How to use each command the bot offers by default, and what it does. */
const USAGE: Readonly<Record<string, readonly [string, string]>> = {
  services: ['services', 'the services, their versions, nodes and endpoints'],
  describe: ['describe <service>', "a service's endpoints with their schemas"],
  call: ["call <service> <endpoint> ['{json}']", 'call an endpoint'],
  status: ['status [name]', "the runtime's services"],
  logs: ['logs <name> [-n 50] [--since 10m]', "a service's recent output"],
}

/** What `help` answers: the commands offered, the services' own commands, how to call any service. */
export function helpReply(
  policy: ChatPolicy,
  account: string | undefined,
  serviceCommands: ReadonlyMap<string, readonly ServiceCommand[]> | undefined,
): Reply {
  const rows: Array<readonly [string, string]> = policy.allow.map(
    (prefix) => USAGE[prefix] ?? [`${prefix} ...`, ''],
  )
  if (policy.dynamic)
    rows.push(['<service> <words> [--field=value]', 'call a service: greeter hello --name=Alice'])
  const width = Math.max(...rows.map(([usage]) => usage.length))
  const lines = rows.map(([usage, what]) => `${usage.padEnd(width)}  ${what}`.trimEnd())
  const blocks: ReplyBlock[] = [
    {
      kind: 'text',
      text: `Commands${account ? ` (they run as ${account}; the platform's rules decide)` : ''}; add --help to any for its options:`,
    },
    { kind: 'code', text: lines.join('\n') },
  ]
  if (serviceCommands && serviceCommands.size > 0) {
    const own = [...serviceCommands.values()]
      .flat()
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((c) => `${c.name.padEnd(16)} ${c.service} ${c.endpoint}${c.help ? `: ${c.help}` : ''}`)
    blocks.push({ kind: 'text', text: 'Commands the services add:' }, { kind: 'code', text: own.join('\n') })
  }
  blocks.push({
    kind: 'text',
    text: `Not in chat: ${Object.keys(NEVER_IN_CHAT).join(', ')}. Quote words with spaces or JSON: 'like this'.`,
  })
  return { status: 'ok', blocks }
}
