import { MicroError, notFound } from '../../errors/errors.js'
import type { EndpointRecord, ServiceRecord } from '../../registry/registry.js'
import { DEFAULT_NAMESPACE } from '../../registry/registry.js'
import { parseDuration } from '../../util/duration.js'
import { parseCommand, UsageError } from '../args.js'
import { callStream } from '../commands/call-stream.js'
import { jsonLines, parseJsonArgument, parseMetadata, readStdin } from '../input.js'
import { openSession, type Session } from '../session.js'
import { findExternal, runExternal } from './external.js'
import { fieldsOf } from './fields.js'
import { requestFromFlags } from './flags.js'
import { endpointHelp, RESERVED_OPTIONS, serviceHelp } from './help.js'
import { closest, commandWords, endpointFor } from './words.js'

/** What a dynamic command reads besides its arguments; tests pass their own standard input. */
export interface DynamicCommandDeps {
  stdin?: NodeJS.ReadableStream
}

const OPTION_SPEC = {
  json: { type: 'string' },
  metadata: { type: 'string', multiple: true },
  timeout: { type: 'string' },
} as const

/**
 * `micro <name> ...` for a name that is no built-in command: the executable `micro-<name>`
 * on PATH when there is one (as Micro v3 ran plugins), else the service `<name>`
 * ({@link serviceCommand}).
 */
export async function dynamicCommand(
  name: string,
  argv: string[],
  out: (text: string) => void,
  deps: DynamicCommandDeps = {},
): Promise<number> {
  const external = await findExternal(name)
  if (external) return runExternal(external, argv)
  return serviceCommand(name, argv, out, deps)
}

/**
 * `micro <service> [words...] [--flags]`: find the service (the current namespace, then
 * `micro`), map the words to one of its endpoints and the flags to its request, call it and
 * print the reply as indented JSON (a stream: one JSON line per reply). With no words or
 * `--help` it prints the endpoints and their fields.
 */
export async function serviceCommand(
  service: string,
  argv: string[],
  out: (text: string) => void,
  deps: DynamicCommandDeps = {},
): Promise<number> {
  const { own, rest } = splitOptions(argv)
  const { global, values } = parseCommand(own, OPTION_SPEC)
  const firstFlag = rest.findIndex((token) => token.startsWith('-'))
  const words = firstFlag < 0 ? rest : rest.slice(0, firstFlag)
  const flags = firstFlag < 0 ? [] : rest.slice(firstFlag)
  const timeout = values.timeout === undefined ? undefined : durationOf(values.timeout as string)
  const metadata = parseMetadata((values.metadata as string[] | undefined) ?? [])
  const jsonText = values.json as string | undefined
  const given =
    jsonText === undefined || jsonText === '-' ? undefined : parseJsonArgument(jsonText, 'request')
  const session = openSession(global)
  try {
    const found = await findService(session, service, global.namespace)
    const where = { namespace: found.namespace, platform: session.platform }
    const endpoints = endpointsOf(found.records)
    if (words.length === 0) {
      if (flags.length > 0 && !global.help)
        throw new UsageError(
          `name an endpoint before the flags, e.g. micro ${service} <endpoint> ${flags[0]}`,
        )
      out(serviceHelp(service, endpoints, where))
      return 0
    }
    const endpoint = endpointFor(service, words, endpoints)
    if (!endpoint) throw unknownEndpoint(service, words, endpoints)
    if (global.help) {
      out(endpointHelp(service, endpoint, where))
      return 0
    }
    // No schema: any flag goes. A field named like one of the CLI's options is set with --json.
    const fields = endpoint.request
      ? fieldsOf(endpoint.request).filter((f) => !RESERVED_OPTIONS.has(f.path[0] as string))
      : undefined
    const options = { namespace: found.namespace, metadata, timeout }
    if (endpoint.metadata.stream === 'true') {
      const stdin = deps.stdin ?? process.stdin
      const messages = streamMessages(jsonText, given, flags, fields, stdin)
      await callStream(session, service, endpoint.name, messages, options, out)
      return 0
    }
    const base = jsonText === '-' ? parseJsonArgument(await readStdin(deps.stdin), 'request') : given
    const request =
      flags.length === 0 && base !== undefined ? base : requestFromFlags(flags, fields, objectOf(base))
    const reply = await session.call(service, endpoint.name, request, {
      ...options,
      timeout: timeout ?? 10_000,
    })
    out(JSON.stringify(reply, null, 2))
    return 0
  } finally {
    await session.close()
  }
}

