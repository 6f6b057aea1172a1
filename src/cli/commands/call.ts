import { MicroError } from '../../errors/errors.js'
import type { ServiceRecord } from '../../registry/registry.js'
import { parseDuration } from '../../util/duration.js'
import { GLOBAL_HELP, parseCommand, UsageError } from '../args.js'
import { parseJsonArgument, parseMetadata, readStdin } from '../input.js'
import { openSession } from '../session.js'

export const CALL_HELP = `Usage: micro call [options] <service> <endpoint> [request-json]

Call an endpoint of a service and print the reply as JSON. The request is a JSON
object (default {}); '-' reads it from standard input.

  micro call greeter Greeter.Hello '{"name":"Alice"}'

Options:
  --address <host:port>     call this node directly, skipping the registry
  --metadata <key=value>    send metadata (repeatable)
  --timeout <duration>      give up after this long (default 10s)
  --version <v>             only nodes of this version
${GLOBAL_HELP}`

/** `micro call`: one call, reply printed as indented JSON. */
export async function callCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    address: { type: 'string' },
    metadata: { type: 'string', multiple: true },
    timeout: { type: 'string' },
    version: { type: 'string' },
  })
  if (global.help) {
    out(CALL_HELP)
    return 0
  }
  const [service, endpoint, requestText] = positionals
  if (!service || !endpoint)
    throw new UsageError(
      'call needs a service and an endpoint, e.g. micro call greeter Greeter.Hello \'{"name":"Alice"}\'',
    )
  if (positionals.length > 3)
    throw new UsageError(`call takes at most 3 arguments; got ${positionals.length} (quote the JSON request)`)
  const request = parseJsonArgument(
    requestText === '-' ? await readStdin() : (requestText ?? '{}'),
    'request',
  )
  const timeout = values.timeout === undefined ? 10_000 : parseDuration(values.timeout as string, '--timeout')
  const metadata = parseMetadata((values.metadata as string[] | undefined) ?? [])
  const address = values.address as string | undefined
  const version = values.version as string | undefined
  const session = openSession(global)
  try {
    if (!address)
      await checkEndpoint(
        (name, namespace) => session.lookup.getService(name, namespace),
        service,
        endpoint,
        global.namespace,
      )
    const reply = await session.client.call(service, endpoint, request, {
      timeout,
      metadata,
      address,
      version,
    })
    out(JSON.stringify(reply, null, 2))
    return 0
  } finally {
    await session.close()
  }
}

/** Fail early, naming the choices, when the service or endpoint does not exist. */
async function checkEndpoint(
  getService: (name: string, namespace: string) => Promise<readonly ServiceRecord[]>,
  service: string,
  endpoint: string,
  namespace: string,
): Promise<void> {
  let records: readonly ServiceRecord[]
  try {
    records = await getService(service, namespace)
  } catch (error) {
    if (error instanceof MicroError && error.code === 404) {
      throw new MicroError(
        'micro.cli',
        `service ${service} not found in namespace ${namespace} (see: micro services)`,
        404,
      )
    }
    throw error
  }
  const names = new Set(records.flatMap((r) => r.endpoints.map((e) => e.name)))
  if (names.size > 0 && !names.has(endpoint)) {
    throw new MicroError(
      'micro.cli',
      `service ${service} has no endpoint ${endpoint}; it has: ${[...names].sort().join(', ')}`,
      404,
    )
  }
}
