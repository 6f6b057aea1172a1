import type { ServiceStatus } from '../../platform/runtime/types.js'
import { GLOBAL_HELP, parseCommand, UsageError } from '../args.js'
import { asSource, openPlatform, PLATFORM_HELP, PLATFORM_OPTION } from './runtime-client.js'

export const KILL_HELP = `Usage: micro kill <name|folder> [options]

Stop every instance of a service in the platform's runtime (SIGTERM: it drains and
deregisters; SIGKILL after 10 s) and forget it, logs included.

Options:
${PLATFORM_HELP}
${GLOBAL_HELP}`

/** `micro kill <name|folder>`: `Runtime.Delete`. */
export async function killCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, PLATFORM_OPTION)
  if (global.help) {
    out(KILL_HELP)
    return 0
  }
  if (positionals.length !== 1) throw new UsageError('kill needs one service name (or the folder it runs)')
  const platform = await openPlatform(values.platform as string | undefined)
  try {
    const argument = positionals[0] as string
    const source = asSource(argument)
    let name = argument
    if (source) {
      // A folder: the service that runs it.
      const { services } = await platform.call<{ services: ServiceStatus[] }>('Runtime.Read', {
        namespace: global.namespace,
      })
      name = services.find((s) => s.source === source)?.name ?? argument
    }
    await platform.call('Runtime.Delete', { namespace: global.namespace, name })
    out(`${name} stopped and removed`)
    return 0
  } finally {
    await platform.close()
  }
}