/** The CLI's own options (and their values) apart from the request's words and flags. */
function splitOptions(argv: readonly string[]): { own: string[]; rest: string[] } {
  const own: string[] = []
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string
    if (token === '-h' || token === '--help') {
      own.push(token)
      continue
    }
    const name = token.startsWith('--') ? token.slice(2).split('=')[0] : undefined
    if (name === undefined || name === 'help' || !RESERVED_OPTIONS.has(name)) {
      rest.push(token)
      continue
    }
    own.push(token)
    // `--json '{...}'`: the value is the next argument, whatever it looks like.
    if (!token.includes('=') && i + 1 < argv.length) own.push(argv[++i] as string)
  }
  return { own, rest }
}

/** The service's records in the current namespace, else in `micro` (as Micro v3 looked up). */
async function findService(
  session: Session,
  service: string,
  namespace: string,
): Promise<{ namespace: string; records: readonly ServiceRecord[] }> {
  const namespaces = namespace === DEFAULT_NAMESPACE ? [namespace] : [namespace, DEFAULT_NAMESPACE]
  for (const candidate of namespaces) {
    try {
      return { namespace: candidate, records: await session.services.getService(service, candidate) }
    } catch (error) {
      if (!(error instanceof MicroError && error.code === 404)) throw error
    }
  }
  const searched = namespaces.join(' or ')
  const through = session.platform === undefined ? '' : ` on the platform at ${session.platform}`
  throw notFound(
    'micro.cli',
    `no service named ${service} in namespace ${searched}${through}; micro services lists them, micro --help the commands`,
  )
}

/** The endpoints of every version, each name once (the first version's schema wins). */
function endpointsOf(records: readonly ServiceRecord[]): EndpointRecord[] {
  const byName = new Map<string, EndpointRecord>()
  for (const record of records)
    for (const e of record.endpoints) if (!byName.has(e.name)) byName.set(e.name, e)
  return [...byName.values()]
}

function unknownEndpoint(
  service: string,
  words: readonly string[],
  endpoints: readonly EndpointRecord[],
): UsageError {
  const commands = endpoints.map((e) => commandWords(service, e.name).join(' '))
  const typed = words.join(' ')
  const near = closest(typed, commands)
  const list = near.length > 0 ? near : commands.sort()
  const hint = near.length > 0 ? 'did you mean' : 'it has'
  return new UsageError(
    `${service} has no endpoint for "${typed}"; ${hint}: ${list.map((c) => `micro ${service} ${c}`).join(', ')}`,
  )
}

/** The messages a streaming endpoint is sent: see DYNAMIC_OPTIONS and FLAG_RULES in help.ts. */
function streamMessages(
  jsonText: string | undefined,
  given: unknown,
  flags: readonly string[],
  fields: Parameters<typeof requestFromFlags>[1],
  stdin: NodeJS.ReadableStream,
): AsyncIterable<unknown> | Iterable<unknown> {
  if (jsonText === '-' || (jsonText === undefined && flags.length === 0)) {
    if (flags.length > 0) throw new UsageError('give the messages as flags or as lines of --json -, not both')
    return jsonLines(stdin, 'request')
  }
  if (Array.isArray(given)) {
    if (flags.length > 0) throw new UsageError('flags cannot be added to a --json array of messages')
    return given
  }
  return [flags.length === 0 ? given : requestFromFlags(flags, fields, objectOf(given))]
}

/** The JSON request flags are added to; undefined is an empty object. */
function objectOf(value: unknown): Record<string, unknown> {
  if (value === undefined) return {}
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
  throw new UsageError('flags set fields of a request object; --json gave something else')
}

function durationOf(text: string): number {
  try {
    return parseDuration(text, '--timeout')
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}
