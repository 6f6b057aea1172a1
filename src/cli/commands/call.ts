import { MicroError } from '../../errors/errors.js'
import type { ServiceRecord } from '../../registry/registry.js'
import { parseDuration } from '../../util/duration.js'
import { GLOBAL_HELP, parseCommand, UsageError } from '../args.js'
import { parseJsonArgument, parseMetadata, readStdin } from '../input.js'
import { openSession } from '../session.js'
import { callStream, streamInput } from './call-stream.js'

export const CALL_HELP = `Usage: micro call [options] <service> <endpoint> [request-json]

Call an endpoint of a service and print the reply as JSON. The request is a JSON
object (default {}); '-' reads it from standard input.

A streaming endpoint (see micro services) streams: each element of a JSON array is
sent as one message, or with '-' each line of standard input as it is typed (JSON
Lines); each reply is printed as one line of JSON as it arrives, until the server
ends the stream.

  micro call greeter Greeter.Hello '{"name":"Alice"}'
  micro call greeter Greeter.Chat '[{"name":"A"},{"name":"B"}]'
  printf '{"name":"A"}\n{"name":"B"}\n' | micro call greeter Greeter.Chat -

With a platform in use (micro env, --platform or MICRO_PLATFORM) the service is looked
up and called through the platform; --address still calls that node directly.

Options:
  --address <host:port>     call this node directly, skipping the registry
                            (grpc://host:port for a gRPC server)
  --metadata <key=value>    send metadata (repeatable)
  --timeout <duration>      give up after this long (default 10s; streams: none)
  --version <v>             only nodes of this version
  --stream                  call the endpoint as a stream (found in the registry
                            otherwise; needed with --address)
${GLOBAL_HELP}`

/** What `micro call` reads besides its arguments; tests pass their own standard input. */
export interface CallCommandDeps {
  stdin?: NodeJS.ReadableStream
}

/** `micro call`: one call, reply printed as indented JSON; a stream, replies as JSON lines. */
export async function callCommand(
  argv: string[],
  out: (text: string) => void,
  deps: CallCommandDeps = {},
): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    address: { type: 'string' },
    metadata: { type: 'string', multiple: true },
    timeout: { type: 'string' },
    version: { type: 'string' },
    stream: { type: 'boolean' },
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
  const timeout =
    values.timeout === undefined ? undefined : parseDuration(values.timeout as string, '--timeout')
  const metadata = parseMetadata((values.metadata as string[] | undefined) ?? [])
  const address = values.address as string | undefined
  const version = values.version as string | undefined
  const stdin = deps.stdin ?? process.stdin
  // A request that is not JSON is refused before anything is looked up.
  const unary = requestText === '-' ? undefined : parseJsonArgument(requestText ?? '{}', 'request')
  const session = openSession(global)
  try {
    let stream = values.stream === true
    if (!address) {
      const found = await checkEndpoint(
        (name, namespace) => session.services.getService(name, namespace),
        service,
        endpoint,
        global.namespace,
      )
      stream ||= found.stream
    }
    const options = { timeout, metadata, address, version }
    if (stream) {
      await callStream(session, service, endpoint, streamInput(requestText, stdin), options, out)
      return 0
    }
    const request = unary === undefined ? parseJsonArgument(await readStdin(stdin), 'request') : unary
    const reply = await session.call(service, endpoint, request, {
      ...options,
      timeout: timeout ?? 10_000,
    })
    out(JSON.stringify(reply, null, 2))
    return 0
  } finally {
    await session.close()
  }
}

/**
 * Fail early, naming the choices, when the service or endpoint does not exist; else say
 * whether the endpoint streams.
 */
async function checkEndpoint(
  getService: (name: string, namespace: string) => Promise<readonly ServiceRecord[]>,
  service: string,
  endpoint: string,
  namespace: string,
): Promise<{ stream: boolean }> {
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
  const endpoints = records.flatMap((r) => r.endpoints)
  const names = new Set(endpoints.map((e) => e.name))
  if (names.size > 0 && !names.has(endpoint)) {
    throw new MicroError(
      'micro.cli',
      `service ${service} has no endpoint ${endpoint}; it has: ${[...names].sort().join(', ')}`,
      404,
    )
  }
  return { stream: endpoints.some((e) => e.name === endpoint && e.metadata.stream === 'true') }
}
