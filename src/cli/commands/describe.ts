import { MicroError } from '../../errors/errors.js'
import { GLOBAL_HELP, parseCommand, UsageError } from '../args.js'
import { openSession } from '../session.js'

export const DESCRIBE_HELP = `Usage: micro describe [options] <service>

Show a service's versions, nodes and endpoints, with the request and response
JSON schemas its handlers declare (from the platform's registry when one is in use).
${GLOBAL_HELP}`

/** `micro describe <service>`: the full registry records of a service. */
export async function describeCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { global, positionals } = parseCommand(argv, {})
  if (global.help) {
    out(DESCRIBE_HELP)
    return 0
  }
  const [service] = positionals
  if (!service || positionals.length > 1) throw new UsageError('describe needs exactly one service name')
  const session = openSession(global)
  try {
    const records = await session.services.getService(service, global.namespace).catch((error: unknown) => {
      if (error instanceof MicroError && error.code === 404) {
        throw new MicroError(
          'micro.cli',
          `service ${service} not found in namespace ${global.namespace} (see: micro services)`,
          404,
        )
      }
      throw error
    })
    out(JSON.stringify(records, null, 2))
    return 0
  } finally {
    await session.close()
  }
}
