import type { ServiceStatus } from '../../platform/runtime/types.js'
import { GLOBAL_HELP, parseCommand, UsageError } from '../args.js'
import {
  asSource,
  openPlatform,
  PLATFORM_HELP,
  PLATFORM_OPTION,
  parseEnvPairs,
  parseInstances,
} from './runtime-client.js'

export const UPDATE_HELP = `Usage: micro update <folder|name> [options]

Roll a service in the platform's runtime onto its source as it is now, one instance at a
time: a new process starts and becomes ready before an old one stops, so callers see no
gap. If a new process does not become ready, it is stopped, the instances already
replaced are rolled back, and the update fails with the reason.

Options:
  --instances <n>           change how many processes run
  --env <NAME=value>        replace the environment variables given at create (repeatable)
  --name <name>             the service to update, when the argument is a new folder for it
${PLATFORM_HELP}
${GLOBAL_HELP}`

/** Rolling N instances can take a while: each waits for readiness. */
const UPDATE_TIMEOUT = 10 * 60_000

/** `micro update <folder|name>`: `Runtime.Update`. */
export async function updateCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    ...PLATFORM_OPTION,
    instances: { type: 'string' },
    env: { type: 'string', multiple: true },
    name: { type: 'string' },
  })
  if (global.help) {
    out(UPDATE_HELP)
    return 0
  }
  if (positionals.length !== 1) throw new UsageError('update needs one service folder or name')
  const argument = positionals[0] as string
  const source = asSource(argument)
  const request = {
    namespace: global.namespace,
    ...(source ? { source } : { name: argument }),
    ...(values.name !== undefined ? { name: values.name as string } : {}),
    ...(values.instances !== undefined ? { instances: parseInstances(values.instances as string) } : {}),
    ...(values.env !== undefined ? { env: parseEnvPairs(values.env as string[]) } : {}),
  }
  const platform = await openPlatform(values.platform as string | undefined)
  try {
    const { service } = await platform.call<{ service: ServiceStatus }>('Runtime.Update', request, {
      timeout: UPDATE_TIMEOUT,
      retries: 0,
    })
    if (global.json) out(JSON.stringify(service, null, 2))
    else out(`${service.name} updated to ${service.version}: ${service.instances.desired} instance(s)`)
    return 0
  } finally {
    await platform.close()
  }
}
